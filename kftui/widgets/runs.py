"""The runs view: pipeline runs on the KFP server (and past local runs), a run's task tree, and each task's log.

KFP never fills a task's pod name, so the view finds the pod itself (label `pipeline/runid`, Argo's node-name
annotation) and asks the screen to follow its `main` container; when the pods are gone it says so plainly.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

from kftui.core.runlist import LOCAL, Item, RunsModel
from kftui.core.runs import USER_CONTAINER, LocalRunRecord, RunDetail, RunRow, RunState, TaskNode, short_duration
from kftui.core.sanitize import inert, inert_lines
from kftui.widgets.messages import FollowPod, LogFeed, Retitled, ShowDetails

POLL_SECONDS = 5.0
"""How often the screen's runs feed lists again (kftui.screens.feeds.POLL_SECONDS; said in the status line)."""
POD_WAIT_TRIES = 40
"""How many times (every 0.25 s) to wait for the screen's pod list to include a pod the view found."""
STATE_STYLE = {
    RunState.PENDING: "yellow",
    RunState.RUNNING: "cyan",
    RunState.SUCCEEDED: "green",
    RunState.SKIPPED: "dim",
    RunState.FAILED: "bold red",
    RunState.CANCELING: "magenta",
    RunState.CANCELED: "magenta",
    RunState.PAUSED: "yellow",
    RunState.UNKNOWN: "dim",
}
STATE_MARK = {
    RunState.SUCCEEDED: "✓",
    RunState.FAILED: "✗",
    RunState.RUNNING: "▶",
    RunState.PENDING: "…",
    RunState.SKIPPED: "-",
    RunState.CANCELED: "■",
    RunState.CANCELING: "■",
}
STATE_FILTERS: tuple[tuple[str, frozenset[RunState] | None], ...] = (
    ("all", None),
    ("running", frozenset({RunState.PENDING, RunState.RUNNING, RunState.PAUSED, RunState.CANCELING})),
    ("failed", frozenset({RunState.FAILED, RunState.CANCELED})),
    ("succeeded", frozenset({RunState.SUCCEEDED, RunState.SKIPPED})),
)
COLUMNS = (
    ("name", "NAME", 34),
    ("experiment", "EXPERIMENT", 18),
    ("state", "STATE", 10),
    ("created", "CREATED", 8),
    ("duration", "DURATION", 8),
)
PodRef = tuple[str, str]
"""(namespace, pod name)."""


class RunsSource(Protocol):
    """What the screen hands the view (kftui.screens.feeds.RunsFeed): listings by poll, the rest called in workers."""

    def start(self, sink: Callable[[Any], None]) -> None:
        """Deliver listings (`.rows`, `.local`, `.error`, `.url`) to `sink` from the poll thread."""

    def poke(self) -> None:
        """List again now."""

    def stop(self) -> None:
        """No more listings."""

    def detail(self, run_id: str) -> tuple[RunDetail | None, dict[str, list[PodRef]], str, str]:
        """(detail, pods by task id, error, pods error), blocking."""

    def act(self, verb: str, run_id: str) -> None:
        """Terminate, retry or archive, blocking; raises KftuiError."""

    def submit(self, pipeline: str, params: dict[str, str], experiment: str) -> RunRow:
        """Create a run on the server, blocking; raises KftuiError."""

    def split_params(self, words: list[str]) -> dict[str, str]:
        """`name=value` words as the CLI reads them."""

    def start_local(self, pipeline: str, params: dict[str, str]) -> Any:
        """A kfp.local run in a child process (events(), record, stop())."""

    def local_events(self, path: str) -> list[Any]:
        """A finished local run's events from its log file; raises OSError."""


def _with_depth(tasks: tuple[TaskNode, ...], depth: int = 0) -> Iterator[tuple[TaskNode, int]]:
    """Every row of the tree with how deep it sits (iterations and attempts are indented under their task)."""
    for task in tasks:
        yield task, depth
        yield from _with_depth(task.children, depth + 1)


