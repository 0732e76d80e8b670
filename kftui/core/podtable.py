"""The pod table: its columns, key and search text, as `kubectl get pods` shows a pod.

Apart from the pods view so that the prefetch child can file the rows it lists exactly as the table does, without
importing the UI (the view registry loads Textual).
"""

from __future__ import annotations

from datetime import datetime

from kftui.core.kube import PodRow, human_age
from kftui.core.table import Column, TableModel

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
    Column("name", "NAME", lambda r, _: r.name, min_width=28, grow=True, sort_key="N", cut_middle=True),
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
