"""Setup mode against the sandbox: steps run in workers, findings stream in, answers are remembered."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.core.findings import Status

SIZE = (120, 40)


async def wait_steps_done(pilot: Any, timeout: float = 60) -> None:
    """Let every step worker finish (polling the screen's own state, not sleeping a fixed time)."""
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        views = getattr(pilot.app.screen, "views", {})
        if views and all(v.phase in ("done", "waiting") for v in views.values()):
            await pilot.pause()
            return
    raise AssertionError("setup steps did not finish")


@pytest.fixture
def env(fixed_path_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in fixed_path_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return dict(fixed_path_sandbox.env)


async def test_account_step_passes_and_learns_the_project(env: dict[str, str]) -> None:
    app = KftuiApp(mode="setup", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_steps_done(pilot)
        view = app.screen.views["account"]
        statuses = {f.id: f.status for f in view.findings}
        assert statuses["account.adc"] == Status.PASS
        assert statuses["account.match"] == Status.PASS
        assert statuses["account.auth-plugin"] == (
            Status.PASS if shutil.which("gke-gcloud-auth-plugin") else Status.FAIL
        )
        assert app.state.answers["project"] == "robot-ml-demo"


async def test_missing_adc_fails_with_the_login_command(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    app = KftuiApp(mode="setup", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_steps_done(pilot)
        adc = next(f for f in app.screen.views["account"].findings if f.id == "account.adc")
        assert adc.status == Status.FAIL
        assert adc.fixes[0].command == "gcloud auth application-default login"


async def test_answers_survive_a_restart(env: dict[str, str]) -> None:
    app = KftuiApp(mode="setup", persist=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_steps_done(pilot)
    again = KftuiApp(mode="setup", persist=True)
    assert again.state.answers["project"] == "robot-ml-demo"


def test_snapshot_setup_passing(env: dict[str, str], snap_compare: Any) -> None:
    assert snap_compare(KftuiApp(mode="setup", persist=False), terminal_size=SIZE, run_before=wait_steps_done)


def test_snapshot_setup_failing_adc(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, snap_compare: Any) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    assert snap_compare(KftuiApp(mode="setup", persist=False), terminal_size=SIZE, run_before=wait_steps_done)


async def test_details_scroll_by_keyboard(env: dict[str, str]) -> None:
    """Tab moves to the details (long for the deploy step), the keys scroll them, Tab goes back to the steps."""
    from kftui.settings import State

    answers = {"project": "robot-ml-demo", "gpu_type": "nvidia-tesla-t4", "gpu_count": "1", "gpu_max_nodes": "1",
               "zone": "us-central1-a"}
    app = KftuiApp(mode="setup", persist=False, state=State(answers=answers))
    async with app.run_test(size=SIZE) as pilot:
        await wait_steps_done(pilot)
        steps = app.screen.query_one("#steps")
        steps.highlighted = steps.get_option_index("deploy")
        await pilot.pause()
        detail = app.screen.query_one("#step-detail")
        assert detail.max_scroll_y > 0  # the plan, its checks and the script do not fit
        await pilot.press("tab")
        assert app.focused is detail
        await pilot.press("pagedown")
        await pilot.pause()
        assert detail.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y
        await pilot.press("shift+tab")
        assert app.focused is steps