def _label(task: TaskNode) -> str:
    """A tree row's name: the task, `attempt 2`, `iteration 0`; a task retried shows how many attempts it made."""
    name = inert(task.name)
    if task.kind == "task" and task.attempts > 1:
        name += f" ({task.attempts} attempts)"
    return name


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def gone_note(detail: RunDetail, task: TaskNode, now: datetime, pods_error: str = "") -> str:
    """Why a task has no log to follow, in plain words, with what the API still knows."""
    row = detail.row
    knows = f"the API still knows: task {task.name} {task.state}"
    if task.duration is not None:
        knows += f" after {short_duration(task.duration)}"
    if task.error:
        knows += f", error: {task.error}"
    elif row.error:
        knows += f"; run error: {row.error}"
    if pods_error:
        return f"cannot list the pods of run {row.name}: {pods_error} · {knows}"
    if task.start is None and task.state in (RunState.SKIPPED, RunState.PENDING, RunState.CANCELED):
        if row.state.finished or task.state is RunState.SKIPPED:
            return f"task {task.name} was {str(task.state).lower()} and never ran: it has no pod and no log"
        return f"task {task.name} has not started yet: its pod and log appear when Argo schedules it"
    if row.state.finished:
        ago = short_duration(now - row.finished) if row.finished else ""
        return (
            f"the run finished at {_when(row.finished)}{f' ({ago} ago)' if ago else ''}; its pods were "
            "garbage-collected, so the live log is gone (kubectl logs is no longer possible; a copy exists only "
            f"if KFP archives logs to its artifact store, e.g. the pipeline root bucket) · {knows}"
        )
    node = task.pods[0][0] if task.pods else task.id
    return (
        f"no pod of run {row.name} matches task {task.name} (label pipeline/runid={row.id}, "
        f"annotation workflows.argoproj.io/node-name={node}) in the namespaces kftui can see · {knows}"
    )


def run_details(detail: RunDetail, pods: dict[str, list[PodRef]], now: datetime, pods_error: str = "") -> Text:
    """The details pane for a run: state, times, error, parameters, and every task with its pod."""
    row = detail.row
    out = Text()
    out.append(f"run {inert(row.name)} ", style="bold")
    out.append(str(row.state), style=STATE_STYLE.get(row.state, ""))
    out.append(f"\nid {inert(row.id)}\nexperiment {inert(row.experiment or '-')}\n", style="dim")
    created = f"created {short_duration(now - row.created)} ago" if row.created else "created ?"
    if row.finished:
        created += f" · finished {short_duration(now - row.finished)} ago"
    if row.duration is not None:
        created += f" · took {short_duration(row.duration)}"
    elif row.created and not row.state.finished:
        created += f" · running for {short_duration(now - row.created)}"
    out.append(created + "\n")
    if row.error:
        out.append("error ", style="bold red")
        out.append(inert(row.error) + "\n")
    if detail.parameters:
        params = inert(" ".join(f"{k}={v}" for k, v in sorted(detail.parameters.items())))
        out.append(f"parameters {params}\n", style="dim")
    out.append("\nTasks\n", style="bold underline")
    for task, depth in _with_depth(detail.tasks):
        out.append("  " * depth)
        out.append(f"{STATE_MARK.get(task.state, '?')} {_label(task)} ", style=STATE_STYLE.get(task.state, ""))
        out.append(f"{task.state}", style=STATE_STYLE.get(task.state, ""))
        if task.duration is not None:
            out.append(f" {short_duration(task.duration)}", style="dim")
        if task.cached:
            out.append(" cached", style="italic")
        found = pods.get(task.id)
        out.append(f" · pod {inert(found[0][1])}\n" if found else " · no pod\n", style="dim")
        if task.error:
            out.append(f"    {inert(task.error)}\n", style="red")
    if pods_error:
        out.append(f"\ncannot list the run's pods: {inert(pods_error)}\n", style="yellow")
    return out


def local_line(event: Any, noise: Any) -> str | None:
    """One line of the log pane for one local-run event (None for what the pane does not show)."""
    from kftui.core.runs import LocalEventKind

    task = inert(event.task or "")
    again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
    if event.kind is LocalEventKind.LOG:
        return None if noise.hides(event) else f"[{task}] {event.line}"
    if event.kind is LocalEventKind.RUNNER:
        return None if event.line.startswith("SubprocessRunner(") else f"kfp.local: {event.line}"
    if event.kind is LocalEventKind.TASK_START:
        return f"▶ {task}{again}"
    if event.kind is LocalEventKind.TASK_END:
        outputs = " ".join(f"{k}={v}" for k, v in (event.outputs or {}).items())
        mark = "✓" if event.state is RunState.SUCCEEDED else "✗"
        return f"{mark} {task} {event.state or ''}{again} {outputs or inert(event.error)}".rstrip()
    if event.kind is LocalEventKind.OUTPUTS and event.outputs:
        return "pipeline outputs: " + " ".join(f"{k}={v}" for k, v in event.outputs.items())
    if event.kind is LocalEventKind.PIPELINE_END and event.error:
        return f"✗ pipeline: {inert(event.error)}"
    return None


