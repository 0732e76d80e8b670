"""The pods view: every pod as `kubectl get pods` shows it, live from the pod watch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kftui.core.kube import PodRow, pod_row
from kftui.core.podtable import COLUMNS, STATUS_STYLE, haystack, pod_key, pods_model
from kftui.core.table import WatchSpec
from kftui.views.base import ViewSpec

__all__ = ["COLUMNS", "STATUS_STYLE", "VIEW", "haystack", "pod_key", "pods_model"]


def _watch_row(obj: Mapping[str, Any]) -> PodRow:
    return pod_row(obj)


VIEW = ViewSpec(id="pods", label="Pods", key="1", aliases=("po", "pod", "pods"), noun="pods", model=pods_model,
                watch=WatchSpec("pods", _watch_row), eager=True,
                placeholder="filter pods (regex, !regex excludes; Enter keeps it, Esc clears)")
