"""Kubernetes things as the app shows them: pod rows, notebook rows, watch and log-follow events (pure)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GPU_RESOURCE = "nvidia.com/gpu"
STOP_ANNOTATION = "kubeflow-resource-stopped"
PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName"})


def parse_time(text: str | None) -> datetime | None:
    """An RFC3339 (or RFC3339Nano) string as an aware datetime; None when absent or unreadable (a server's number,
    list or object there too)."""
    if not isinstance(text, str) or not text:
        return None
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if "." in t:  # Python keeps microseconds only: cut the fraction to 6 digits
        head, _, rest = t.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        t = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    try:
        parsed = datetime.fromisoformat(t)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def human_age(then: datetime | None, now: datetime | None = None) -> str:
    """kubectl's short age: 45s, 3m20s, 15m, 2h5m, 3d4h, 120d."""
    if then is None:
        return "<unknown>"
    secs = int(((now or datetime.now(UTC)) - then).total_seconds())
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d" if days < 730 else f"{days // 365}y"


def _quantity(value: Any) -> int:
    """An integer resource quantity (GPUs are whole numbers); anything unreadable counts as 0."""
    if value is None:  # most containers ask for no GPU: no exception to raise and catch for them
        return 0
    try:
        return int(float(str(value)))
    except (TypeError, ValueError):
        return 0


def gpus_requested(containers: Sequence[Mapping[str, Any]] | None) -> int:
    """Sum of nvidia.com/gpu over containers (limits, else requests: GPUs must have limit == request)."""
    total = 0
    for c in containers or []:
        res = c.get("resources") or {}
        amount = (res.get("limits") or {}).get(GPU_RESOURCE)
        if amount is None:
            amount = (res.get("requests") or {}).get(GPU_RESOURCE)
        total += _quantity(amount)
    return total


HEALTHY = frozenset({"Running", "Completed", "Succeeded"})
"""Pod statuses that need no explaining (anything else gets a reason in the details pane)."""


@dataclass(frozen=True, slots=True)
class PodRow:
    """One line of the pod table, computed the way `kubectl get pods` computes it."""

    namespace: str
    name: str
    ready: str
    status: str
    restarts: int
    created: datetime | None
    node: str
    gpus: int
    phase: str = ""
    reason: str = ""
    """Why it is not running, when known (e.g. Unschedulable, ImagePullBackOff)."""
    message: str = ""
    uid: str = ""
    containers: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    last_restart: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Table row key."""
        return (self.namespace, self.name)

    def age(self, now: datetime | None = None) -> str:
        """Age as kubectl prints it."""
        return human_age(self.created, now)


def pod_row(pod: Mapping[str, Any]) -> PodRow:
    """A PodRow from a pod as JSON (dict); mirrors kubectl's printPod status rules."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    st = pod.get("status") or {}
    phase = str(st.get("phase") or "Unknown")
    reason = str(st.get("reason") or phase)
    detail_reason = ""
    message = str(st.get("message") or "")
    containers = spec.get("containers") or []
    init_specs = spec.get("initContainers") or []
    restarts = 0
    last_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term = state.get("terminated")
        waiting = state.get("waiting")
        if term and int(term.get("exitCode", 0)) == 0:
            continue
        initializing = True
        if term:
            reason = f"Init:{term.get('reason') or 'ExitCode:' + str(term.get('exitCode'))}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
            detail_reason, message = str(waiting["reason"]), str(waiting.get("message") or message)
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        break
    ready = 0
    running = False
    if not initializing:
        restarts = 0
        for cs in reversed(st.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
            if finished and (last_restart is None or finished > last_restart):
                last_restart = finished
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            term = state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = str(waiting["reason"])
                detail_reason, message = reason, str(waiting.get("message") or "")
            elif term:
                reason = str(term.get("reason") or (
                    f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"))
            elif cs.get("ready") and "running" in state:
                running = True
                ready += 1
        if reason == "Completed" and running:
            conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
            reason = "Running" if conds.get("Ready") == "True" else "NotReady"
    if phase == "Pending" and not detail_reason:
        for cond in st.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                detail_reason = str(cond.get("reason") or "Unschedulable")
                message = str(cond.get("message") or message)
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if st.get("reason") == "NodeLost" else "Terminating"
    return PodRow(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        ready=f"{ready}/{len(containers)}",
        status=reason,
        restarts=restarts,
        created=parse_time(meta.get("creationTimestamp")),
        node=str(spec.get("nodeName") or ""),
        gpus=gpus_requested(containers) + 0,
        phase=phase,
        reason=detail_reason,
        message=message,
        uid=str(meta.get("uid") or ""),
        containers=tuple(str(c.get("name")) for c in containers),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        last_restart=last_restart,
    )


class WatchKind(enum.StrEnum):
    """What happened to a pod; SYNCED carries a full snapshot (initial list, or re-list after 410)."""

    SYNCED = "synced"
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PodEvent:
    """One item from a PodWatcher: a change to one pod, or a full snapshot to replace the table with."""

    kind: WatchKind
    pod: PodRow | None = None
    snapshot: tuple[PodRow, ...] = ()
    message: str = ""


class LogState(enum.StrEnum):
    """Where a log follow stands, so the view never says "waiting for logs" without saying why."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    WAITING = "waiting"  # the container runs but has written nothing yet
    NOT_STARTED = "not-started"  # the container has not started (reason: ContainerCreating, ImagePullBackOff...)
    RECONNECTING = "reconnecting"
    RESTARTED = "restarted"  # the container restarted; following the new run
    ENDED = "ended"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LogStatus:
    """A state change of a log follow, with the words to show."""

    state: LogState
    container: str = ""
    detail: str = ""
    attempt: int = 0
    since: datetime | None = None


class NotebookPhase(enum.StrEnum):
    """The Kubeflow dashboard's notebook phases."""

    READY = "ready"
    WAITING = "waiting"
    WARNING = "warning"
    STOPPED = "stopped"
    TERMINATING = "terminating"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class NotebookRow:
    """A notebook server as the dashboard would list it, with the reason it never shows up front."""

    namespace: str
    name: str
    image: str
    gpus: int
    phase: NotebookPhase
    message: str
    created: datetime | None = None
    cpu: str = ""
    memory: str = ""
    events: tuple[Mapping[str, Any], ...] = ()

    @property
    def pod_name(self) -> str:
        """The StatefulSet's pod for this notebook."""
        return f"{self.name}-0"


def notebook_phase(
    nb: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None = None
) -> tuple[NotebookPhase, str]:
    """Phase and message computed like the Kubeflow jupyter web app's `process_status`."""
    meta = nb.get("metadata") or {}
    st = nb.get("status")
    ready_replicas = int((st or {}).get("readyReplicas") or 0)
    if STOP_ANNOTATION in (meta.get("annotations") or {}):
        if ready_replicas == 0:
            return NotebookPhase.STOPPED, "No Pods are currently running for this Notebook Server."
        return NotebookPhase.TERMINATING, "Notebook Server is stopping."
    if meta.get("deletionTimestamp"):
        return NotebookPhase.TERMINATING, "Deleting this Notebook Server."
    if not st:
        return NotebookPhase.WAITING, "Scheduling the Pod"
    if ready_replicas >= 1:
        return NotebookPhase.READY, "Running"
    waiting = (st.get("containerState") or {}).get("waiting")
    if waiting:
        reason = str(waiting.get("reason") or "")
        if reason == "PodInitializing":
            return NotebookPhase.WAITING, reason
        msg = str(waiting.get("message") or "")
        return NotebookPhase.WARNING, f"{reason}: {msg}" if msg else reason
    for ev in sorted(events or [], key=lambda e: str(e.get("lastTimestamp") or ""), reverse=True):
        if ev.get("type") == "Warning":
            return NotebookPhase.WARNING, str(ev.get("message") or ev.get("reason") or "")
    for cond in st.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("message"):
            return NotebookPhase.WARNING, str(cond["message"])
    return NotebookPhase.WAITING, "Scheduling the Pod"


def notebook_row(nb: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None = None) -> NotebookRow:
    """A NotebookRow from a Notebook as JSON plus its events (newest relevant first)."""
    meta = nb.get("metadata") or {}
    containers = ((((nb.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    first = containers[0] if containers else {}
    requests = (first.get("resources") or {}).get("requests") or {}
    phase, message = notebook_phase(nb, events)
    return NotebookRow(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        image=str(first.get("image") or ""),
        gpus=gpus_requested(containers),
        phase=phase,
        message=message,
        created=parse_time(meta.get("creationTimestamp")),
        cpu=str(requests.get("cpu") or ""),
        memory=str(requests.get("memory") or ""),
        events=tuple(events or ()),
    )