def local_details(record: LocalRunRecord, now: datetime) -> Text:
    """The details pane for a local (kfp.local) run: where its files and its full log are."""
    out = Text()
    out.append(f"local run {inert(record.id)} ", style="bold")
    out.append(str(record.state), style=STATE_STYLE.get(record.state, ""))
    out.append(f"\npipeline {inert(record.pipeline)}\n")
    out.append(f"started {short_duration(now - record.started)} ago")
    out.append(f" · took {short_duration(record.duration)}\n" if record.duration else "\n")
    if record.parameters:
        params = inert(" ".join(f"{k}={v}" for k, v in record.parameters.items()))
        out.append(f"parameters {params}\n", style="dim")
    if record.error:
        out.append("error ", style="bold red")
        out.append(inert(record.error) + "\n")
    out.append(f"log {inert(str(record.log_path))}\nroot {inert(str(record.root))}\n", style="dim")
    out.append("\nTasks\n", style="bold underline")
    for name, state in record.tasks.items():
        out.append(f"{STATE_MARK.get(state, '?')} {inert(name)} {state}\n", style=STATE_STYLE.get(state, ""))
    return out


class RunsLoaded(Message):
    """A fresh list of server runs (or why there is none) and the local runs."""

    def __init__(self, rows: list[RunRow], local: list[LocalRunRecord], error: str = "", url: str = "") -> None:
        super().__init__()
        self.rows = rows
        self.local = local
        self.error = error
        self.url = url


class RunDetailLoaded(Message):
    """One run's task tree and which pod ran which task."""

    def __init__(
        self, key: str, detail: RunDetail | None, pods: dict[str, list[PodRef]], error: str = "", pods_error: str = ""
    ) -> None:
        super().__init__()
        self.key = key
        self.detail = detail
        self.pods = pods
        self.error = error
        self.pods_error = pods_error

    def can_replace(self, message: Message) -> bool:
        """Only the newest detail of the same run matters."""
        return isinstance(message, RunDetailLoaded) and message.key == self.key


class RunActionDone(Message):
    """Terminate, retry or archive came back (ok or with the API's reason)."""

    def __init__(self, text: str, failed: bool, run_id: str = "") -> None:
        super().__init__()
        self.text = text
        self.failed = failed
        self.run_id = run_id
        """The run the action changed: its tree is read again from the API at once."""


class RunSubmitted(Message):
    """A run was created on the server: it shows in the table at once, selected."""

    def __init__(self, row: RunRow) -> None:
        super().__init__()
        self.row = row


@dataclass(frozen=True)
class _Action:
    verb: str
    allowed: Callable[[RunState], bool]
    question: str


ACTIONS = {
    "terminate": _Action("terminate", lambda s: s.can_terminate, "Terminate run {name}? Running tasks are stopped."),
    "retry": _Action("retry", lambda s: s.can_retry, "Retry run {name}? KFP re-runs its failed and skipped tasks."),
    "archive": _Action("archive", lambda s: True, "Archive run {name}? It leaves this list; KFP keeps it."),
}


