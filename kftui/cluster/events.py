"""Recent events about one object (a pod or a Notebook), newest last, in the shape the UI shows.

Every field of an Event comes from the API server, and anything that can write Events can write any JSON there
(a broken controller, a proxy, a hostile workload's operator): each field is read on its own, checked for its type
and bounded, so one bad event is shown as well as it can be and never crashes a pane or a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json
from kftui.core.events import COUNT_LIMIT, FIELD_LIMIT, TEXT_LIMIT, event_count, event_text, mapping

__all__ = ["COUNT_LIMIT", "TEXT_LIMIT", "event_count", "event_time", "list_events", "object_events", "simplify"]

def event_time(ev: Mapping[str, Any]) -> str:
    """The best timestamp an event carries (lastTimestamp, eventTime, firstTimestamp, creation)."""
    for value in (ev.get("lastTimestamp"), ev.get("eventTime"), ev.get("firstTimestamp"),
                  mapping(ev.get("metadata")).get("creationTimestamp")):
        if isinstance(value, str) and value:
            return value[:FIELD_LIMIT]
    return ""


def simplify(ev: Mapping[str, Any]) -> dict[str, Any]:
    """An Event as {type, reason, message, count, lastTimestamp, source, object}, every value a bounded str/int."""
    src = mapping(ev.get("source"))
    source = event_text(src.get("component")) or event_text(ev.get("reportingComponent"))
    host = event_text(src.get("host"))
    if host:
        source = f"{source}, {host}"
    inv = mapping(ev.get("involvedObject"))
    count = ev.get("count")
    if count in (None, 0, ""):  # a tuple, not a set: an unhashable junk count must not raise here
        count = mapping(ev.get("series")).get("count")
    return {
        "type": event_text(ev.get("type")) or "Normal",
        "reason": event_text(ev.get("reason")),
        "message": event_text(ev.get("message"), TEXT_LIMIT),
        "count": event_count(count),
        "lastTimestamp": event_time(ev),
        "source": source,
        "object": f"{event_text(inv.get('kind')).lower()}/{event_text(inv.get('name'))}",
    }


def list_events(client: Any, namespace: str, field_selector: str | None = None) -> list[dict[str, Any]]:
    """Raw events of a namespace (optionally filtered), oldest first; an answer that is not an EventList is said."""
    query: list[tuple[str, Any]] = [("fieldSelector", field_selector)] if field_selector else []
    path = f"/api/v1/namespaces/{namespace}/events"
    data = get_json(client, path, query)
    raw = data.get("items")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ClusterApiError(f"the Kubernetes API answered GET {path} with JSON of another shape "
                              f"(items is a {type(raw).__name__}, not a list)", 0, "BadResponse")
    items: list[dict[str, Any]] = [ev for ev in raw if isinstance(ev, dict)]
    items.sort(key=event_time)
    return items


def object_events(client: Any, namespace: str, name: str, kind: str | None = "Pod",
                  limit: int = 50) -> list[dict[str, Any]]:
    """The most recent `limit` events about one object, oldest first (raises ClusterApiError)."""
    selector = f"involvedObject.name={name}"
    if kind:
        selector += f",involvedObject.kind={kind}"
    return [simplify(ev) for ev in list_events(client, namespace, selector)][-limit:]
