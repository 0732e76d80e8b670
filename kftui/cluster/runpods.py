"""A pipeline run's pods with the labels and annotations that say which task each one ran."""

from __future__ import annotations

from typing import Any

from kftui.cluster._http import get_json
from kftui.cluster.pods import _pods_path
from kftui.core.runs import run_label_selector


def list_run_pods(client: Any, run_id: str, namespace: str | None = None) -> list[dict[str, Any]]:
    """Pods labelled `pipeline/runid=<run_id>` as dicts (name, namespace, phase, labels, annotations).

    KFP never fills a task's pod_name, so the label and Argo's node-name annotation are the only way from a
    task to its pod; an empty list means the pods are gone (garbage-collected) or were never created.
    """
    data = get_json(client, _pods_path(namespace), [("labelSelector", run_label_selector(run_id))])
    pods: list[dict[str, Any]] = []
    for item in data.get("items") or []:
        meta = item.get("metadata") or {}
        pods.append(
            {
                "name": str(meta.get("name", "")),
                "namespace": str(meta.get("namespace", "")),
                "phase": str((item.get("status") or {}).get("phase", "")),
                "labels": dict(meta.get("labels") or {}),
                "annotations": dict(meta.get("annotations") or {}),
            }
        )
    return pods
