"""Make, stop, start and delete notebook servers through the API, and read how a new one is coming up."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kftui.cluster._http import ClusterApiError, api_error, get_json
from kftui.core.spawner import NotebookSpec, manifests
from kftui.errors import KftuiError

GROUP, VERSION, PLURAL = "kubeflow.org", "v1", "notebooks"
STOPPED = "kubeflow-resource-stopped"
TIMEOUT = (10, 30)


def create_notebook(client: Any, spec: NotebookSpec) -> list[str]:
    """Create the workspace PVC (when new) and the Notebook; returns what was made, in order."""
    from kubernetes.client import CoreV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException

    notebook, pvc = manifests(spec)
    made: list[str] = []
    if pvc is not None:
        try:
            CoreV1Api(client).create_namespaced_persistent_volume_claim(spec.namespace, pvc, _request_timeout=TIMEOUT)
            made.append(f"persistentvolumeclaim/{pvc['metadata']['name']}")
        except ApiException as exc:
            if exc.status == 409:
                raise KftuiError(f"volume: {pvc['metadata']['name']} already exists in {spec.namespace}; reuse it "
                                 f"with --existing-volume {pvc['metadata']['name']}") from exc
            raise KftuiError(f"volume {pvc['metadata']['name']}: {api_error(exc)}") from exc
    try:
        CustomObjectsApi(client).create_namespaced_custom_object(GROUP, VERSION, spec.namespace, PLURAL, notebook,
                                                                 _request_timeout=TIMEOUT)
    except ApiException as exc:
        detail = f"notebook {spec.name}: {api_error(exc)}"
        if made:
            detail += f" (the volume {made[0]} was made and is kept)"
        raise KftuiError(detail) from exc
    made.append(f"notebook/{spec.name}")
    return made


def set_stopped(client: Any, namespace: str, name: str, stopped: bool) -> None:
    """Stop (culling annotation set, pod goes) or start (annotation removed) a notebook, as the web app does."""
    from kubernetes.client import CustomObjectsApi
    from kubernetes.client.exceptions import ApiException

    value = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) if stopped else None
    try:
        CustomObjectsApi(client).patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"annotations": {STOPPED: value}}},
            _request_timeout=TIMEOUT)
    except ApiException as exc:
        raise KftuiError(f"notebook {name}: {api_error(exc)}") from exc


def delete_notebook(client: Any, namespace: str, name: str, volume: bool = False) -> list[str]:
    """Delete the Notebook (its pod goes with it) and, when asked, its workspace volume."""
    from kubernetes.client import CoreV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException

    gone: list[str] = []
    try:
        nb = CustomObjectsApi(client).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name,
                                                                    _request_timeout=TIMEOUT)
        CustomObjectsApi(client).delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name,
                                                                 _request_timeout=TIMEOUT)
        gone.append(f"notebook/{name}")
    except ApiException as exc:
        raise KftuiError(f"notebook {name}: {api_error(exc)}") from exc
    if volume:
        claims = [v["persistentVolumeClaim"]["claimName"] for v in
                  nb.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []
                  if isinstance(v, dict) and "persistentVolumeClaim" in v]
        for claim in claims:
            try:
                CoreV1Api(client).delete_namespaced_persistent_volume_claim(claim, namespace, _request_timeout=TIMEOUT)
                gone.append(f"persistentvolumeclaim/{claim}")
            except ApiException as exc:
                raise KftuiError(f"volume {claim}: {api_error(exc)}") from exc
    return gone


@dataclass(frozen=True)
class Progress:
    """Where a notebook's pod is on its way up: one stage word, the reason behind it, and the newest events."""

    stage: str
    reason: str
    ready: bool
    events: tuple[tuple[str, str], ...] = ()

    @property
    def line(self) -> str:
        """One line to print when it changes."""
        return f"{self.stage}: {self.reason}" if self.reason else self.stage


def progress(client: Any, namespace: str, name: str) -> Progress:
    """The notebook's pod state and the reason it is waiting, read from the pod and its events."""
    try:
        nb = get_json(client, f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}", timeout=15)
    except ClusterApiError as exc:
        raise KftuiError(f"notebook {name}: {exc}") from exc
    if STOPPED in (nb.get("metadata", {}).get("annotations") or {}):
        return Progress("Stopped", "the culling annotation is set; start it with kftui notebook start", False)
    try:
        pod = get_json(client, f"/api/v1/namespaces/{namespace}/pods/{name}-0", timeout=15)
    except ClusterApiError as exc:
        if exc.status == 404:
            return Progress("Waiting", "the notebook controller has not made the pod yet", False)
        raise KftuiError(f"pod {name}-0: {exc}") from exc
    query = [("fieldSelector", f"involvedObject.name={name}-0")]
    try:
        items = get_json(client, f"/api/v1/namespaces/{namespace}/events", query, timeout=15).get("items") or []
    except ClusterApiError:
        items = []
    events = tuple((str(e.get("reason", "")), str(e.get("message", "")))
                   for e in sorted(items, key=lambda e: str(e.get("lastTimestamp") or ""))[-5:])
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    if not any(c.get("type") == "PodScheduled" for c in conditions):
        return Progress("Scheduling", "", False, events)
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return Progress("Unschedulable", str(cond.get("message", "")), False, events)
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            failed = next((m for r, m in reversed(events) if r in ("Failed", "BackOff")), "")
            return Progress(str(waiting.get("reason", "Waiting")), failed or str(waiting.get("message", "")),
                            False, events)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    phase = str(status.get("phase", "Pending"))
    if ready:
        return Progress("Ready", "", True, events)
    if phase == "Running":  # started but not Ready: kubelet's newest probe failure is the reason, not the pull
        unhealthy = next((m for r, m in reversed(events) if r == "Unhealthy"), "")
        return Progress("NotReady" if unhealthy else phase, unhealthy, False, events)
    pulling = next((m for r, m in reversed(events) if r == "Pulling"), "")
    return Progress(phase if phase != "Pending" else "ContainerCreating", pulling, False, events)
