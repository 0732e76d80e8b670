"""Pipeline runs as the app shows them: rows, task trees, local runs, and which pod ran which task."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

RUN_ID_LABEL = "pipeline/runid"
"""Label KFP puts on every pod of a run: the only reliable way from a run to its pods."""

NODE_NAME_ANNOTATION = "workflows.argoproj.io/node-name"
"""Argo annotation naming the workflow node (and so the task) a pod belongs to."""

USER_CONTAINER = "main"
"""Container that holds the user's code in a KFP v2 executor pod."""


class RunState(enum.StrEnum):
    """KFP v2 runtime states (tasks share them); UNKNOWN covers missing or future values."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    PAUSED = "PAUSED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: object) -> RunState:
        """Map whatever the API sent (None, enum names, lower case, 'Error') to a state, never raising."""
        text = str(value or "").strip().upper()
        if text in {"ERROR", "FAILURE"}:
            return cls.FAILED
        if text in {"SUCCESS", "COMPLETED"}:
            return cls.SUCCEEDED
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN

    @property
    def finished(self) -> bool:
        """Whether the run or task will not change again on its own."""
        return self in _FINISHED

    @property
    def can_terminate(self) -> bool:
        """Whether terminating makes sense (KFP rejects or ignores it otherwise)."""
        return self in {RunState.PENDING, RunState.RUNNING, RunState.PAUSED}

    @property
    def can_retry(self) -> bool:
        """Whether KFP accepts `:retry` for a run in this state."""
        return self in {RunState.FAILED, RunState.CANCELED}


_FINISHED = {RunState.SUCCEEDED, RunState.SKIPPED, RunState.FAILED, RunState.CANCELED}


def duration_between(start: datetime | None, end: datetime | None) -> timedelta | None:
    """Elapsed time when both ends are known and ordered; None rather than a negative lie."""
    if start is None or end is None or end < start:
        return None
    return end - start


@dataclass(frozen=True, slots=True)
class RunRow:
    """One line of the runs table."""

    id: str
    name: str
    experiment: str
    state: RunState
    created: datetime | None
    finished: datetime | None
    duration: timedelta | None
    experiment_id: str = ""
    archived: bool = False
    error: str = ""


RUNTIME_ROLE_ANNOTATION = "pipelines.kubeflow.org/runtime-role"
"""KFP's template annotation on every driver (`driver`) and user-code (`launcher`) pod."""


