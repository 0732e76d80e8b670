"""The runs view against the sandbox's KFP and Kubernetes: runs with states, a failed task's log, gone pods explained."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from textual.widgets import DataTable, Static, Tree

from kftui.app import KftuiApp
from kftui.core.runs import RunState
from kftui.factory import Options, Services
from kftui.widgets.logview import LogView
from kftui.widgets.modals import ConfirmScreen
from kftui.widgets.runs import RunsView
from tests.adapters.kfp_fixtures import (
    FAILED_RUN,
    OLD_RUN,
    RUNNING_RUN,
    KfpSandbox,
    demo_scenario,
    start_kfp,
)
from tests.helpers import closed_port, settled, until

SIZE = (140, 44)
TRAIN_POD = "training-pipeline-x7k2q-system-container-impl-2950846120"
WF = "training-pipeline-x7k2q"
PROFILE = "kubeflow-user-example-com"



@pytest.fixture
def env(fixed_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in fixed_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return fixed_sandbox


@pytest.fixture
def own_kfp() -> Iterator[KfpSandbox]:
    """A private KFP world for tests that change runs (the shared one must stay as the scenario says)."""
    sandbox, stop = start_kfp(demo_scenario())
    try:
        yield sandbox
    finally:
        stop()


def pinned(sandbox: Any, options: Options | None = None) -> KftuiApp:
    """The watch app with its clock pinned to the KFP world's start, so every age reads as the scenario says."""
    services = Services(options)
    start: datetime = sandbox.kfp.state.now
    services.now = lambda: start  # type: ignore[method-assign,assignment,unused-ignore]
    return KftuiApp(services=services, mode="watch", persist=False)


def confirm_command(app: KftuiApp) -> str:
    """The equivalent command the confirmation shows."""
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return str(screen.command)


def view_of(app: KftuiApp) -> RunsView:
    return app.screen.query_one(RunsView)


def log_lines(app: KftuiApp) -> list[str]:
    return list(app.screen.query_one(LogView).lines)


def log_status(app: KftuiApp) -> str:
    return str(app.screen.query_one("#log-status", Static).render())


async def open_runs(pilot: Any) -> RunsView:
    """Let the hidden notebooks view settle first (it also talks to the shared panes), then show the runs tab."""
    from kftui.widgets.notebooks import NotebooksView

    notebooks = pilot.app.screen.query_one(NotebooksView)
    await until(pilot, lambda: notebooks.known, what="the notebooks view's first poll")
    await pilot.pause()
    await pilot.press("3")
    view = view_of(pilot.app)
    await until(pilot, lambda: view.loaded_once, what="the first runs poll")
    pane = pilot.app.screen.query_one("#top-pane")
    await until(pilot, lambda: "runs · " in str(pane.border_title), what="the pane title counting the runs")
    return view


async def show_state(pilot: Any, view: RunsView, name: str) -> None:
    """Press `s` until the state filter reads `name`."""
    for _ in range(4):
        if _filter_name(view) == name:
            return
        await pilot.press("s")
    assert _filter_name(view) == name


def _filter_name(view: RunsView) -> str:
    from kftui.widgets.runs import STATE_FILTERS

    return STATE_FILTERS[view.state_index][0]


async def test_runs_are_listed_with_states_and_filtered(env: Any) -> None:
    app = pinned(env)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        table = view.query_one("#runs", DataTable)
        assert [str(k.value) for k in table.rows] == [f"run:{RUNNING_RUN}", f"run:{FAILED_RUN}", f"run:{OLD_RUN}"]
        assert str(table.get_cell(f"run:{FAILED_RUN}", "state")) == "FAILED"
        assert str(table.get_cell(f"run:{FAILED_RUN}", "duration")) == "40m"
        assert str(table.get_cell(f"run:{OLD_RUN}", "created")) == "7d2h"
        assert str(table.get_cell(f"run:{RUNNING_RUN}", "state")) == "RUNNING"
        await show_state(pilot, view, "succeeded")
        assert [str(k.value) for k in table.rows] == [f"run:{OLD_RUN}"]
        await show_state(pilot, view, "running")
        assert [str(k.value) for k in table.rows] == [f"run:{RUNNING_RUN}"]
        await pilot.press("e")  # the one experiment
        assert view.experiment == "robot-grasping"
        assert "experiment: robot-grasping" in str(view.query_one("#runs-status", Static).render())
        await pilot.press("e")  # back to all
        assert view.experiment is None


