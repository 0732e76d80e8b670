"""LogPane against the sandbox: following, dropped streams, terminal safety, filters, saving; snapshots of states."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer, Input, Static

from kftui.cluster.kubeconfig import api_client
from kftui.core.kube import LogState, LogStatus, PodRow, pod_row
from kftui.paths import data_dir
from kftui.screens.feeds import PodLogFeed
from kftui.widgets.logpane import WINDOWS, LogPane
from tests.helpers import press, until

PROFILE = "kubeflow-user-example-com"
SIZE = (120, 30)
ALL_WINDOW = next(i for i, w in enumerate(WINDOWS) if w.label == "all")


class PaneApp(App[None]):
    """One LogPane and the footer, as watch mode shows them."""

    def __init__(self, kubeconfig: str | None, window: int = 0) -> None:
        super().__init__()
        self.kubeconfig = kubeconfig
        self.window = window

    def compose(self) -> ComposeResult:
        factory = (lambda: api_client(path=self.kubeconfig)) if self.kubeconfig else None
        yield LogPane(PodLogFeed(factory) if factory else None, window=self.window, id="logs-pane")
        yield Footer()



def row_of(sandbox: Any, name: str, namespace: str = PROFILE) -> PodRow:
    """The pod table row for a sandbox pod."""
    return pod_row(sandbox.kube.state.get("pods", namespace, name))


def add_pod(sandbox: Any, logs: dict[str, Any], containers: tuple[str, ...] = ("main",)) -> str:
    """A fresh running pod of our own (the demo timeline never touches it)."""
    name = f"logpane-{uuid.uuid4().hex[:8]}"
    sandbox.kube.state.add_pod({
        "name": name, "namespace": PROFILE, "node": "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x", "age_seconds": 5,
        "containers": [{"name": c, "image": "python:3.11", "logs": logs.get(c, logs)} for c in containers],
    })
    return name


def state_of(pane: LogPane) -> set[LogState]:
    """States now shown for the pane's containers."""
    return {s.state for s in pane.statuses.values()}


@pytest.fixture
def kubeconfig(sandbox: Any) -> str:
    """The sandbox kubeconfig path."""
    return str(sandbox.env["KUBECONFIG"])


async def test_lines_keep_arriving_while_the_user_scrolls_searches_and_switches_pods(
        sandbox: Any, kubeconfig: str) -> None:
    name = add_pod(sandbox, {"lines": ["starting"], "ticker": {"interval_ms": 20, "job": "fast"}})
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        view = pane.view
        pane.follow(row_of(sandbox, name))
        await until(pilot, lambda: view.line_count > 80, "ticker lines")
        assert LogState.STREAMING in state_of(pane)
        view.focus()
        # laid out, and scrolled down to follow the end (scroll_y still 0 would make pageup move nothing)
        await until(pilot, lambda: view.scroll_y > 0, "more lines than the pane shows, followed to the end")
        await press(pilot, "pageup", "pageup")
        assert not view.follow
        top, count = view.scroll_y, view.line_count
        await until(pilot, lambda: view.line_count > count + 20, "lines while paused")
        assert view.scroll_y == top  # the reader keeps going; the screen stays where the user put it
        assert "paused" in str(app.query_one("#log-status", Static).render())

        await press(pilot, "slash", *"step 1[0-9]/", "enter")
        assert pane.search is not None and view.highlight is pane.search
        first = view.current
        assert first is not None and "step 1" in view.ring.line(first)
        await press(pilot, "n")
        assert view.current is not None and view.current != first
        await press(pilot, "end")
        assert view.follow
        before = view.line_count
        await until(pilot, lambda: view.line_count > before, "lines after resuming")

        old_generation, old_follower = pane._generation, pane.follower
        assert any("fast epoch" in line for line in view.shown_lines())
        pane.follow(row_of(sandbox, "cpu-notebook-0"))
        assert old_follower is not None and old_follower.stopped  # the old stream stops at once
        await until(pilot, lambda: any("Jupyter Server" in line for line in view.shown_lines()), "the new pod")
        pane.feed_lines(["fast epoch 9999 (a batch the old reader still had in flight)"], old_generation)
        pane.flush()
        assert not any("fast epoch" in line for line in view.shown_lines())  # nothing leaks from the old stream


async def test_a_dropped_stream_resumes_with_no_lost_or_doubled_line(sandbox: Any, kubeconfig: str) -> None:
    name = add_pod(sandbox, {"lines": ["boot"], "ticker": {"interval_ms": 5, "job": "resume"}})
    app = PaneApp(kubeconfig, window=ALL_WINDOW)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        view = pane.view
        pane.follow(row_of(sandbox, name))

        def grown_by(lines: int) -> Callable[[], bool]:
            count = view.line_count
            return lambda: view.line_count > count + lines

        def reconnected(times: int) -> Callable[[], bool]:
            return lambda: pane.follower is not None and pane.follower.reconnects >= times

        for drop in (1, 2):
            await until(pilot, grown_by(60), "lines before the drop")
            sandbox.kube.state.drop_log_streams()
            await until(pilot, reconnected(drop), "a reconnect")
            await until(pilot, grown_by(60), "lines after the drop")
        pane.stop()
        pane.flush()
        run = sandbox.kube.state.log_runs(PROFILE, name, "main")[-1]
        expected = run.chunk(0, view.ring.end, timestamps=True).decode().splitlines()
        assert list(view.ring) == expected
        assert view.ring.dropped == 0


