"""Recent events about one object (a pod or a Notebook), newest last, in the shape the UI shows.

Every field of an Event comes from the API server, and anything that can write Events can write any JSON there
(a broken controller, a proxy, a hostile workload's operator): each field is read on its own, checked for its type
and bounded, so one bad event is shown as well as it can be and never crashes a pane or a diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json

COUNT_LIMIT = 2**31 - 1
"""Event.count is an int32 in the API; a bigger or unreadable count is shown as this bound, not trusted."""
TEXT_LIMIT = 4096
"""Characters kept of an event's message (the API's own Event note limit is 1 KB; old-style events have none)."""
FIELD_LIMIT = 256
"""Characters kept of a one-word field (type, reason, source, object name, timestamp)."""


def _mapping(value: Any) -> Mapping[str, Any]:
    """A nested object of an event, or {} when the server sent something else there."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any, limit: int = FIELD_LIMIT) -> str:
    """A string field, cut to `limit` (with a mark); a number is its digits; anything else is "" (not its repr)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**18 else "(a huge number)"
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else ""
    elif isinstance(value, str):
        text = value
    else:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_time(ev: Mapping[str, Any]) -> str:
    """The best timestamp an event carries (lastTimestamp, eventTime, firstTimestamp, creation)."""
    for value in (ev.get("lastTimestamp"), ev.get("eventTime"), ev.get("firstTimestamp"),
                  _mapping(ev.get("metadata")).get("creationTimestamp")):
        if isinstance(value, str) and value:
            return value[:FIELD_LIMIT]
    return ""


def simplify(ev: Mapping[str, Any]) -> dict[str, Any]:
    """An Event as {type, reason, message, count, lastTimestamp, source, object}, every value a bounded str/int."""
    src = _mapping(ev.get("source"))
    source = _text(src.get("component")) or _text(ev.get("reportingComponent"))
    host = _text(src.get("host"))
    if host:
        source = f"{source}, {host}"
    inv = _mapping(ev.get("involvedObject"))
    count = ev.get("count")
    if count in (None, 0, ""):  # a tuple, not a set: an unhashable junk count must not raise here
        count = _mapping(ev.get("series")).get("count")
    return {
        "type": _text(ev.get("type")) or "Normal",
        "reason": _text(ev.get("reason")),
        "message": _text(ev.get("message"), TEXT_LIMIT),
        "count": event_count(count),
        "lastTimestamp": event_time(ev),
        "source": source,
        "object": f"{_text(inv.get('kind')).lower()}/{_text(inv.get('name'))}",
    }


def event_count(value: Any) -> int:
    """An event's repeat count in 1..COUNT_LIMIT: missing, negative, non-numeric or non-finite junk is 1, a number
    beyond int32 is COUNT_LIMIT (int() of a 5,000-digit string or of infinity raises, so it is never called on them)."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, float):
        if not math.isfinite(value):
            return 1
        value = int(value) if abs(value) < 2**63 else (COUNT_LIMIT if value > 0 else 1)
    if isinstance(value, str):
        digits = value.strip()
        if not digits.isascii() or not digits.isdigit():
            return 1
        value = int(digits) if len(digits) <= 12 else COUNT_LIMIT
    if not isinstance(value, int):
        return 1
    return min(max(1, value), COUNT_LIMIT)


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