async def test_failed_run_preselects_its_failing_task_and_shows_the_traceback(env: Any) -> None:
    app = pinned(env)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        await show_state(pilot, view, "failed")
        assert view.selected == f"run:{FAILED_RUN}"
        await until(pilot, lambda: view.task_id == f"{WF}.root.train", what="the failing task pre-selected")
        tree = view.query_one("#run-tasks", Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.name == "train" and tree.cursor_node.data.state is RunState.FAILED
        await until(pilot, lambda: any(ln.startswith("RuntimeError: CUDA out of memory") for ln in log_lines(app)),
                    what="the train pod's traceback in the log pane")
        lines = log_lines(app)
        assert "Traceback (most recent call last):" in lines
        assert lines[-1].startswith("RuntimeError: CUDA out of memory")
        assert TRAIN_POD in str(app.screen.query_one("#logs-pane").border_title)
        details = str(app.screen.query_one("#details", Static).render())
        assert "failed tasks: train" in details  # task_details carry no error text: the log pane does
        # moving up the tree follows download-data's Completed pod instead
        await pilot.click("#run-tasks")
        await pilot.press("up")
        await until(pilot, lambda: view.task_id == f"{WF}.root.download-data", what="download-data highlighted")
        await until(pilot, lambda: "Downloaded 1.2 GiB in 38.4 s" in log_lines(app), what="download-data's log")


async def test_run_whose_pods_are_gone_is_explained_plainly(env: Any) -> None:
    app = pinned(env)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        await show_state(pilot, view, "succeeded")
        assert view.selected == f"run:{OLD_RUN}"
        await until(pilot, lambda: "garbage-collected" in log_status(app), what="the gone note in the log status")
        status = log_status(app)
        assert "the run finished at " in status
        assert "its pods were garbage-collected, so the live log is gone" in status
        assert "kubectl logs is no longer possible" in status and "artifact store" in status
        assert "the API still knows: task notify SUCCEEDED after 3m" in status
        assert log_lines(app) == []
        assert view.pods == {}  # none: the label finds nothing, so nothing is pretended


async def test_unreachable_pipelines_api_is_a_message_in_the_view(env: Any) -> None:
    port = closed_port()
    app = pinned(env, Options(kfp_host=f"http://127.0.0.1:{port}"))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        status = view.query_one("#runs-status", Static)
        assert f"cannot reach the pipelines API at http://127.0.0.1:{port}: connection refused" in str(status.render())
        assert view.query_one("#runs", DataTable).row_count == 0
        await pilot.press("s")  # the app still answers keys
        assert "state: running" in str(status.render())
        listed = view.source.listed
        await pilot.press("r")  # the feed keeps listing after a failure: `r` lists again at once
        await until(pilot, lambda: view.source.listed > listed, what="another listing")
        assert "cannot reach the pipelines API" in str(status.render())


async def test_terminate_asks_with_the_rest_call_then_cancels(env: Any, own_kfp: KfpSandbox) -> None:
    app = pinned(env, Options(kfp_host=own_kfp.url))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        await until(pilot, lambda: view.selected == f"run:{RUNNING_RUN}", what="the running run selected")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert confirm_command(app) == f"curl -X POST {own_kfp.url}/apis/v2beta1/runs/{RUNNING_RUN}:terminate"
        await pilot.press("y")
        await until(pilot, lambda: own_kfp.world.runs[RUNNING_RUN].state in ("CANCELING", "CANCELED"),
                    what="the run terminated on the server")
        table = view.query_one("#runs", DataTable)
        await until(pilot, lambda: str(table.get_cell(f"run:{RUNNING_RUN}", "state")) in ("CANCELING", "CANCELED"),
                    what="the table refreshed")


async def test_retry_is_refused_for_a_running_run_and_sent_for_a_failed_one(env: Any, own_kfp: KfpSandbox) -> None:
    app = pinned(env, Options(kfp_host=own_kfp.url))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        await until(pilot, lambda: view.selected == f"run:{RUNNING_RUN}", what="the running run selected")
        await pilot.press("R")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)  # KFP would reject it: say so instead of asking
        await show_state(pilot, view, "failed")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert confirm_command(app).endswith(f"/runs/{FAILED_RUN}:retry")
        await pilot.press("y")
        await until(pilot, lambda: own_kfp.world.runs[FAILED_RUN].state != "FAILED", what="the run retried")


async def test_archive_removes_the_run_from_the_list(env: Any, own_kfp: KfpSandbox) -> None:
    app = pinned(env, Options(kfp_host=own_kfp.url))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        await show_state(pilot, view, "succeeded")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert f"run archive {OLD_RUN}" in confirm_command(app)
        await pilot.press("y")
        table = view.query_one("#runs", DataTable)
        await until(pilot, lambda: f"run:{OLD_RUN}" not in [str(k.value) for k in table.rows], what="run archived")
        assert f"run:{OLD_RUN}" not in view.items


# ---- snapshots ---------------------------------------------------------------------------------


async def _runs_table(pilot: Any) -> None:
    view = await open_runs(pilot)
    await until(pilot, lambda: view.detail is not None and view.followed is not None, what="first run's detail")
    await settled(pilot)


