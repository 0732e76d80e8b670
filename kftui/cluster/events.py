"""Recent events about one object (a pod or a Notebook), newest last, in the shape the UI shows."""

from __future__ import annotations

from typing import Any

from kftui.cluster._http import get_json


def event_time(ev: dict[str, Any]) -> str:
    """The best timestamp an event carries (lastTimestamp, eventTime, firstTimestamp, creation)."""
    return str(ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp")
               or (ev.get("metadata") or {}).get("creationTimestamp") or "")


def simplify(ev: dict[str, Any]) -> dict[str, Any]:
    """An Event as {type, reason, message, count, lastTimestamp, source, object}."""
    src = ev.get("source") or {}
    source = str(src.get("component") or ev.get("reportingComponent") or "")
    if src.get("host"):
        source = f"{source}, {src['host']}"
    inv = ev.get("involvedObject") or {}
    return {
        "type": str(ev.get("type") or "Normal"),
        "reason": str(ev.get("reason") or ""),
        "message": str(ev.get("message") or ""),
        "count": _count(ev.get("count") or (ev.get("series") or {}).get("count")),
        "lastTimestamp": event_time(ev),
        "source": source,
        "object": f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
    }


def _count(value: Any) -> int:
    """An event's repeat count; a server's junk here is 1, never a crash of the events pane."""
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        return 1


def list_events(client: Any, namespace: str, field_selector: str | None = None) -> list[dict[str, Any]]:
    """Raw events of a namespace (optionally filtered), oldest first."""
    query: list[tuple[str, Any]] = [("fieldSelector", field_selector)] if field_selector else []
    data = get_json(client, f"/api/v1/namespaces/{namespace}/events", query)
    items: list[dict[str, Any]] = [ev for ev in data.get("items") or [] if isinstance(ev, dict)]
    items.sort(key=event_time)
    return items


def object_events(client: Any, namespace: str, name: str, kind: str | None = "Pod",
                  limit: int = 50) -> list[dict[str, Any]]:
    """The most recent `limit` events about one object, oldest first (raises ClusterApiError)."""
    selector = f"involvedObject.name={name}"
    if kind:
        selector += f",involvedObject.kind={kind}"
    return [simplify(ev) for ev in list_events(client, namespace, selector)][-limit:]
