"""Single objects read whole, for the details pane (the pod table only needs rows)."""

from __future__ import annotations

from typing import Any

from kftui.cluster._http import get_json


def get_pod(client: Any, namespace: str, name: str) -> dict[str, Any]:
    """The pod as the API returns it (raises ClusterApiError, e.g. 404 once it is gone)."""
    data: dict[str, Any] = get_json(client, f"/api/v1/namespaces/{namespace}/pods/{name}")
    return data


def list_namespaces(client: Any) -> list[str]:
    """Namespace names the user may list, for the namespace picker (raises ClusterApiError)."""
    data = get_json(client, "/api/v1/namespaces")
    return sorted(str((item.get("metadata") or {}).get("name", "")) for item in data.get("items") or [])