async def test_ansi_and_osc_sequences_appear_escaped_on_screen(sandbox: Any, kubeconfig: str) -> None:
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "cpu-notebook-0"))
        await until(pilot, lambda: pane.view.line_count >= 4, "notebook lines")
        await pilot.pause()
        view = pane.view
        drawn = [view.render_line(y) for y in range(view.scrollable_content_region.height)]
        text = "\n".join(strip.text for strip in drawn)
        assert "␛]0;pwned: title set by a pod log^G[I 2026-04-12" in text
        assert "progress ␛[2K^M 42%" in text
        assert not any(ch in seg.text for strip in drawn for seg in strip for ch in "\x1b\x07\r")


async def test_an_invalid_regex_is_reported_next_to_the_input(sandbox: Any, kubeconfig: str) -> None:
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "cpu-notebook-0"))
        await until(pilot, lambda: pane.view.line_count >= 4, "notebook lines")
        pane.view.focus()
        await press(pilot, "i", *"Kernel[", "enter")
        error = str(app.query_one("#log-input-error", Static).render())
        assert "invalid regex" in error and "unterminated character set" in error
        assert app.query_one("#log-input-row").has_class("visible")
        assert isinstance(app.focused, Input)
        assert pane.view.filters == (None, None) and pane.view.row_count == 4
        await press(pilot, "backspace", "enter")
        assert str(app.query_one("#log-input-error", Static).render()) == ""
        assert list(pane.view.shown_lines()) == [
            "␛]0;pwned: title set by a pod log^G[I 2026-04-12 08:05:00.000 ServerApp] Kernel started: 5f1c"]


async def test_saving_writes_the_shown_lines_and_says_where(sandbox: Any, kubeconfig: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "training-pipeline-x7k2q-system-container-impl-2950846120"))
        await until(pilot, lambda: LogState.ENDED in state_of(pane) and pane.view.line_count == 8, "the whole log")
        pane.view.focus()
        await press(pilot, "x", *"^ ", "enter")  # hide the indented traceback lines
        shown = list(pane.view.shown_lines())
        assert len(shown) == 4 and shown[-1].startswith("RuntimeError: CUDA out of memory")
        await press(pilot, "s")  # asks where, prefilled with a fresh name in the data directory
        prompt = app.query_one("#log-input", Input)
        await until(pilot, lambda: prompt.value.endswith(".log"), "the prefilled path")
        assert prompt.value.startswith(str(data_dir() / "logs"))
        await press(pilot, "enter")
        files = await until(pilot, lambda: list((data_dir() / "logs").glob("kftui-*.log")), "the saved file")
        assert not list(tmp_path.glob("*.log"))  # never into the working directory
        assert files[0].read_text(encoding="utf-8").splitlines() == shown
        await until(pilot, lambda: str(files[0]) in pane.note, "the status naming the file")


async def test_previous_run_of_a_restarted_container(sandbox: Any, kubeconfig: str) -> None:
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "ml-pipeline-visualizationserver-7c6b5d4f8-k8lm2", "kubeflow"))
        await until(pilot, lambda: pane.view.line_count == 2, "the current run")
        pane.view.focus()
        await press(pilot, "p")
        await until(pilot, lambda: LogState.ENDED in state_of(pane) and pane.view.line_count == 3, "previous run")
        assert list(pane.view.shown_lines())[-1] == "Killed"
        assert "previous run" in str(app.query_one("#log-status", Static).render())


async def test_all_containers_interleave_with_a_prefix_and_c_picks_one(sandbox: Any, kubeconfig: str) -> None:
    name = add_pod(sandbox, {"app": {"lines": ["app up"]}, "proxy": {"lines": ["proxy up"]}}, ("app", "proxy"))
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, name))
        await until(pilot, lambda: pane.view.line_count == 2, "both containers")
        assert sorted(pane.view.shown_lines()) == ["[app] app up", "[proxy] proxy up"]
        strip = next(pane.view.render_line(y) for y in range(2) if "[app]" in pane.view.render_line(y).text)
        assert any(seg.text == "[app] " and seg.style is not None and seg.style.color is not None for seg in strip)
        pane.view.focus()
        await press(pilot, "c")
        await until(pilot, lambda: list(pane.view.shown_lines()) == ["app up"], "only the app container")
        assert pane.container == "app"


# ---- snapshots: every state a user must recognise, fed directly so they never vary -------------------

