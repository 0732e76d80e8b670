"""Every wizard step as a user sees it (passing, failing, waiting), the fix dialog, the GPU planner and its
request form, and the deploy plan: snapshots on a still sandbox, plus the behaviour behind them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui import secrets
from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.operations.deploy import load_records
from kftui.sandbox import Sandbox
from kftui.sandbox.gcp.compute import project_state
from kftui.settings import State
from tests.deploy_world import MINI_RELATIVE, ready_scenario
from tests.helpers import press, tool, until, wait_for

SIZE = (120, 40)
PROJECT = "robot-ml-demo"
STEPS = ["account", "project", "billing", "apis", "iam", "oauth", "gpu", "deploy"]
GPU_PLAN = {"project": PROJECT, "gpu_type": "nvidia-tesla-t4", "gpu_count": "1", "gpu_max_nodes": "1"}


@pytest.fixture
def own_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A still sandbox for one test, since these tests change its world (enable an API, raise quota)."""
    tool("gcloud")  # the account step runs the real gcloud
    sb = Sandbox("demo", tmp_path / "sandbox", still=True)
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    yield sb
    sb.stop()


@pytest.fixture
def env(fixed_path_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fixed-path sandbox: the account step shows the ADC file's path."""
    for key, value in fixed_path_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return fixed_path_sandbox


def app_with(sandbox: Any, **answers: str) -> KftuiApp:
    return KftuiApp(
        services=Services(now=lambda: sandbox.epoch), mode="setup", state=State(answers=dict(answers)), persist=False
    )


async def settle(pilot: Any, timeout: float = 60) -> None:
    """Wait until no step is running (each either done or waiting for an answer)."""
    for _ in range(int(timeout / 0.05)):
        views = getattr(pilot.app.screen, "views", {})
        if views and all(v.phase in ("done", "waiting") for v in views.values()):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the wizard's steps did not settle")



async def highlight(pilot: Any, step_id: str) -> None:
    steps = pilot.app.screen.query_one("#steps")
    steps.highlighted = steps.get_option_index(step_id)
    await pilot.pause()


def statuses(app: KftuiApp) -> dict[str, str]:
    return {sid: v.badge for sid, v in app.screen.views.items()}


async def test_demo_story_statuses(env: Any) -> None:
    app = app_with(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        found = statuses(app)
    assert found["apis"] == "fail" and found["iam"] == "fail"
    assert found["billing"] == "pass" and found["project"] == "pass"
    assert found["oauth"] == "warn"  # no organization: a custom OAuth client is needed
    assert found["deploy"] == "waiting"


@pytest.mark.parametrize("step", STEPS)
def test_snapshot_each_step(env: Any, snap_compare: Any, step: str) -> None:
    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, step)

    assert snap_compare(app_with(env), terminal_size=SIZE, run_before=show)


def test_snapshot_fix_dialog(env: Any, snap_compare: Any) -> None:
    async def open_dialog(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "apis")
        await press(pilot, "f")
        await pilot.pause()

    assert snap_compare(app_with(env), terminal_size=SIZE, run_before=open_dialog)


async def test_api_fix_enables_the_api_and_the_step_turns_green(own_sandbox: Sandbox) -> None:
    app = app_with(own_sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert statuses(app)["apis"] == "fail"
        await highlight(pilot, "apis")
        await press(pilot, "f")
        await pilot.pause()
        await press(pilot, "y")
        for _ in range(600):
            await pilot.pause(0.05)
            if statuses(app)["apis"] == "pass":
                break
        assert statuses(app)["apis"] == "pass"
    enabled = own_sandbox.gcp.state.sent("POST", "services:batchEnable")
    assert len(enabled) == 1 and enabled[0].body["serviceIds"] == ["container.googleapis.com"]


def test_snapshot_gpu_planner_feasible_and_blocked_rows(own_sandbox: Sandbox, snap_compare: Any) -> None:
    quotas = project_state(own_sandbox.gcp.state, PROJECT)
    assert quotas is not None
    quotas["quotas"]["GPUS_ALL_REGIONS"]["limit"] = 4  # global quota granted; us-central1 T4 still 0

    seen: dict[str, Any] = {}

    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "gpu")
        seen["findings"] = list(pilot.app.screen.views["gpu"].findings)

    app = app_with(own_sandbox, **GPU_PLAN)
    assert snap_compare(app, terminal_size=SIZE, run_before=show)
    plan = next(f for f in seen["findings"] if f.id == "gpu.plan")
    assert plan.table is not None
    feasible = {row[1] for row, st in zip(plan.table.rows, plan.table.row_status, strict=True) if st == "pass"}
    blocked = {row[1] for row, st in zip(plan.table.rows, plan.table.row_status, strict=True) if st == "fail"}
    assert "europe-west4-a" in feasible
    assert "us-central1-a" in blocked


def test_snapshot_quota_request_form(env: Any, snap_compare: Any) -> None:
    async def open_form(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "gpu")
        await press(pilot, "f")
        await until(pilot, lambda: pilot.app.screen.query("#choices") or pilot.app.screen.query("#field-quota_value"),
                    what="the fix choices or the quota form")
        if pilot.app.screen.query("#choices"):
            await press(pilot, "enter")  # the first fix: the global GPU quota
        await until(pilot, lambda: pilot.app.screen.query("#field-quota_value"), what="the quota form")
        await pilot.pause()

    assert snap_compare(app_with(env, **GPU_PLAN, email="ada@example.com"), terminal_size=SIZE, run_before=open_form)


async def test_quota_request_form_files_what_was_typed(own_sandbox: Sandbox) -> None:
    app = app_with(own_sandbox, **GPU_PLAN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight(pilot, "gpu")
        await press(pilot, "f")
        await until(pilot, lambda: app.screen.query("#choices") or app.screen.query("#field-quota_value"),
                    what="the fix choices or the quota form")
        if app.screen.query("#choices"):
            await press(pilot, "enter")
        await until(pilot, lambda: app.screen.query("#field-quota_value"), what="the quota form")
        form = app.screen
        form.query_one("#field-quota_value").value = "2"
        form.query_one("#field-email").value = "not-an-email"
        await press(pilot, "ctrl+s")
        await pilot.pause()
        assert "email" in str(form.query_one("#error-email").render()).lower()  # the form stays and says why
        form.query_one("#field-email").value = "ada@example.com"
        await press(pilot, "ctrl+s")
        await pilot.pause()
        await press(pilot, "y")
        for _ in range(400):
            await pilot.pause(0.05)
            if own_sandbox.gcp.state.sent("POST", "quotaPreferences"):
                break
    filed = own_sandbox.gcp.state.sent("POST", "quotaPreferences")
    assert len(filed) == 1
    body = filed[0].body
    assert body["quotaConfig"]["preferredValue"] in ("2", 2)
    assert body["contactEmail"] == "ada@example.com"


def test_snapshot_deploy_plan(env: Any, snap_compare: Any) -> None:
    seen: dict[str, Any] = {}

    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "deploy")
        seen.update({f.id: f for f in pilot.app.screen.views["deploy"].findings})

    app = app_with(env, **GPU_PLAN, zone="us-central1-a", cluster_name="kubeflow")
    assert snap_compare(app, terminal_size=SIZE, run_before=show)
    findings = seen
    assert findings["deploy.checks"].status == "fail"  # quota 0 and earlier steps failing: the plan is refused


def _world(sandbox: Sandbox) -> dict[str, Any]:
    """The live demo project the fake GCP serves (tests change it to show the other outcome of a step)."""
    project: dict[str, Any] = sandbox.gcp.state.scenario["projects"][PROJECT]
    return project


OTHER_OUTCOME = {
    "apis": lambda p: p["services"].update({"container.googleapis.com": "ENABLED"}),
    "iam": lambda p: p["iam"].update({"granted": ["*"], "denied": []}),
    "billing": lambda p: p["billing"].update({"enabled": False}),
    "oauth": lambda p: p.update({"parent": "organizations/424242424242"}),
}


@pytest.mark.parametrize("step", sorted(OTHER_OUTCOME))
def test_snapshot_step_other_outcome(own_sandbox: Sandbox, snap_compare: Any, step: str) -> None:
    """The demo shows apis/iam failing and billing passing; here each shows its other face."""
    OTHER_OUTCOME[step](_world(own_sandbox))
    seen: dict[str, str] = {}

    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, step)
        seen["badge"] = pilot.app.screen.views[step].badge

    assert snap_compare(app_with(own_sandbox), terminal_size=SIZE, run_before=show)
    assert seen["badge"] == {"apis": "pass", "iam": "pass", "billing": "fail", "oauth": "warn"}[step]


