"""The events view: every Kubernetes event of the watched scope, newest first, warnings marked (k9s `:events`).

Highlighting an event shows it whole in the details pane and, when it is about a pod, that pod's log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from kftui.core.events import TEXT_LIMIT, event_count, event_text, mapping
from kftui.core.kube import human_age, parse_time
from kftui.core.sanitize import inert, inert_lines
from kftui.core.table import Column, TableModel, WatchSpec
from kftui.views.base import ViewSpec
from kftui.widgets.messages import FollowPod, ShowDetails


@dataclass(frozen=True, slots=True)
class EventRow:
    """One Event as the view shows it (core/v1 Event fields; events.k8s.io series counted the same way)."""

    namespace: str
    name: str
    type: str
    reason: str
    kind: str
    object: str
    message: str
    count: int
    last: datetime | None
    source: str


def _count(obj: Mapping[str, Any]) -> int:
    raw = obj.get("count")
    return event_count(raw if raw not in (None, 0, "") else mapping(obj.get("series")).get("count"))


def event_row(obj: Mapping[str, Any]) -> EventRow:
    """An EventRow from an Event as JSON; the best timestamp it carries, as `kubectl get events` picks it. Every
    field is the server's: read for its type and bounded (kftui.core.events), so a junk event shows, not vanishes."""
    meta = mapping(obj.get("metadata"))
    inv = mapping(obj.get("involvedObject")) or mapping(obj.get("regarding"))
    src = mapping(obj.get("source"))
    series = mapping(obj.get("series"))
    stamp = next((t for t in (obj.get("lastTimestamp"), series.get("lastObservedTime"), obj.get("eventTime"),
                              obj.get("firstTimestamp"), meta.get("creationTimestamp")) if isinstance(t, str) and t),
                 None)
    return EventRow(
        namespace=event_text(meta.get("namespace")) or event_text(inv.get("namespace")),
        name=event_text(meta.get("name")),
        type=event_text(obj.get("type")) or "Normal",
        reason=event_text(obj.get("reason")),
        kind=event_text(inv.get("kind")),
        object=event_text(inv.get("name")),
        message=event_text(obj.get("message"), TEXT_LIMIT) or event_text(obj.get("note"), TEXT_LIMIT),
        count=_count(obj),
        last=parse_time(stamp[:64] if stamp else None),
        source=event_text(src.get("component")) or event_text(obj.get("reportingComponent"))
        or event_text(obj.get("reportingController")),
    )


def _key(row: EventRow) -> str:
    return f"{row.namespace}/{row.name}"


def _when(row: EventRow) -> float:
    return row.last.timestamp() if row.last is not None else 0.0


def _type_style(row: EventRow) -> str:
    return "bold yellow" if row.type == "Warning" else ""


COLUMNS: tuple[Column[EventRow], ...] = (
    Column("namespace", "NAMESPACE", lambda r, _: r.namespace, min_width=9, max_width=32, sort_key="P",
           style=lambda _r: "dim"),
    Column("last", "LAST SEEN", lambda r, now: human_age(r.last, now), min_width=9, clock=True,
           sort=lambda r: -_when(r), sort_key="A"),
    Column("type", "TYPE", lambda r, _: r.type, min_width=6, max_width=10, sort_key="Y", style=_type_style),
    Column("reason", "REASON", lambda r, _: r.reason, min_width=8, max_width=28, sort_key="R", style=_type_style),
    Column("object", "OBJECT", lambda r, _: f"{r.kind.lower()}/{r.object}", min_width=12, max_width=48,
           sort_key="O", cut_middle=True),
    Column("count", "COUNT", lambda r, _: str(r.count), right=True, sort=lambda r: r.count, sort_key="C"),
    Column("message", "MESSAGE", lambda r, _: r.message, min_width=30, grow=True, sort_key="M"),
)


def events_model() -> TableModel[EventRow]:
    """Newest first, as `kubectl get events --sort-by=.lastTimestamp` read from the bottom."""
    return TableModel(COLUMNS, key=_key,
                      haystack=lambda r: f"{r.namespace}/{r.kind}/{r.object} {r.type} {r.reason} {r.message}",
                      sort="last", tie=_key)


def event_details(row: EventRow) -> Text:
    """The whole event, every field inert."""
    out = Text()
    out.append(f"{inert(row.type)} {inert(row.reason)}\n", style="bold yellow" if row.type == "Warning" else "bold")
    out.append(f"{inert(row.kind)} {inert(row.namespace)}/{inert(row.object)}\n", style="bold")
    if row.count > 1:
        out.append(f"seen {row.count} times\n", style="dim")
    if row.source:
        out.append(f"from {inert(row.source)}\n", style="dim")
    out.append("\n" + inert_lines(row.message) + "\n")
    return out


def select(row: EventRow) -> list[Message]:
    """The event in the details pane; the pod it is about in the log pane."""
    out: list[Message] = [ShowDetails(f"event:{_key(row)}", event_details(row))]
    if row.kind == "Pod" and row.object:
        out.append(FollowPod(row.namespace, row.object, gone_note=f"pod {row.object} does not exist (any more)"))
    return out


def _warnings_only(view: Any) -> None:
    """w: only warnings (again: everything)."""
    view.set_filter("" if view.model.filter_text == "warning" else "warning")


VIEW = ViewSpec(
    id="events", label="Events", key="4", aliases=("ev", "event", "events"), noun="events", model=events_model,
    watch=WatchSpec("events", event_row), select=select,
    keys=(Binding("w", "view('warnings')", "Warnings"),), actions={"warnings": _warnings_only},
    placeholder="filter events (regex over object, reason and message; Esc clears)",
)
