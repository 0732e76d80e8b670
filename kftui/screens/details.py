"""The details pane's content: conditions, container states, recent events and, when stuck, the diagnosis."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from kftui.core.events import event_count
from kftui.core.kube import HEALTHY, PodRow, human_age, parse_time
from kftui.core.sanitize import inert
from kftui.widgets.modals import diagnosis_text


def _count(event: dict[str, Any]) -> int:
    """An event's count; a server sending garbage there gets 1, not a crash."""
    return event_count(event.get("count"))


def _section(out: Text, title: str) -> None:
    out.append(f"\n{title}\n", style="bold underline")


def pod_details(services: Any, row: PodRow, known: dict[str, str] | None = None) -> Text:
    """Read the pod and its events (in a worker) and lay them out; a stuck pod gets a plain-language reason."""
    from kftui.cluster.events import object_events
    from kftui.cluster.objects import get_pod
    from kftui.diagnose import diagnose_events

    client = services.kube_api()
    pod = get_pod(client, row.namespace, row.name)
    events = object_events(client, row.namespace, row.name, kind=None)
    out = Text()
    out.append(f"{inert(row.namespace)}/{inert(row.name)}\n", style="bold")
    out.append(inert(row.status) + " ", style="bold green" if row.status in HEALTHY else "bold red")
    if row.node:
        out.append(f"on {inert(row.node)} ", style="dim")
    if row.gpus:
        out.append(f"· {row.gpus} GPU", style="dim")
    out.append("\n")
    if row.status not in HEALTHY or any(e.get("type") == "Warning" for e in events[-5:]):
        diagnosis = diagnose_events(events, **{**(known or {}), "namespace": row.namespace, "pod": row.name})
        if diagnosis.known:
            _section(out, "Why")
            out.append_text(diagnosis_text(diagnosis))
    status = pod.get("status") or {}
    conditions = [c for c in status.get("conditions") or [] if c.get("status") != "True"]
    if conditions:
        _section(out, "Conditions not met")
        for cond in conditions:
            out.append(f"{inert(cond.get('type'))}: ", style="bold")
            words = " ".join(str(cond.get(k) or "") for k in ("reason", "message")).strip()
            out.append(inert(words or f"not yet ({cond.get('status', 'False')})") + "\n")
    containers = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    if containers:
        _section(out, "Containers")
        for cs in containers:
            out.append(f"{inert(cs.get('name'))} ", style="bold")
            out.append(f"{inert(cs.get('image', ''))}\n", style="dim")
            state = cs.get("state") or {}
            for kind, body in state.items():
                reason = (body or {}).get("reason") or ""
                message = (body or {}).get("message") or ""
                out.append(f"  {inert(kind)}", style="green" if kind == "running" else "yellow")
                if reason:
                    out.append(f": {inert(reason)}")
                if message:
                    out.append(f" ({inert(message)})", style="dim")
                out.append("\n")
            if cs.get("restartCount"):
                out.append(f"  restarts: {inert(cs.get('restartCount'))}\n", style="dim")
    if events:
        _section(out, "Recent events")
        for ev in events[-12:]:
            when = human_age(parse_time(ev.get("lastTimestamp")), services.now())
            count = f" x{inert(ev['count'])}" if _count(ev) > 1 else ""
            warn = ev.get("type") == "Warning"
            out.append(f"{when:>6} ", style="dim")
            out.append(f"{inert(ev.get('reason'))}{count} ", style="bold yellow" if warn else "bold")
            out.append(f"{inert(ev.get('message'))}\n")
    return out