class RunsView(Vertical):
    """Runs above, the selected run's tasks below; highlighting a task shows its pod's log in the log pane."""

    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    RunsView #runs-status { height: auto; max-height: 3; padding: 0 1; }
    RunsView #runs { height: 1fr; }
    RunsView #run-tasks { height: 45%; border-top: solid $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh"),
        Binding("e", "cycle_experiment", "Experiment"),
        Binding("s", "cycle_state", "State"),
        Binding("t", "run_action('terminate')", "Terminate"),
        Binding("R", "run_action('retry')", "Retry"),
        Binding("a", "run_action('archive')", "Archive"),
        Binding("n", "new_run", "New run"),
    ]

    def __init__(self, source: RunsSource, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.model = RunsModel()
        """Every run listed, by key: the screen's runs feed fills it, the table draws a filtered view of it."""
        self.experiment: str | None = None
        self.state_index = 0
        self.error = ""
        self.api_url = ""
        self._local_runs: list[Any] = []
        self.selected: str | None = None
        self.detail: RunDetail | None = None
        self.pods: dict[str, list[PodRef]] = {}
        self.pods_error = ""
        self.task_id: str | None = None
        self.followed: tuple[str, str, str] | None = None
        self.loaded_once = False
        self._auto_pick = False
        self._pod_wait: Timer | None = None

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """Status line, runs table, task tree."""
        yield Static(Text("connecting to the pipelines API…", style="dim"), id="runs-status")
        yield DataTable(id="runs", cursor_type="row")
        tree: Tree[TaskNode | None] = Tree("select a run", id="run-tasks")
        tree.show_root = True
        yield tree

    def on_mount(self) -> None:
        """Columns, then the first poll; each poll re-arms the next only after it finished."""
        table = self.query_one("#runs", DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.border_title = "runs"
        self.source.start(self._listed)

    def _listed(self, listing: Any) -> None:
        """The feed's poll thread: one message per listing."""
        self.post_message(RunsLoaded(listing.rows, listing.local, listing.error, listing.url))

    @property
    def items(self) -> dict[str, Item]:
        """Every run the model holds, by key (`run:ID`, `local:ID`)."""
        return self.model.items

    def now(self) -> datetime:
        """The app's clock (fixed in screenshots), else the wall clock."""
        clock = getattr(getattr(self.app, "services", None), "now", None)
        return clock() if callable(clock) else datetime.now(UTC)

    # -- listings --------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        """List again now."""
        self.poll()

    def poll(self) -> None:
        """Ask the feed for a listing now (it also lists every few seconds by itself)."""
        self.source.poke()

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        """Fold the listing into the model, redraw the table with the filters, refresh the open run."""
        message.stop()
        previous = self.items
        self.error = message.error
        self.api_url = message.url or self.api_url
        self.model.replace([*message.rows, *message.local])
        self.loaded_once = True
        key = self.selected
        self._redraw()
        if key is not None and key == self.selected and key in self.items:
            item, old = self.items[key], previous.get(key)
            if old is not None and item.state.finished and old.state == item.state and self.detail is not None:
                pass  # a finished run does not change: keep the tree and the followed log as they are
            elif isinstance(item, LocalRunRecord):
                self._show_local(key)
            else:
                self._load_detail(key, item.id)

    # -- the table -------------------------------------------------------------------------------
    def _visible(self) -> list[str]:
        return self.model.visible(STATE_FILTERS[self.state_index][1], self.experiment)

    def _cells(self, item: Item) -> list[Text | str]:
        now = self.now()
        state = Text(str(item.state), style=STATE_STYLE.get(item.state, ""))
        if isinstance(item, LocalRunRecord):
            name = Text(inert(f"{item.pipeline.rsplit('/', 1)[-1]} {item.id}"), overflow="ellipsis", no_wrap=True)
            running = item.state.finished is False
            duration = item.duration or (now - item.started if running else None)
            return [
                name,
                Text(LOCAL, style="italic magenta"),
                state,
                short_duration(now - item.started),
                short_duration(duration),
            ]
        created = short_duration(now - item.created) if item.created else ""
        duration = item.duration
        if duration is None and item.created is not None and not item.state.finished:
            duration = now - item.created
        return [
            Text(inert(item.name), overflow="ellipsis", no_wrap=True),
            Text(inert(item.experiment), style="dim", overflow="ellipsis", no_wrap=True),
            state,
            created,
            short_duration(duration),
        ]

    def _redraw(self) -> None:
        """Update cells by key when the order is unchanged; otherwise rebuild and keep the cursor on the run."""
        table = self.query_one("#runs", DataTable)
        visible = self._visible()
        current = [str(k.value) for k in table.rows]
        if current == visible:
            for key in visible:
                for (column, _, _), value in zip(COLUMNS, self._cells(self.items[key]), strict=True):
                    table.update_cell(key, column, value)
        else:
            table.clear()
            for key in visible:
                table.add_row(*self._cells(self.items[key]), key=key)
            if self.selected in visible:
                table.move_cursor(row=visible.index(self.selected), animate=False)
        self._render_status(len(visible))
        if visible and self.selected not in visible:
            row = min(table.cursor_row, len(visible) - 1) if table.cursor_row >= 0 else 0
            self._select(str(table.coordinate_to_cell_key(Coordinate(max(row, 0), 0)).row_key.value))
        elif not visible and self.selected is not None:
            self._clear_selection()

    def _render_status(self, shown: int) -> None:
        status = Text()
        if self.error:
            status.append(inert(self.error), style="bold red")
            status.append(f" · retrying every {POLL_SECONDS:g} s", style="dim")
            status.append("\n")
        exp = self.experiment or "all experiments"
        status.append(f"experiment: {exp} (e) · state: {STATE_FILTERS[self.state_index][0]} (s) · ", style="dim")
        status.append(f"{shown} of {len(self.items)} runs", style="dim")
        self.query_one("#runs-status", Static).update(status)
        where = f" · {self.api_url}" if self.api_url else ""
        self.border_title = Text(inert(f"runs{where}"))
        self.post_message(Retitled())

    def action_cycle_experiment(self) -> None:
        """All experiments, then each one seen in the list (local runs count as one), then all again."""
        choices: list[str | None] = [None, *self.model.experiments()]
        index = choices.index(self.experiment) if self.experiment in choices else 0
        self.experiment = choices[(index + 1) % len(choices)]
        self._redraw()

    def action_cycle_state(self) -> None:
        """All, running, failed, succeeded."""
        self.state_index = (self.state_index + 1) % len(STATE_FILTERS)
        self._redraw()

    # -- selection and detail --------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#runs")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value:
            self._select(str(event.row_key.value))

    @on(DataTable.RowSelected, "#runs")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a run moves to its tasks."""
        event.stop()
        self.query_one("#run-tasks", Tree).focus()

    def _select(self, key: str) -> None:
        if key == self.selected or key not in self.items:
            return
        self.selected = key
        self.detail = None
        self.pods = {}
        self.task_id = None
        self._auto_pick = True
        item = self.items[key]
        if isinstance(item, LocalRunRecord):
            self._show_local(key)
            return
        tree = self.query_one("#run-tasks", Tree)
        tree.reset(Text(f"{item.name} · loading tasks…", style="dim"))
        self._load_detail(key, item.id)

    def _clear_selection(self) -> None:
        self.selected = None
        self.detail = None
        self.query_one("#run-tasks", Tree).reset(Text("no run matches the filters", style="dim"))

    def _load_detail(self, key: str, run_id: str) -> None:
        self.run_worker(
            lambda: self._fetch_detail(key, run_id),
            thread=True,
            exclusive=True,
            group="run-detail",
            exit_on_error=False,
            description=f"reading run {run_id}",
        )

    def _fetch_detail(self, key: str, run_id: str) -> None:
        """Runs in a worker: the run's task tree and its pods, through the feed."""
        detail, pods, error, pods_error = self.source.detail(run_id)
        self.post_message(RunDetailLoaded(key, detail, pods, error=error, pods_error=pods_error))

    def on_run_detail_loaded(self, message: RunDetailLoaded) -> None:
        """Show the task tree; a failed run's failing task is highlighted at once so its log shows."""
        message.stop()
        if message.key != self.selected:
            return
        tree: Tree[TaskNode | None] = self.query_one("#run-tasks", Tree)
        if message.detail is None:
            tree.reset(Text(inert(message.error), style="red"))
            self._tell(ShowDetails(message.key, Text(inert(message.error), style="red")))
            return
        detail = self.detail = message.detail
        self.pods = message.pods
        self.pods_error = message.pods_error
        row = detail.row
        label = Text(f"{inert(row.name)} ", style="bold")
        label.append(str(row.state), style=STATE_STYLE.get(row.state, ""))
        tree.reset(label)
        self._add_tasks(tree.root, detail.tasks)
        tree.root.expand_all()
        wanted = self.task_id
        if self._auto_pick:
            self._auto_pick = False
            wanted = self._first_interesting(detail)
        node = self._find_node(tree, wanted) if wanted else None
        self._tell(ShowDetails(message.key, self._details_body()))
        if node is not None:
            tree.move_cursor_to_line(node.line if node.line >= 0 else self._line_of(tree, node))
            self._follow(node.data)

    @staticmethod
    def _first_interesting(detail: RunDetail) -> str | None:
        """The task whose log explains the run: the failing one, else the running one, else the latest started."""
        failed = detail.failed_tasks()
        if failed:
            return failed[0].id
        tasks = [t for t in detail.walk() if not t.children]
        running = [t for t in tasks if t.state is RunState.RUNNING]
        if running:
            return running[0].id
        started = [t for t in tasks if t.start is not None]
        if started:
            return max(started, key=lambda t: t.start or datetime.min.replace(tzinfo=UTC)).id
        return tasks[0].id if tasks else None

    def _add_tasks(self, parent: TreeNode[TaskNode | None], tasks: tuple[TaskNode, ...]) -> None:
        for task in tasks:
            label = Text(f"{STATE_MARK.get(task.state, '?')} {_label(task)} ", style=STATE_STYLE.get(task.state, ""))
            label.append(str(task.state), style=STATE_STYLE.get(task.state, ""))
            if task.cached:
                label.append(" cached", style="italic")
            if task.duration is not None:
                label.append(f" {short_duration(task.duration)}", style="dim")
            elif task.start is not None and not task.state.finished:
                label.append(f" {short_duration(self.now() - task.start)}…", style="dim")
            found = self.pods.get(task.id)
            if found:
                label.append(f" · {inert(found[0][1])}", style="dim")
            elif task.kind in ("task", "attempt"):
                label.append(" · no pod", style="dim")
            if task.children:
                node = parent.add(label, data=task, expand=True)
                self._add_tasks(node, task.children)
            else:
                parent.add_leaf(label, data=task)

    @staticmethod
    def _walk(node: TreeNode[TaskNode | None]) -> Iterator[TreeNode[TaskNode | None]]:
        for child in node.children:
            yield child
            yield from RunsView._walk(child)

    def _find_node(self, tree: Tree[TaskNode | None], task_id: str) -> TreeNode[TaskNode | None] | None:
        return next((n for n in self._walk(tree.root) if n.data is not None and n.data.id == task_id), None)

    def _line_of(self, tree: Tree[TaskNode | None], node: TreeNode[TaskNode | None]) -> int:
        """The node's line (root is line 0, every node is expanded)."""
        for line, candidate in enumerate(self._walk(tree.root), start=1 if tree.show_root else 0):
            if candidate is node:
                return line
        return 0

    def _details_body(self, task: TaskNode | None = None, note: str = "") -> Text:
        if self.detail is None:
            return Text("")
        body = run_details(self.detail, self.pods, self.now(), self.pods_error)
        if task is not None and note:
            body.append(f"\nLog of {inert(task.name)}\n", style="bold underline")
            body.append(inert_lines(note.replace(" · ", "\n")) + "\n")
        return body

    @on(Tree.NodeHighlighted, "#run-tasks")
    def _task_highlighted(self, event: Tree.NodeHighlighted[TaskNode | None]) -> None:
        event.stop()
        if isinstance(event.node.data, TaskNode):
            self._follow(event.node.data)

    def _follow(self, task: TaskNode | None) -> None:
        """Ask the screen for the task's pod log, or explain why there is none."""
        if task is None or self.detail is None:
            return
        self.task_id = task.id
        found = self.pods.get(task.id)
        if self._pod_wait is not None:
            self._pod_wait.stop()
            self._pod_wait = None
        if found:
            namespace, pod = found[0]
            if self.selected is not None and self.followed is not None and self.followed[2]:
                self._tell(ShowDetails(self.selected, self._details_body()))  # drop the previous note
            self._post_follow(namespace, pod, "", POD_WAIT_TRIES)
            return
        note = gone_note(self.detail, task, self.now(), self.pods_error)
        if self.selected is not None:
            self._tell(ShowDetails(self.selected, self._details_body(task, note)))
        self._post_follow(f"run {inert(self.detail.row.name)}", inert(task.name), inert(note), 0)

    def _active(self) -> bool:
        """Whether the runs tab is the one showing (a hidden view must not take over the shared panes)."""
        return all(node.display for node in self.ancestors_with_self if isinstance(node, Widget))

    def _tell(self, message: Message) -> None:
        """Post to the screen only while visible; on_show re-tells the current selection."""
        if self._active():
            self.post_message(message)

    def on_show(self) -> None:
        """The runs tab came up: the shared log and details panes show this view's selection again."""
        self.followed = None
        if self.selected is None:
            return
        if self.selected.startswith("local:"):
            self._show_local(self.selected)
            return
        if self.detail is None:
            return  # the detail is still loading; its arrival tells the panes
        self._tell(ShowDetails(self.selected, self._details_body()))
        tree: Tree[TaskNode | None] = self.query_one("#run-tasks", Tree)
        node = tree.cursor_node
        self._follow(node.data if node is not None else None)

    def _post_follow(self, namespace: str, pod: str, note: str, tries: int) -> None:
        """Post FollowPod once the screen's pod list has the pod (its watch may still be loading)."""
        key = (namespace, pod, note)
        if key == self.followed or not self._active():
            return
        known = getattr(self.screen, "rows", None)
        if tries > 0 and isinstance(known, dict) and f"{namespace}/{pod}" not in known:
            self._pod_wait = self.set_timer(0.25, lambda: self._post_follow(namespace, pod, note, tries - 1))
            return
        if not note and isinstance(known, dict) and f"{namespace}/{pod}" not in known:
            note = f"pod {namespace}/{pod} ran this task but is not in the watched pods (another namespace?)"
        self.followed = key
        self._tell(FollowPod(namespace, pod, container=USER_CONTAINER, gone_note=note))

    # -- local runs ------------------------------------------------------------------------------
    def _show_local(self, key: str) -> None:
        item = self.items.get(key)
        if not isinstance(item, LocalRunRecord):
            return
        tree: Tree[TaskNode | None] = self.query_one("#run-tasks", Tree)
        label = Text(f"local {item.id} ", style="bold")
        label.append(str(item.state), style=STATE_STYLE.get(item.state, ""))
        tree.reset(label)
        for name, state in item.tasks.items():
            task_label = Text(f"{STATE_MARK.get(state, '?')} {name} {state}", style=STATE_STYLE.get(state, ""))
            tree.root.add_leaf(task_label, data=None)
        tree.root.expand()
        self._tell(ShowDetails(key, local_details(item, self.now())))
        if item.state.finished and self._active():
            self._replay_local(item)

    def _replay_local(self, record: LocalRunRecord) -> None:
        """A finished local run's log, read back from its output.log into the shared log pane (in a worker)."""

        source = self.source

        def read() -> None:
            from kftui.core.runs import ExecutorNoise

            noise = ExecutorNoise()
            lines: list[str] = []
            try:
                for event in source.local_events(str(record.log_path)):
                    line = local_line(event, noise)
                    if line is not None:
                        lines.append(line)
            except OSError as exc:
                lines.append(f"cannot read {record.log_path}: {exc.strerror or exc}")
            title = f"local run {record.id} · {record.pipeline}"
            state = "ended" if record.state is RunState.SUCCEEDED else "error"
            self.post_message(LogFeed(f"local:{record.id}", title, lines, state, f"pipeline {record.state}"))

        self.run_worker(read, thread=True, group="local-log", exclusive=True, exit_on_error=False)

    # -- actions ---------------------------------------------------------------------------------
    def action_run_action(self, verb: str) -> None:
        """Terminate, retry or archive the selected run, after showing the exact REST call and asking."""
        from kftui.widgets.modals import ConfirmScreen

        action = ACTIONS[verb]
        item = self.items.get(self.selected or "")
        if not isinstance(item, RunRow):
            self.app.notify("select a run on the pipelines server first", severity="warning")
            return
        if not action.allowed(item.state):
            self.app.notify(f"run {inert(item.name)} is {item.state}: it cannot be {verb}d now", severity="warning",
                            markup=False)
            return
        base = self.api_url or "$KF_PIPELINES_ENDPOINT"
        command = f"curl -X POST {base}/apis/v2beta1/runs/{item.id}:{verb}"
        if verb == "archive":
            command = f"kfp --endpoint {base} run archive {item.id}   # or: {command}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._do_action(verb, item)

        self.app.push_screen(ConfirmScreen(action.question.format(name=inert(item.name)), inert(command)), answered)

    def _do_action(self, verb: str, item: RunRow) -> None:
        source = self.source

        def call() -> None:
            from kftui.errors import KftuiError

            try:
                source.act(verb, item.id)
            except KftuiError as exc:
                self.post_message(RunActionDone(str(exc), failed=True))
                return
            self.post_message(RunActionDone(f"{verb} sent for run {inert(item.name)}", failed=False, run_id=item.id))

        self.run_worker(call, thread=True, group="run-action", exit_on_error=False, description=f"{verb} run")

    def on_run_action_done(self, message: RunActionDone) -> None:
        """Say what happened, then refresh the list and the changed run's tree (and its followed log) at once."""
        message.stop()
        self.app.notify(inert(message.text), severity="error" if message.failed else "information", markup=False)
        key = f"run:{message.run_id}"
        if message.run_id and key == self.selected and not message.failed:
            self.followed = None  # a retried task's pod is replaced under the same name: follow it again
            self._load_detail(key, message.run_id)
        self.poll()

    def on_run_submitted(self, message: RunSubmitted) -> None:
        """Put the new run in the table now (the next poll confirms it) and select it."""
        message.stop()
        key = self.model.put(message.row)
        self.state_index, self.experiment = 0, None
        self._redraw()
        table = self.query_one("#runs", DataTable)
        visible = self._visible()
        if key in visible:
            table.move_cursor(row=visible.index(key), animate=False)
            self._select(key)
        self.app.notify(f"submitted: run {inert(message.row.name)} ({message.row.id})", markup=False)

    # -- new runs: submit to the server, or run here with kfp.local -------------------------------
    def action_new_run(self) -> None:
        """Ask for a pipeline and where to run it; the same as `kftui runs submit` / `kftui runs local`."""
        from kftui.steps.base import Field, StepContext
        from kftui.widgets.form import FormScreen

        def where(_ctx: StepContext, _text: str) -> list[tuple[str, str]]:
            return [("server", "server: the Kubeflow Pipelines API"), ("local", "local: kfp.local on this machine")]

        fields = (
            Field(
                "pipeline",
                "Pipeline",
                placeholder="examples/train_pipeline_local.py or pipeline.yaml",
                validate=_validate_pipeline,
                help="Compiled YAML, or a .py file with a @dsl.pipeline (file.py[:name]).",
            ),
            Field("params", "Parameters", placeholder="epochs=3 lr=0.001", required=False, validate=_validate_params),
            Field("experiment", "Experiment", placeholder="Default", required=False),
            Field("where", "Run it on", kind="choice", suggest=where, validate=_validate_where),
        )
        app: Any = self.app
        default_where = "local" if self.error else "server"
        values = {"where": default_where, "experiment": self.experiment or ""}
        ctx = StepContext(answers={}, services=app.services)
        self.app.push_screen(FormScreen("New pipeline run", fields, values, ctx), self._new_run_answered)

    def _new_run_answered(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from kftui.widgets.modals import ConfirmScreen

        params = self.source.split_params(values.get("params", "").split())
        if values.get("where") == "local":
            self._start_local(values["pipeline"], params)
            return
        pipeline, experiment = values["pipeline"], values.get("experiment") or "Default"
        flags = "".join(f" -p {shlex.quote(f'{k}={v}')}" for k, v in params.items())
        where = self.api_url or "$KF_PIPELINES_ENDPOINT"
        command = f"kftui runs submit {shlex.quote(pipeline)}{flags} -e {shlex.quote(experiment)} --kfp-host {where}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit(pipeline, params, experiment)

        question = f"Submit {pipeline} to {where} in experiment {experiment}? It starts pods on the cluster."
        self.app.push_screen(ConfirmScreen(inert(question), inert(command)), answered)

    def _submit(self, pipeline: str, params: dict[str, str], experiment: str) -> None:
        source = self.source

        def call() -> None:
            from kftui.errors import KftuiError

            try:
                row = source.submit(pipeline, params, experiment)
            except KftuiError as exc:
                self.post_message(RunActionDone(f"submitting {pipeline} failed: {exc}", failed=True))
                return
            self.post_message(RunSubmitted(row))

        self.run_worker(
            call, thread=True, group="run-submit", exit_on_error=False, description=f"submitting {pipeline}"
        )

    def _start_local(self, pipeline: str, params: dict[str, str]) -> None:
        """Run on this machine in a child process (kfp.local prints to stdout, which a TUI cannot share)."""
        from kftui.core.runs import ExecutorNoise, LocalEventKind

        run = self.source.start_local(pipeline, params)
        source, title = f"local:{run.id}", f"local run {run.id} · {pipeline}"
        self._local_runs.append(run)
        noise = ExecutorNoise()
        self.post_message(LogFeed(source, title, [], "streaming", "starting the child process"))

        def pump() -> None:
            for event in run.events():
                line = local_line(event, noise)
                if line is not None:
                    detail = f"task {inert(event.task or '')}" if event.kind is LocalEventKind.TASK_START else ""
                    self.post_message(LogFeed(source, title, [line], "streaming" if detail else None, detail))
            record = run.record
            done = "ended" if record.state.name == "SUCCEEDED" else "error"
            self.post_message(LogFeed(source, title, [], done, f"pipeline {record.state} · log {record.log_path}"))
            self.post_message(RunActionDone(f"local run {run.id}: {record.state}", failed=done == "error"))

        threading.Thread(target=pump, daemon=True, name=f"kftui-local-{run.id}").start()

    def on_unmount(self) -> None:
        """The feed stops with the view; a local run still going is stopped with the app (its record: CANCELED)."""
        self.source.stop()
        for run in self._local_runs:
            run.stop()


def _validate_pipeline(value: str) -> str | None:
    """The file must exist and be compiled YAML or Python."""
    from pathlib import Path

    path = Path(value.split(":", 1)[0]).expanduser()
    if path.suffix not in (".py", ".yaml", ".yml"):
        return f"Pipeline must be a .py, .yaml or .yml file (got {path.name or value!r})."
    if not path.is_file():
        return f"Pipeline: no file at {path}."
    return None


def _validate_params(value: str) -> str | None:
    """Parameters are space-separated name=value pairs."""
    bad = [word for word in value.split() if "=" not in word or word.startswith("=")]
    return f"Parameters must be name=value pairs separated by spaces (not {bad[0]!r})." if bad else None


def _validate_where(value: str) -> str | None:
    """Only the two places kftui can run a pipeline."""
    return None if value in ("server", "local") else "Run it on must be 'server' or 'local'."