def test_snapshot_project_that_cannot_be_seen(own_sandbox: Sandbox, snap_compare: Any) -> None:
    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "project")

    app = app_with(own_sandbox, project="acme-prod-ml")
    assert snap_compare(app, terminal_size=SIZE, run_before=show)


@pytest.fixture
def deploy_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A still world where every earlier step passes and GKE operations finish after one poll."""
    tool("gcloud")  # the account step runs the real gcloud
    sb = Sandbox(ready_scenario(tmp_path / "scenario", polls_to_done=1), tmp_path / "sandbox", still=True)
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    yield sb
    sb.stop()


def test_snapshot_deploy_progress(deploy_sandbox: Sandbox, snap_compare: Any) -> None:
    """The deploy fix run from the wizard: one line per cluster, pool, component and phase, kept when done."""
    seen: dict[str, Any] = {}
    store = secrets.default_store()
    store.put("dex_password", "a-long-test-password")

    async def deploy(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "deploy")
        view = pilot.app.screen.views["deploy"]
        assert any(f.fixes for f in view.findings), [(f.id, f.status, f.title) for f in view.findings]
        await press(pilot, "f")
        await pilot.pause()
        await press(pilot, "enter")  # the first fix offered: deploy (the second saves the script)
        await pilot.pause()
        seen["confirm"] = str(pilot.app.screen.query_one(".command").render())
        await press(pilot, "y")
        for _ in range(1200):
            if view.last_fix:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        seen["last_fix"], seen["ok"] = list(view.last_fix), view.last_ok
        seen["state"] = {f.id: f for f in view.findings}["deploy.state"]
        seen["context"] = pilot.app.services.options.context
        pilot.app.clear_notifications()  # the toast repeats the last line; its 5 s would race the snapshot
        await pilot.pause()

    app = app_with(deploy_sandbox, **GPU_PLAN, zone="us-central1-a", cluster_name="kubeflow",
                   manifests=MINI_RELATIVE)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=deploy)
    finally:
        store.delete("dex_password")
    assert seen["ok"], seen["last_fix"]
    assert "kftui deploy" in seen["confirm"]
    lines = seen["last_fix"]
    assert sum(line.startswith("cluster kubeflow:") for line in lines) == 1  # folded: one line per subject
    assert "cluster kubeflow: done in 0:00" in lines and "node pool gpu-pool: done in 0:00" in lines
    assert any(line.startswith("component kubeflow-mini: 10 applied") for line in lines)  # CRD first, then waited for
    assert not any(line.startswith("retry ") for line in lines)
    assert "password: Dex's password for user@example.com replaced (bcrypt)" in lines
    assert not any("a-long-test-password" in line for line in lines)
    assert seen["state"].status == "pass"
    assert seen["context"] == "gke_robot-ml-demo_us-central1-a_kubeflow"  # watch mode follows the new cluster
    creates = [r for r in deploy_sandbox.gcp.state.sent("POST", "/clusters") if r.path.endswith("/clusters")]
    assert len(creates) == 1


def test_snapshot_deploy_in_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Any) -> None:
    """While GKE creates the cluster: the live line (⟳) updates in place instead of scrolling a log."""
    tool("gcloud")  # the account step runs the real gcloud
    sb = Sandbox(ready_scenario(tmp_path / "scenario", polls_to_done=10**6), tmp_path / "sandbox", still=True)
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    seen: dict[str, Any] = {}

    async def deploy(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "deploy")
        view = pilot.app.screen.views["deploy"]
        await press(pilot, "f", "enter", "y")
        for _ in range(600):
            polls = sb.gcp.state.sent("GET", "/operations/")
            if len(polls) >= 2:
                break
            await pilot.pause(0.05)
        setup = pilot.app.screen
        await press(pilot, "f2")  # to watch mode and back: the deploy goes on meanwhile
        await until(pilot, lambda: pilot.app.screen is not setup)
        polls = len(sb.gcp.state.sent("GET", "/operations/"))
        await until(pilot, lambda: len(sb.gcp.state.sent("GET", "/operations/")) > polls)
        await press(pilot, "f2")
        await until(pilot, lambda: pilot.app.screen is setup)
        await pilot.pause(0.1)
        seen["progress"] = list(view.progress)

    try:
        assert snap_compare(app_with(sb, **GPU_PLAN, zone="us-central1-a", cluster_name="kubeflow",
                                     manifests=MINI_RELATIVE), terminal_size=SIZE, run_before=deploy)
        # the app has quit mid-deploy: the runner stops at its next wait and records where
        wait_for(lambda: load_records().get(f"{PROJECT}/us-central1-a/kubeflow", {}).get("interrupted"),
                 timeout=10, what="the deploy to record that it was stopped")
        assert load_records()[f"{PROJECT}/us-central1-a/kubeflow"]["interrupted"] == "cluster"
    finally:
        sb.stop()
    assert seen["progress"] == [
        "applying: deploy",
        "deploying Kubeflow 26.03 to gke_robot-ml-demo_us-central1-a_kubeflow",
        "cluster kubeflow: CREATE_CLUSTER RUNNING (0:00)",
    ]


async def test_plan_saved_as_a_script_from_the_screen(env: Any, tmp_path: Path) -> None:
    """Even a blocked plan can be saved for review: f, the path (validated as typed), confirm, an executable file."""
    app = app_with(env, **GPU_PLAN, zone="us-central1-a", cluster_name="ml-gpu")
    target = tmp_path / "review" / "deploy.sh"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight(pilot, "deploy")
        await press(pilot, "f")  # blocked: saving is the only fix offered, so no chooser
        await until(pilot, lambda: pilot.app.screen.query("#field-script_path"))
        field = pilot.app.screen.query_one("#field-script_path")
        assert field.value.endswith("deploy-ml-gpu.sh")
        field.value = str(target)  # its directory does not exist yet
        await pilot.pause()
        error = str(pilot.app.screen.query_one("#error-script_path").render())
        assert "the directory" in error and "does not exist" in error
        target.parent.mkdir()
        field.value = str(target)
        await pilot.pause()
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: pilot.app.screen.query(".command"))
        confirm = str(pilot.app.screen.query_one(".command").render())
        assert "kftui deploy --plan-only --project robot-ml-demo" in confirm and confirm.endswith(f"> {target}")
        await press(pilot, "y")
        await until(pilot, target.exists)
    text = target.read_text()
    assert "gcloud container clusters create ml-gpu" in text and "--accelerator" in text
    assert target.stat().st_mode & 0o111
