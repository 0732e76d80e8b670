"""The pods view: every pod as `kubectl get pods` shows it, live from the pod watch."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kftui.core.kube import PodRow, human_age, pod_row
from kftui.core.table import Column, TableModel, WatchSpec
from kftui.views.base import ViewSpec

STATUS_STYLE = {
    "Running": "green",
    "Completed": "dim",
    "Succeeded": "dim",
    "Pending": "yellow",
    "ContainerCreating": "yellow",
    "PodInitializing": "yellow",
    "Terminating": "magenta",
}


def pod_key(row: PodRow) -> str:
    """namespace/name: unique in a cluster, and what every message about a pod carries."""
    return f"{row.namespace}/{row.name}"


def _status_style(row: PodRow) -> str:
    return STATUS_STYLE.get(row.status, "bold red")


def _created(row: PodRow) -> float:
    return row.created.timestamp() if row.created is not None else 0.0


def _age(row: PodRow, now: datetime | None) -> str:
    return human_age(row.created, now)


COLUMNS: tuple[Column[PodRow], ...] = (
    Column("namespace", "NAMESPACE", lambda r, _: r.namespace, min_width=9, max_width=32, sort_key="P",
           style=lambda _r: "dim"),
    Column("name", "NAME", lambda r, _: r.name, min_width=28, grow=True, sort_key="N"),
    Column("ready", "READY", lambda r, _: r.ready, min_width=5, sort_key="R"),
    Column("status", "STATUS", lambda r, _: r.status, min_width=7, max_width=26, sort_key="S",
           style=_status_style),
    Column("restarts", "RESTARTS", lambda r, _: str(r.restarts), right=True, sort=lambda r: r.restarts,
           sort_key="T"),
    Column("age", "AGE", _age, min_width=5, clock=True, sort=lambda r: -_created(r), sort_key="A"),
    Column("gpus", "GPU", lambda r, _: str(r.gpus or ""), right=True, sort=lambda r: r.gpus, sort_key="U"),
    Column("node", "NODE", lambda r, _: r.node or "", min_width=6, max_width=48, sort_key="O"),
)


def haystack(row: PodRow) -> str:
    """What `/` searches: namespace/name, status and node (the k9s filter's reach)."""
    return f"{row.namespace}/{row.name} {row.status} {row.node}"


def pods_model() -> TableModel[PodRow]:
    """Sorted by namespace then name, the order a fresh `kubectl get pods -A` has."""
    return TableModel(COLUMNS, key=pod_key, haystack=haystack, sort="namespace", tie=lambda r: r.name)


def _watch_row(obj: Mapping[str, Any]) -> PodRow:
    return pod_row(obj)


VIEW = ViewSpec(id="pods", label="Pods", key="1", aliases=("po", "pod", "pods"), noun="pods", model=pods_model,
                watch=WatchSpec("pods", _watch_row), eager=True,
                placeholder="filter pods (regex, !regex excludes; Enter keeps it, Esc clears)")
