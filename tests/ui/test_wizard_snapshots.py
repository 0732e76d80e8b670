"""Every wizard step as a user sees it (passing, failing, waiting), the fix dialog, the GPU planner and its
request form, and the deploy plan: snapshots on a still sandbox, plus the behaviour behind them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.sandbox import Sandbox
from kftui.sandbox.gcp.compute import project_state
from kftui.settings import State

SIZE = (120, 40)
PROJECT = "robot-ml-demo"
STEPS = ["account", "project", "billing", "apis", "iam", "oauth", "gpu", "deploy"]
GPU_PLAN = {"project": PROJECT, "gpu_type": "nvidia-tesla-t4", "gpu_count": "1", "gpu_max_nodes": "1"}


@pytest.fixture
def own_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A still sandbox for one test, since these tests change its world (enable an API, raise quota)."""
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
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(app_with(env), terminal_size=SIZE, run_before=open_dialog)


async def test_api_fix_enables_the_api_and_the_step_turns_green(own_sandbox: Sandbox) -> None:
    app = app_with(own_sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert statuses(app)["apis"] == "fail"
        await highlight(pilot, "apis")
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("y")
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
        await pilot.press("f")
        await pilot.pause()
        if pilot.app.screen.query("#choices"):
            await pilot.press("enter")  # the first fix: the global GPU quota
        await pilot.pause()

    assert snap_compare(app_with(env, **GPU_PLAN, email="ada@example.com"), terminal_size=SIZE, run_before=open_form)


async def test_quota_request_form_files_what_was_typed(own_sandbox: Sandbox) -> None:
    app = app_with(own_sandbox, **GPU_PLAN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight(pilot, "gpu")
        await pilot.press("f")
        await pilot.pause()
        if app.screen.query("#choices"):
            await pilot.press("enter")
            await pilot.pause()
        form = app.screen
        form.query_one("#field-quota_value").value = "2"
        form.query_one("#field-email").value = "not-an-email"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "email" in str(form.query_one("#error-email").render()).lower()  # the form stays and says why
        form.query_one("#field-email").value = "ada@example.com"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
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
    assert seen["badge"] == {"apis": "pass", "iam": "pass", "billing": "fail", "oauth": "pass"}[step]


def test_snapshot_project_that_cannot_be_seen(own_sandbox: Sandbox, snap_compare: Any) -> None:
    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "project")

    app = app_with(own_sandbox, project="acme-prod-ml")
    assert snap_compare(app, terminal_size=SIZE, run_before=show)
