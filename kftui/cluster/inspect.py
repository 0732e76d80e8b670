"""One object read whole, its events, and its deletion: what the cockpit's y, d and ctrl+d keys ask the API."""

from __future__ import annotations

from typing import Any

from kftui.cluster._http import ClusterApiError, api_error, get_json
from kftui.errors import KftuiError

PATHS = {
    "pods": "/api/v1/namespaces/{ns}/pods/{name}",
    "events": "/api/v1/namespaces/{ns}/events/{name}",
    "services": "/api/v1/namespaces/{ns}/services/{name}",
    "notebooks": "/apis/kubeflow.org/v1/namespaces/{ns}/notebooks/{name}",
}
"""The resources the cockpit's views show, by plural."""


def _path(resource: str, namespace: str, name: str) -> str:
    """The object's URL path (KftuiError for a resource the cockpit does not show)."""
    template = PATHS.get(resource)
    if template is None:
        raise KftuiError(f"{resource} cannot be read from the cockpit")
    return template.format(ns=namespace, name=name)


def get_object(client: Any, resource: str, namespace: str, name: str) -> dict[str, Any]:
    """The object as the API returns it."""
    try:
        data: dict[str, Any] = get_json(client, _path(resource, namespace, name), timeout=15)
    except ClusterApiError as exc:
        raise KftuiError(f"{resource[:-1]} {namespace}/{name}: {exc}") from exc
    return data


def events_for(client: Any, namespace: str, name: str, kind: str = "Pod") -> list[dict[str, Any]]:
    """The events about one object, as `kubectl describe` gathers them (empty when listing them is refused)."""
    query = [("fieldSelector", f"involvedObject.name={name},involvedObject.kind={kind}")]
    try:
        items = get_json(client, f"/api/v1/namespaces/{namespace}/events", query, timeout=15).get("items") or []
    except ClusterApiError:
        return []
    return [e for e in items if isinstance(e, dict)]


def delete_object(client: Any, resource: str, namespace: str, name: str) -> None:
    """Delete it (pods get the API's default grace period, as `kubectl delete` gives them)."""
    from kubernetes.client.exceptions import ApiException

    try:
        client.call_api(_path(resource, namespace, name), "DELETE", header_params={"Accept": "application/json"},
                        auth_settings=["BearerToken"], _preload_content=False, _request_timeout=(10, 30),
                        _return_http_data_only=True)
    except ApiException as exc:
        raise KftuiError(f"{resource[:-1]} {namespace}/{name}: {api_error(exc)}") from exc
