"""New runs from the runs pane: a local kfp.local run streams into the log pane; a submit reaches the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from kftui.app import KftuiApp
from kftui.sandbox import Sandbox
from kftui.widgets.logpane import LogPane
from kftui.widgets.modals import ConfirmScreen
from kftui.widgets.runs import RunsView
from tests.helpers import until

ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 40)


@pytest.fixture
def env(fixed_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in fixed_sandbox.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    return fixed_sandbox



async def open_new_run_form(pilot: Any) -> Any:
    await pilot.press("3")
    await pilot.pause()
    await pilot.press("n")
    await until(pilot, lambda: pilot.app.screen.query("#field-pipeline"), "the new-run form", timeout=10)
    return pilot.app.screen


async def test_local_run_from_the_pane_streams_tasks_into_the_log(env: Any) -> None:
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_new_run_form(pilot)
        form.query_one("#field-pipeline").value = "examples/train_pipeline_local.py"
        form.query_one("#field-params").value = "epochs=2 samples=20"
        form.query_one("#field-where").value = "local"
        await pilot.press("ctrl+s")
        pane = app.screen.query_one(LogPane)

        def shown() -> list[str]:
            return list(pane.view.shown_lines())

        await until(pilot, lambda: any(line.startswith("✓ notify") for line in shown()), what="the last task", timeout=120)
        await until(pilot, lambda: "ended" in str(pane.state_text()), what="the run's end", timeout=120)
        lines = shown()
        for task in ("download-data", "train", "evaluate", "notify"):
            assert f"▶ {task}" in lines
        assert any(line.startswith("[train] ") for line in lines)  # the task's own log, not executor noise


async def test_bad_pipeline_path_is_named_in_the_form(env: Any) -> None:
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_new_run_form(pilot)
        form.query_one("#field-pipeline").value = "nowhere/missing.py"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "no file at nowhere/missing.py" in str(form.query_one("#error-pipeline").render())
        assert app.screen is form  # the form stays open


async def test_submit_from_the_pane_creates_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = Sandbox("demo", tmp_path / "sandbox", still=True)  # this test adds a run: not in the shared world
    for key, value in own.start().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    world = own.kfp.state
    before = set(world.runs)
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_new_run_form(pilot)
        form.query_one("#field-pipeline").value = "examples/train_pipeline_local.py"
        form.query_one("#field-where").value = "server"
        form.query_one("#field-experiment").value = "pane-tests"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the submit question", timeout=30)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and "Submit examples/train_pipeline_local.py" in confirm.question
        assert confirm.command is not None and confirm.command.startswith("kftui runs submit ")
        assert set(world.runs) == before  # nothing is sent before the answer
        await pilot.press("y")
        await until(pilot, lambda: set(world.runs) - before, "a new run on the server", timeout=60)
        [run_id] = set(world.runs) - before
        view = app.screen.query_one(RunsView)
        # shown and selected as soon as the server answered, not at the next poll
        await until(pilot, lambda: view.selected == f"run:{run_id}", "the new run selected", timeout=30)
        assert f"run:{run_id}" in [str(k.value) for k in view.query_one("#runs", DataTable).rows]
    own.stop()


async def test_a_finished_local_run_shows_its_log_when_selected(env: Any) -> None:
    from kftui import paths
    from kftui.pipelines.local import start_local_run

    record = start_local_run("examples/train_pipeline_local.py", {"epochs": "2", "samples": "20"}, paths.state_dir())
    record.wait()
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        view = app.screen.query_one(RunsView)
        await until(pilot, lambda: view.loaded_once, "the first runs poll", timeout=30)
        table = view.query_one("#runs", DataTable)
        keys = [str(k.value) for k in table.rows]
        table.focus()
        table.move_cursor(row=keys.index(f"local:{record.id}"))
        pane = app.screen.query_one(LogPane)

        def shown() -> list[str]:
            return list(pane.view.shown_lines())

        await until(pilot, lambda: any(ln.startswith("✓ notify") for ln in shown()), "the run's log", timeout=30)
        lines = shown()
        assert "▶ train" in lines and any(ln.startswith("[train] epoch 1") for ln in lines)
        assert f"local run {record.id}" in str(app.screen.query_one("#logs-pane").border_title)
