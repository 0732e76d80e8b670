"""The setup wizard and its dialogs on the smallest terminal people use (80x24) and a large one (200x60).

The wizard's other snapshots are at 120x40; these catch what only a small terminal shows (cut keys, a step list
that hides the details, a dialog taller than the screen) and what only a wide one shows (text that stops growing).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.test_wizard_snapshots import GPU_PLAN, app_with, highlight, settle

SIZES = [(80, 24), (200, 60)]


@pytest.fixture
def env(fixed_path_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fixed-path sandbox: the account step shows the ADC file's path."""
    for key, value in fixed_path_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return fixed_path_sandbox


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("step", ["iam", "gpu"])
def test_snapshot_failing_step(env: Any, snap_compare: Any, step: str, size: tuple[int, int]) -> None:
    async def show(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, step)

    assert snap_compare(app_with(env, **GPU_PLAN), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_fix_dialog(env: Any, snap_compare: Any, size: tuple[int, int]) -> None:
    async def open_dialog(pilot: Any) -> None:
        await settle(pilot)
        await highlight(pilot, "apis")
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(app_with(env), terminal_size=size, run_before=open_dialog)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_help(env: Any, snap_compare: Any, size: tuple[int, int]) -> None:
    async def open_help(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_with(env), terminal_size=size, run_before=open_help)


async def test_question_mark_lists_the_setup_keys_and_closes_again(env: Any) -> None:
    from kftui.widgets.help import HelpScreen

    app = app_with(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {(k, w) for _where, k, w in app.screen.rows}
        assert {("e", "Answer"), ("f", "Apply fix"), ("R", "Re-check all"), ("f2", "Setup/Watch")} <= keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