async def _skipped_task(pilot: Any) -> None:
    """The failed run's tree, focused, on a task that never ran (the gone-pods note carries a wall-clock time)."""
    view = await open_runs(pilot)
    await show_state(pilot, view, "failed")
    await until(pilot, lambda: view.task_id == f"{WF}.root.train", what="the failing task pre-selected")
    await pilot.press("tab")  # focus the task tree
    await pilot.press("down")
    await until(pilot, lambda: "never ran" in log_status(pilot.app), what="the skipped task explained")
    await settled(pilot)


async def _failed_logs(pilot: Any) -> None:
    view = await open_runs(pilot)
    await show_state(pilot, view, "failed")
    await until(pilot, lambda: any(ln.startswith("RuntimeError: CUDA out of memory") for ln in log_lines(pilot.app)),
                what="the traceback")
    await until(pilot, lambda: "ended" in log_status(pilot.app), what="the log stream to end")
    await settled(pilot)


def test_snapshot_runs_table(env: Any, snap_compare: Any) -> None:
    assert snap_compare(pinned(env), terminal_size=SIZE, run_before=_runs_table)


def test_snapshot_task_tree_on_a_skipped_task(env: Any, snap_compare: Any) -> None:
    assert snap_compare(pinned(env), terminal_size=SIZE, run_before=_skipped_task)


def test_snapshot_failed_task_logs(env: Any, snap_compare: Any) -> None:
    assert snap_compare(pinned(env), terminal_size=SIZE, run_before=_failed_logs)


async def test_retry_reads_the_tree_again_and_follows_the_new_pod(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kftui.sandbox import Sandbox

    own = Sandbox("demo", tmp_path / "sandbox", still=True)  # the retry replaces pods: not in the shared world
    for key, value in own.start().items():
        monkeypatch.setenv(key, value)
    app = pinned(own)
    train = f"{WF}.root.train"
    try:
        async with app.run_test(size=SIZE) as pilot:
            view = await open_runs(pilot)
            table = view.query_one("#runs", DataTable)
            table.focus()
            table.move_cursor(row=[str(k.value) for k in table.rows].index(f"run:{FAILED_RUN}"))
            await until(pilot, lambda: view.task_id == train, what="the failing task pre-selected")
            assert view.pods[train][0][1] == TRAIN_POD
            await pilot.press("R")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the retry question")
            await pilot.press("y")

            def new_train_pod() -> str | None:
                # Someone else has the run open too (KFP's UI polls it): the simulated run moves a step per look,
                # so it finishes in a few of this wait's rounds instead of one step per 5 s poll of the view.
                with urllib.request.urlopen(f"{own.kfp.url}/apis/v2beta1/runs/{FAILED_RUN}", timeout=10) as seen:
                    seen.read()
                detail = view.detail
                if detail is None or detail.row.state is not RunState.SUCCEEDED:
                    return None
                found = view.pods.get(train)
                return found[0][1] if found and found[0][1] != TRAIN_POD else None

            pod = await until(pilot, new_train_pod, what="the retried train task on its new pod", timeout=60)
            task = next(t for t in view.detail.walk() if t.id == train) if view.detail else None
            assert task is not None and task.state is RunState.SUCCEEDED
            await until(pilot, lambda: any(ln.endswith("train: done") for ln in log_lines(app)), what="the new log")
            assert not any("CUDA out of memory" in line for line in log_lines(app))
            assert pod.startswith(f"{WF}-system-container-impl-")
    finally:
        own.stop()


async def test_hostile_run_and_experiment_names_are_inert_in_the_runs_tab(env: Any, own_kfp: KfpSandbox) -> None:
    hostile = "grasp\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[5m\u202eabc"
    with own_kfp.world.lock:
        run = own_kfp.world.runs[FAILED_RUN]
        run.name = hostile
        own_kfp.world.experiments[run.experiment_id].name = "exp\x1b[2J"
    app = pinned(env, Options(kfp_host=own_kfp.url))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_runs(pilot)
        table = view.query_one("#runs", DataTable)
        name = table.get_cell(f"run:{FAILED_RUN}", "name")
        experiment = table.get_cell(f"run:{FAILED_RUN}", "experiment")
        text = f"{getattr(name, 'plain', name)} {getattr(experiment, 'plain', experiment)}"
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "grasp␛]0;pwned^G␛]52;c;ZXZpbA==^G␛[5m<U+202E>abc" in text and "exp␛[2J" in text
        table.focus()
        table.move_cursor(row=[str(k.value) for k in table.rows].index(f"run:{FAILED_RUN}"))
        await until(pilot, lambda: view.detail is not None and view.detail.row.id == FAILED_RUN, what="the tree")
        await pilot.pause()
        details = str(app.screen.query_one("#details", Static).render())
        tree = str(view.query_one("#run-tasks", Tree).root.label)
        assert "\x1b" not in details + tree and "␛]0;pwned^G" in details + tree