@dataclass(frozen=True, slots=True)
class TaskNode:
    """One row of a run's task tree: a pipeline task, a loop, one iteration, a group, or one attempt of a task.

    `id` is the Argo node name of the row (unique, even across loop iterations); `pods` lists, best first, the
    (node name, runtime role) pairs whose pod holds this row's log: the attempt's launcher pod, else the driver.
    """

    id: str
    name: str
    state: RunState
    start: datetime | None
    end: datetime | None
    duration: timedelta | None
    error: str
    children: tuple[TaskNode, ...] = ()
    run_id: str = ""
    kind: str = "task"
    """task, group (conditions, exit handlers, nested pipelines), loop, iteration, attempt."""
    pods: tuple[tuple[str, str], ...] = ()
    cached: bool = False
    attempts: int = 0
    """How many attempts a task made (its attempt rows are its children when there were several)."""

    def walk(self) -> Iterator[TaskNode]:
        """This task and all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with its task tree, as the run view needs it."""

    row: RunRow
    tasks: tuple[TaskNode, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def walk(self) -> Iterator[TaskNode]:
        """Every task in the tree, depth first."""
        for task in self.tasks:
            yield from task.walk()

    def failed_tasks(self) -> list[TaskNode]:
        """The rows whose logs explain a failure: leaf-most failed tasks, and of a retried one its last attempt."""
        return [t for task in self.tasks for t in _failing(task)]


def _failing(task: TaskNode) -> list[TaskNode]:
    if task.state is not RunState.FAILED:
        return [] if task.kind == "task" else [t for c in task.children for t in _failing(c)]
    attempts = [c for c in task.children if c.kind == "attempt"]
    if attempts:
        return [attempts[-1]]
    inner = [t for c in task.children for t in _failing(c)]
    return inner or [task]


def run_label_selector(run_id: str) -> str:
    """Kubernetes label selector for every pod of one run."""
    return f"{RUN_ID_LABEL}={run_id}"


def fnv32a(text: str) -> int:
    """FNV-1a 32: Argo hashes node names with it into node IDs and pod names."""
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def _node_id(workflow: str, name: str) -> str:
    """Argo's Workflow.NodeID: the workflow name for the root node, else workflow-fnv32a(name)."""
    return workflow if name == workflow else f"{workflow}-{fnv32a(name)}"


def _fnv_more(state: int, text: str) -> int:
    """Continue an FNV-1a 32 hash with more text (the hash of a name is the state after its last byte)."""
    for byte in text.encode():
        state = ((state ^ byte) * 16777619) & 0xFFFFFFFF
    return state


def node_names(details: list[Mapping[str, Any]]) -> tuple[str, dict[int, str]]:
    """(workflow name, entry index -> Argo node name) recovered from real task_details.

    The API gives each node's display name and its children's node IDs only. A node ID is the workflow name plus
    the FNV hash of the full node name, and every node's name is an ancestor's name, ".", and its display name. So
    first every node name is found by hashing known names + "." + each display name until the children's IDs are
    explained (whichever entry is which); then each entry takes its name: an entry holding a structural child of a
    name is that name; entries alike in display (two `executor` pods) are told apart by the DAG their children are
    in and the time and state of the node they hang under. Entries that do not resolve stay unnamed.
    """
    displays = [str(d.get("display_name") or "") for d in details]
    kids = [[str(c.get("pod_name") or c.get("task_id") or "") for c in d.get("child_tasks") or []] for d in details]
    workflow, root = "", -1
    for i, display in enumerate(displays):
        wanted = {_node_id(display, f"{display}.root-driver"), _node_id(display, f"{display}.root")}
        if display and wanted & set(kids[i]):
            workflow, root = display, i
            break
    if root < 0:
        return "", {}
    wanted_ids = {c for children in kids for c in children}
    every = sorted(set(displays) - {""})
    known: dict[str, int] = {workflow: fnv32a(workflow)}  # name -> its FNV state
    by_id: dict[str, str] = {}
    todo = [workflow]
    while todo:
        prefix = todo.pop()
        state = known[prefix]
        for display in every:
            name = f"{prefix}.{display}"
            if name in known:
                continue
            value = _fnv_more(state, "." + display)
            nid = f"{workflow}-{value}"
            if nid in wanted_ids and nid not in by_id:
                known[name] = value
                by_id[nid] = name
                todo.append(name)
    return workflow, _assign(workflow, root, displays, kids, by_id, details)


_INDEXED = re.compile(r"^(?P<base>.+)\((?P<index>[^)]*)\)$")


def _assign(
    workflow: str,
    root: int,
    displays: list[str],
    kids: list[list[str]],
    by_id: dict[str, str],
    details: list[Mapping[str, Any]],
) -> dict[int, str]:
    """Give each entry its node name (see node_names)."""
    names: dict[int, str] = {root: workflow}
    real = set(by_id.values())
    taken = {workflow}
    for i, children in enumerate(kids):
        if i == root:
            continue
        for c in children:
            child = by_id.get(c)
            if child is None:
                continue
            parent, _, last = child.rpartition(".")
            holders = [parent]
            indexed = _INDEXED.match(last)
            if indexed:  # executor(1) hangs under its Retry node, iteration-iterations(0:0) under its TaskGroup
                holders.insert(0, f"{parent}.{indexed['base']}")
            found = next(
                (h for h in holders if h in real and h not in taken and h.rpartition(".")[2] == displays[i]), None
            )
            if found is not None:
                names[i] = found
                taken.add(found)
                break
    free: dict[str, list[int]] = {}
    for i, display in enumerate(displays):
        if i not in names:
            free.setdefault(display, []).append(i)
    inverse = {v: k for k, v in names.items()}
    for name in sorted(real - taken, key=lambda n: (n.count("."), n)):
        pool = free.get(name.rpartition(".")[2]) or []
        if not pool:
            continue
        above = inverse.get(name.rpartition(".")[0])
        best = min(pool, key=lambda i: _misfit(details, i, above, kids[i], by_id, name))
        pool.remove(best)
        names[best] = name
        inverse[name] = best
    return names


def _misfit(
    details: list[Mapping[str, Any]],
    entry: int,
    parent: int | None,
    children: list[str],
    by_id: dict[str, str],
    name: str,
) -> tuple[int, int, int, int]:
    """How badly an entry fits a name: children outside its DAGs, fewer dependants in the very DAG its task is in
    (an executor's dependants hang off it), times outside its parent's, a state clash."""
    outside = sum(1 for c in children if c in by_id and not name.startswith(by_id[c].rpartition(".")[0] + "."))
    task_dag = name.rsplit(".", 2)[0]
    exact = sum(1 for c in children if c in by_id and by_id[c].rpartition(".")[0] == task_dag)
    if parent is None:
        return outside, -exact, 0, 0
    me, up = details[entry], details[parent]
    start, end = api_time(me.get("start_time")), api_time(me.get("end_time"))
    up_start, up_end = api_time(up.get("start_time")), api_time(up.get("end_time"))
    late = int(bool(start and up_start and start < up_start)) + int(bool(end and up_end and end > up_end))
    state, up_state = str(me.get("state") or ""), str(up.get("state") or "")
    clash = int(bool(state) and up_state in ("SUCCEEDED", "FAILED") and state not in (up_state, "SKIPPED"))
    return outside, -exact, late, clash


_ATTEMPT = re.compile(r"^executor\((\d+)\)$")
_ITERATION = re.compile(r"^iteration-iterations\((\d+):[^)]*\)$")


def build_task_tree(run_id: str, details: list[Mapping[str, Any]], parse_time: Any = None) -> tuple[TaskNode, ...]:
    """The pipeline's tasks from real task_details: drivers, executors and iterations folded under their task.

    Each task lists its attempts (`executor(0)`, `executor(1)` of a retried task; the last one is the one that
    counts), a loop lists its iterations, a cache hit (driver ran, executor Skipped) is marked cached. `parse_time`
    turns the API's times into datetimes (None for KFP's 1970 placeholder).
    """
    when = parse_time or api_time
    workflow, names = node_names(details)
    entries = {names[i]: details[i] for i in names}
    children: dict[str, list[str]] = {}
    for name in entries:
        if name != workflow:
            children.setdefault(name.rpartition(".")[0], []).append(name)

    def info(name: str) -> tuple[RunState, datetime | None, datetime | None]:
        entry = entries.get(name) or {}
        return RunState.parse(entry.get("state")), when(entry.get("start_time")), when(entry.get("end_time"))

    def display(name: str) -> str:
        return name.rpartition(".")[2]

    def order(names_: list[str]) -> list[str]:
        return sorted(names_, key=lambda n: (info(n)[1] or datetime.max.replace(tzinfo=UTC), n))

    def node(name: str, label: str, kind: str, kids: tuple[TaskNode, ...] = (), **extra: Any) -> TaskNode:
        state, start, end = info(name)
        if state is RunState.UNKNOWN and name in entries and not entries[name].get("state"):
            state = RunState.SKIPPED  # Argo Omitted (upstream failed): the API leaves the state out
        return TaskNode(
            id=name, name=label, state=state, start=start, end=end, duration=duration_between(start, end),
            error="", children=kids, run_id=run_id, kind=kind, **extra,
        )  # fmt: skip

    def fold(dag: str) -> tuple[TaskNode, ...]:
        inside = children.get(dag, [])
        shown = {display(n) for n in inside}
        out: list[TaskNode] = []
        for name in order(inside):
            label = display(name)
            if label.endswith("-driver"):
                if label.removesuffix("-driver") in shown:
                    continue  # folded into its task
                out.append(node(name, label.removesuffix("-driver"), "task", pods=((name, "driver"),)))
                continue
            out.append(task(name, label))
        return tuple(out)

    def task(name: str, label: str) -> TaskNode:
        inside = {display(n): n for n in children.get(name, [])}
        driver = f"{name}-driver"
        driver_pod = ((driver, "driver"),) if driver in entries else ()
        if "iteration-iterations" in inside:
            its = []
            for it in order([n for n in children.get(name, []) if _ITERATION.match(display(n))]):
                match = _ITERATION.match(display(it))
                index = match.group(1) if match else display(it)
                its.append(node(it, f"iteration {index}", "iteration", fold(f"{it}.iteration-item")))
            loop_driver = inside.get("iteration-driver")
            pods = ((loop_driver, "driver"),) if loop_driver else ()
            return node(name, label, "loop", tuple(its), pods=pods)
        attempts = sorted(
            (int(m.group(1)), n) for n in inside.values() if (m := _ATTEMPT.match(display(n)))
        )  # fmt: skip
        if attempts:
            rows = tuple(node(n, f"attempt {i + 1}", "attempt", pods=((n, "launcher"),)) for i, n in attempts)
            last = attempts[-1][1]
            pods = ((last, "launcher"), *driver_pod)
            return node(name, label, "task", rows if len(rows) > 1 else (), pods=pods, attempts=len(rows))
        executor = inside.get("executor")
        if executor is not None:
            state = info(executor)[0]
            if state is RunState.SKIPPED and info(name)[0] is RunState.SUCCEEDED:
                return node(name, label, "task", pods=driver_pod, cached=True)
            return node(name, label, "task", pods=((executor, "launcher"), *driver_pod), attempts=1)
        if children.get(name):
            return node(name, label, "group", fold(name), pods=driver_pod)
        return node(name, label, "task", pods=driver_pod)

    if workflow:
        return fold(f"{workflow}.root")
    # Not an Argo-shaped answer: show the entries as they are, without pods, rather than nothing.
    flat = []
    for i, entry in enumerate(details):
        label = str(entry.get("display_name") or entry.get("task_id") or i)
        if label in ("root", "executor") or label.endswith("-driver"):
            continue
        state, start, end = (
            RunState.parse(entry.get("state")),
            when(entry.get("start_time")),
            when(entry.get("end_time")),
        )
        flat.append(TaskNode(id=str(entry.get("task_id") or label), name=label, state=state, start=start, end=end,
                             duration=duration_between(start, end), error="", run_id=run_id))  # fmt: skip
    return tuple(flat)


def api_time(value: Any) -> datetime | None:
    """KFP's API time (text or datetime) -> aware UTC datetime; its 1970 placeholder for "not yet" -> None."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None if moment.timestamp() <= 0 else moment.astimezone(UTC)


def map_pods_to_nodes(run_id: str, pods: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """(Argo node name, runtime role) -> pod name, for the pods of one run (dicts with name, labels, annotations).

    Pods without the runtime-role annotation (older backends) count as launchers unless their name says driver.
    """
    found: dict[tuple[str, str], str] = {}
    for pod in pods:
        labels = pod.get("labels") or {}
        if labels.get(RUN_ID_LABEL) != run_id:
            continue
        annotations = pod.get("annotations") or {}
        node = str(annotations.get(NODE_NAME_ANNOTATION, ""))
        name = str(pod.get("name", ""))
        if not node or not name:
            continue
        role = str(annotations.get(RUNTIME_ROLE_ANNOTATION) or ("driver" if "driver" in name else "launcher"))
        found[(node, role)] = name
    return found


def pods_of(task: TaskNode, pods: Mapping[tuple[str, str], str]) -> list[str]:
    """The pods holding a row's log, best first (its attempt's launcher, then its driver)."""
    return [pods[ref] for ref in task.pods if ref in pods]


class LocalEventKind(enum.StrEnum):
    """What a line from a local run means."""

    PIPELINE_START = "pipeline_start"
    PIPELINE_END = "pipeline_end"
    TASK_START = "task_start"
    TASK_END = "task_end"
    LOG = "log"
    RUNNER = "runner"
    """A line of kfp.local itself (or of the child process), not of any task."""
    OUTPUTS = "outputs"
    """The pipeline's own outputs, once it succeeded."""


