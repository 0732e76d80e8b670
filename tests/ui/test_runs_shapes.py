"""The runs view on the real backend's shapes: a retried task shows its attempts (the last one selected), a loop its
iterations with the failing one's task selected, a cache hit marked; snapshots at 80x24 and 140x44."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Tree

from kftui.app import KftuiApp
from kftui.core.runs import RunState
from kftui.factory import Services
from kftui.sandbox import SCENARIOS, Sandbox
from kftui.widgets.runs import RunsView
from tests.helpers import settled, until

EXTRA = Path(__file__).resolve().parents[1] / "data" / "kfp_shapes" / "kfp_zz_shapes.yaml"
RETRIED = "5e0c9a41-7d2b-4f18-a6c3-1b9e8d4f2a70"
LOOPED = "9b1f3c27-4e6a-4d85-b0f2-6c8a2e7d9f13"
SMALL, LARGE = (80, 24), (140, 44)


@pytest.fixture(scope="module")
def shapes_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A still sandbox: the demo world plus a retried and a looped run (shared by this module's tests)."""
    scenario = tmp_path_factory.mktemp("shapes-scenario")
    for path in (SCENARIOS / "demo").glob("*.yaml"):
        shutil.copy(path, scenario / path.name)
    shutil.copy(EXTRA, scenario / EXTRA.name)
    sb = Sandbox(scenario, tmp_path_factory.mktemp("shapes-sandbox"), still=True)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def shapes(shapes_world: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The shapes sandbox, with the environment pointing at it for one test (after the offline defaults)."""
    for key, value in shapes_world.env.items():
        monkeypatch.setenv(key, value)
    return shapes_world


def pinned(sandbox: Sandbox) -> KftuiApp:
    """The watch app with its clock pinned to the KFP world's start."""
    services = Services(None)
    start: datetime = sandbox.kfp.state.now
    services.now = lambda: start  # type: ignore[method-assign,assignment,unused-ignore]
    return KftuiApp(services=services, mode="watch", persist=False)


async def open_run(pilot: Any, run_id: str) -> RunsView:
    """Show the runs tab and put the cursor on one run."""
    from kftui.widgets.notebooks import NotebooksView

    notebooks = pilot.app.screen.query_one(NotebooksView)
    await until(pilot, lambda: notebooks.known, what="the notebooks view's first poll")
    await pilot.pause()
    await pilot.press("3")
    view: RunsView = pilot.app.screen.query_one(RunsView)
    await until(pilot, lambda: view.loaded_once, what="the first runs poll")
    pane = pilot.app.screen.query_one("#top-pane")
    await until(pilot, lambda: "runs · " in str(pane.border_title), what="the pane title counting the runs")
    table = view.query_one("#runs", DataTable)
    table.focus()
    table.move_cursor(row=[str(k.value) for k in table.rows].index(f"run:{run_id}"))
    await until(pilot, lambda: view.detail is not None and view.detail.row.id == run_id, what="the run's tree")
    await until(pilot, lambda: view.followed is not None, what="a row's log or note")
    await pilot.pause()
    return view


def _tree_labels(view: RunsView) -> list[str]:
    tree: Tree[Any] = view.query_one("#run-tasks", Tree)
    out = []

    def walk(node: Any, depth: int) -> None:
        for child in node.children:
            out.append("  " * depth + str(child.label.plain if hasattr(child.label, "plain") else child.label))
            walk(child, depth + 1)

    walk(tree.root, 0)
    return out


async def test_retried_task_shows_its_attempts_with_the_last_selected(shapes: Sandbox) -> None:
    app = pinned(shapes)
    async with app.run_test(size=LARGE) as pilot:
        view = await open_run(pilot, RETRIED)
        labels = _tree_labels(view)
        assert labels[0].startswith("✓ fetch-images SUCCEEDED 3m")
        assert labels[1].startswith("▶ augment (2 attempts) RUNNING 47m…")
        assert labels[2].strip().startswith("✗ attempt 1 FAILED 3m")
        assert labels[3].strip().startswith("▶ attempt 2 RUNNING 44m…")
        assert view.task_id == "augment-pipeline-r7t2w.root.augment.executor(1)"


async def test_loop_shows_iterations_and_selects_the_failing_one(shapes: Sandbox) -> None:
    app = pinned(shapes)
    async with app.run_test(size=LARGE) as pilot:
        view = await open_run(pilot, LOOPED)
        labels = [label.strip() for label in _tree_labels(view)]
        assert labels[0].startswith("✓ prep SUCCEEDED cached")
        assert labels[1].startswith("▶ for-loop-2 RUNNING")
        assert [label.split()[1:4] for label in labels[2:8:2]] == [
            ["iteration", "0", "SUCCEEDED"],
            ["iteration", "1", "FAILED"],
            ["iteration", "2", "RUNNING"],
        ]
        assert not any("report" in label for label in labels)  # not started: Argo has no node for it yet
        wf = "eval-sweep-l5k9p.root.for-loop-2"
        assert view.task_id == f"{wf}.iteration-iterations(1:1).iteration-item.evaluate"
        assert view.detail is not None
        [failing] = view.detail.failed_tasks()
        assert failing.state is RunState.FAILED and failing.id == view.task_id


async def _retried(pilot: Any) -> None:
    await open_run(pilot, RETRIED)
    await settled(pilot)


async def _looped(pilot: Any) -> None:
    await open_run(pilot, LOOPED)
    await settled(pilot)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "140x44"])
def test_snapshot_retried_run(shapes: Sandbox, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(pinned(shapes), terminal_size=size, run_before=_retried)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "140x44"])
def test_snapshot_loop_run(shapes: Sandbox, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(pinned(shapes), terminal_size=size, run_before=_looped)
