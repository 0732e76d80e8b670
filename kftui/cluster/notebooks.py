"""Kubeflow notebook servers with the phase the dashboard computes and the reason it hides in a tooltip."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json
from kftui.cluster.events import list_events, simplify
from kftui.core.kube import NotebookRow, notebook_row

REISSUED = "Reissued from "


def _notebooks_in(client: Any, namespace: str | None) -> list[dict[str, Any]]:
    """Raw Notebook objects of one namespace, or of all namespaces."""
    path = (f"/apis/kubeflow.org/v1/namespaces/{namespace}/notebooks" if namespace
            else "/apis/kubeflow.org/v1/notebooks")
    raw = get_json(client, path).get("items") or []
    return [nb for nb in raw if isinstance(nb, dict)] if isinstance(raw, list) else []


def raw_notebooks(client: Any, namespace: str | None = None) -> list[dict[str, Any]]:
    """Notebooks the user can list: cluster-wide if allowed, else namespace by namespace (skipping 403s)."""
    if namespace:
        return _notebooks_in(client, namespace)
    try:
        return _notebooks_in(client, None)
    except ClusterApiError as exc:
        if exc.status != 403:
            raise
    namespaces = [str((ns.get("metadata") or {}).get("name") or "")
                  for ns in get_json(client, "/api/v1/namespaces").get("items") or [] if isinstance(ns, dict)]
    out: list[dict[str, Any]] = []
    for ns in filter(None, namespaces):
        try:
            out.extend(_notebooks_in(client, ns))
        except ClusterApiError as exc:
            if exc.status != 403:
                raise
    return out


def notebook_events(client: Any, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Events per notebook name in a namespace: the Notebook's own plus its pod's (reissues dropped), oldest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in list_events(client, namespace):
        inv = ev.get("involvedObject")
        if not isinstance(inv, dict) or not isinstance(inv.get("name"), str):
            continue  # an event about nothing readable belongs to no notebook
        name = inv["name"]
        message = ev.get("message")
        if inv.get("kind") == "Notebook" and not (isinstance(message, str) and message.startswith(REISSUED)):
            out[name].append(ev)
        elif inv.get("kind") == "Pod" and name.endswith("-0"):
            out[name[:-2]].append(ev)
    return out


def list_notebooks(client: Any, namespace: str | None = None, with_events: bool = True) -> list[NotebookRow]:
    """Every notebook as a NotebookRow (phase like the dashboard), with its pod's events for diagnosis."""
    notebooks = raw_notebooks(client, namespace)
    events: dict[str, dict[str, list[dict[str, Any]]]] = {}
    rows = []
    for nb in notebooks:
        meta = nb.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        evs: list[dict[str, Any]] = []
        if with_events:
            if ns not in events:
                try:
                    events[ns] = notebook_events(client, ns)
                except ClusterApiError:
                    events[ns] = {}
            evs = [simplify(e) for e in events[ns].get(name, [])]
        rows.append(notebook_row(nb, evs))
    rows.sort(key=lambda r: (r.namespace, r.name))
    return rows