@dataclass(frozen=True, slots=True)
class LocalEvent:
    """One thing that happened in a local run: a task state change, or one log line of a task."""

    kind: LocalEventKind
    task: str | None = None
    state: RunState | None = None
    line: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)
    error: str = ""
    attempt: int = 0
    """1, 2, ... for a task its retry policy ran again; 0 when not said."""


@dataclass(frozen=True, slots=True)
class LocalRunRecord:
    """A past or present local run, as kept in the local runs index."""

    id: str
    pipeline: str
    parameters: Mapping[str, str]
    state: RunState
    started: datetime
    finished: datetime | None
    root: str
    log_path: str
    tasks: Mapping[str, RunState] = field(default_factory=dict)
    error: str = ""

    @property
    def duration(self) -> timedelta | None:
        """Wall time of a finished local run."""
        return duration_between(self.started, self.finished)


class ExecutorNoise:
    """Hides the KFP executor's own chatter (its INFO lines and the executor_input JSON dump) from the stream.

    The full output, noise included, stays in the run's output.log.
    """

    def __init__(self) -> None:
        self.in_dump: dict[str, bool] = {}

    def hides(self, event: LocalEvent) -> bool:
        """Whether this log line is executor noise rather than the task's own output."""
        if event.kind is not LocalEventKind.LOG:
            return False
        task, line = event.task or "", event.line
        if self.in_dump.get(task):
            if line == "}":
                self.in_dump[task] = False
            return True
        if line.startswith("[KFP Executor "):
            if line.rstrip().endswith("Got executor_input:"):
                self.in_dump[task] = True
            return True
        return False


def short_duration(delta: timedelta | None, missing: str = "") -> str:
    """`8m`, `1h52m`, `7d2h`: kubectl's style, for run and task durations."""
    if delta is None:
        return missing
    secs = max(0, int(delta.total_seconds()))
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 60:
        return f"{mins}m"
    hours = mins // 60
    if hours < 48:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    days = hours // 24
    return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
