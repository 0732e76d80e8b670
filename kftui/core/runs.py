"""Pipeline runs as the app shows them: rows, task trees, local runs, and which pod ran which task."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

RUN_ID_LABEL = "pipeline/runid"
"""Label KFP puts on every pod of a run: the only reliable way from a run to its pods."""

NODE_NAME_ANNOTATION = "workflows.argoproj.io/node-name"
"""Argo annotation naming the workflow node (and so the task) a pod belongs to."""

IMPL_POD_MARKER = "-system-container-impl-"
"""Pods whose name holds this run the user's code (container `main`); drivers only launch them."""

USER_CONTAINER = "main"
"""Container that holds the user's code in a KFP v2 executor pod."""

# Argo node-name segments that name a pod's role rather than the task.
_ROLE_SEGMENTS = {"executor", "driver", "importer"}


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


@dataclass(frozen=True, slots=True)
class PodSelector:
    """How to find a task's pod: list by label selector, then match the node-name annotation."""

    label_selector: str
    node_name_suffix: str


@dataclass(frozen=True, slots=True)
class TaskNode:
    """One task of a run (a DAG task has children); `pod_selector` leads to its logs."""

    id: str
    name: str
    state: RunState
    start: datetime | None
    end: datetime | None
    duration: timedelta | None
    error: str
    children: tuple[TaskNode, ...] = ()
    run_id: str = ""

    @property
    def pod_selector(self) -> PodSelector:
        """KFP never fills pod_name; this is the documented way to the task's pod."""
        return PodSelector(label_selector=f"{RUN_ID_LABEL}={self.run_id}", node_name_suffix=self.name)

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
        """Leaf-most failed tasks: the ones whose logs explain the failure."""
        return [t for t in self.walk() if t.state is RunState.FAILED and not _has_failed_child(t)]


def _has_failed_child(task: TaskNode) -> bool:
    return any(c.state is RunState.FAILED for c in task.children)


def run_label_selector(run_id: str) -> str:
    """Kubernetes label selector for every pod of one run."""
    return f"{RUN_ID_LABEL}={run_id}"


def task_name_from_node(node_name: str) -> str:
    """The task an Argo node name points at: `wf.root.train.executor` -> `train`."""
    segments = [s for s in node_name.split(".") if s]
    while segments and segments[-1] in _ROLE_SEGMENTS:
        segments.pop()
    if not segments:
        return ""
    last = segments[-1]
    # ParallelFor iterations (`for-loop-2(0)`) carry an index in parentheses.
    return last.split("(", 1)[0]


def _pod_rank(pod_name: str) -> int:
    """Executor pods first; pods that look like drivers last."""
    if IMPL_POD_MARKER in pod_name:
        return 0
    if "driver" in pod_name:
        return 2
    return 1


def map_tasks_to_pods(
    run_id: str, task_names: Iterable[str], pods: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Task name -> pod names of that run (best first); pods are dicts with name, labels, annotations.

    A task with no pod (never scheduled, or garbage-collected) is absent: the caller says so plainly.
    """
    wanted = set(task_names)
    found: dict[str, list[str]] = {}
    for pod in pods:
        labels = pod.get("labels") or {}
        if labels.get(RUN_ID_LABEL) != run_id:
            continue
        annotations = pod.get("annotations") or {}
        task = task_name_from_node(str(annotations.get(NODE_NAME_ANNOTATION, "")))
        name = str(pod.get("name", ""))
        if task in wanted and name:
            found.setdefault(task, []).append(name)
    for names in found.values():
        names.sort(key=lambda n: (_pod_rank(n), n))
    return found


class LocalEventKind(enum.StrEnum):
    """What a line from a local run means."""

    PIPELINE_START = "pipeline_start"
    PIPELINE_END = "pipeline_end"
    TASK_START = "task_start"
    TASK_END = "task_end"
    LOG = "log"


@dataclass(frozen=True, slots=True)
class LocalEvent:
    """One thing that happened in a local run: a task state change, or one log line of a task."""

    kind: LocalEventKind
    task: str | None = None
    state: RunState | None = None
    line: str = ""
    outputs: Mapping[str, str] = field(default_factory=dict)
    error: str = ""


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