ROW = PodRow(PROFILE, "train-resnet-0", "1/1", "Running", 0, None, "gke-node", 1, containers=("main",))
LINES = [f"2026-04-12T09:00:{i:02d}.000000000Z INFO resnet50 epoch 1/90 step {i + 1}/500 loss={2.3 - i * 0.05:.4f}"
         for i in range(30)]


def fed(status: LogStatus | None, lines: list[str], keys: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """A run_before that follows ROW without a cluster, then shows the given state and lines."""

    async def run_before(pilot: Any) -> None:
        pane = pilot.app.query_one(LogPane)
        pane.follow(ROW)
        if status is not None:
            pane.feed_status(status)
        if lines:
            pane.feed_lines(list(lines))
        pane.flush()
        pane.view.focus()
        pilot.app.query_one("#log-input", Input).cursor_blink = False
        if keys:
            await press(pilot, *keys)
        await pilot.pause()

    return run_before


SNAPSHOTS = {
    "streaming": fed(LogStatus(LogState.STREAMING, "main"), LINES),
    "waiting": fed(LogStatus(LogState.WAITING, "main", "the container has not written anything yet",
                             since=datetime(2026, 4, 12, 9, 30, tzinfo=UTC)), []),
    "not_started": fed(LogStatus(LogState.NOT_STARTED, "main", 'ImagePullBackOff: Back-off pulling image '
                                 '"123456789012.dkr.ecr.us-east-1.amazonaws.com/robotics/jupyter-ros:1.4"'), []),
    "reconnecting": fed(LogStatus(LogState.RECONNECTING, "main", "the server closed the stream; resuming from "
                                  "2026-04-12T09:00:29Z", attempt=2), LINES),
    "ended": fed(LogStatus(LogState.ENDED, "main", "container exited with code 0 (Completed)"), LINES),
    "search": fed(LogStatus(LogState.STREAMING, "main"), LINES, ("slash", *"loss=1\\.")),
}


@pytest.mark.parametrize("state", list(SNAPSHOTS))
def test_snapshot_log_pane(state: str, snap_compare: Any) -> None:
    assert snap_compare(PaneApp(None), terminal_size=SIZE, run_before=SNAPSHOTS[state])


def test_status_words_for_every_state() -> None:
    from kftui.widgets.logpane import describe_detail, describe_state

    assert describe_state(LogStatus(LogState.RECONNECTING, attempt=3)) == "reconnecting (attempt 3)"
    assert describe_state(LogStatus(LogState.NOT_STARTED)) == "not-started"
    since = datetime(2026, 4, 12, 9, 30, 5, tzinfo=UTC)
    assert describe_detail(LogStatus(LogState.WAITING, detail="nothing yet", since=since)) == (
        "nothing yet (since 09:30:05Z)")


async def test_save_goes_where_the_user_types_and_a_typed_window_refetches(sandbox: Any, kubeconfig: str,
                                                                          tmp_path: Path) -> None:
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "training-pipeline-x7k2q-system-container-impl-2950846120"))
        await until(pilot, lambda: LogState.ENDED in state_of(pane) and pane.view.line_count == 8, "the whole log")
        pane.view.focus()
        await press(pilot, "s")
        prompt = app.query_one("#log-input", Input)
        prompt.value = str(tmp_path / "mine" / "train.log")
        await press(pilot, "enter")
        saved = tmp_path / "mine" / "train.log"
        await until(pilot, saved.exists, "the file where the user said")
        assert len(saved.read_text(encoding="utf-8").splitlines()) == 8
        pane.view.focus()
        await press(pilot, "t")
        await until(pilot, lambda: prompt.value == "tail 1000", "the window in force, prefilled")
        prompt.value = "tail 3"
        await press(pilot, "enter")
        await until(pilot, lambda: LogState.ENDED in state_of(pane) and pane.view.line_count == 3, "the last 3 lines")
        assert "tail 3" in str(app.query_one("#log-status", Static).render())
        pane.view.focus()
        await press(pilot, "t")
        prompt.value = "since yesterday"
        await press(pilot, "enter")
        await pilot.pause()
        assert "window: all, tail N" in str(app.query_one("#log-input-error", Static).render())


async def test_search_counts_its_matches_and_n_says_which_one(sandbox: Any, kubeconfig: str) -> None:
    app = PaneApp(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(LogPane)
        pane.follow(row_of(sandbox, "training-pipeline-x7k2q-system-container-impl-2950846120"))
        await until(pilot, lambda: LogState.ENDED in state_of(pane) and pane.view.line_count == 8, "the whole log")
        pane.view.focus()
        expected = sum(1 for line in pane.view.shown_lines() if "e" in line.lower())  # smart case: no capital, any case
        await press(pilot, "slash", "e", "enter")
        status = app.query_one("#log-status", Static)
        await until(pilot, lambda: f"match 1/{expected}" in str(status.render()), "the first match of all")
        pane.view.focus()
        await press(pilot, "n")
        await until(pilot, lambda: f"match 2/{expected}" in str(status.render()), "the second match")

