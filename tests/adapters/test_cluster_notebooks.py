"""Notebooks and events against the fake API server: phases like the dashboard, reasons up front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.cluster.events import object_events
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.notebooks import list_notebooks
from kftui.core.kube import NotebookPhase
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def test_notebook_phases_and_reasons(kube: KubeSandbox) -> None:
    rows = {r.name: r for r in list_notebooks(api_client(path=kube.kubeconfig))}
    assert rows["cpu-notebook"].phase == NotebookPhase.READY
    gpu = rows["gpu-notebook"]
    assert gpu.phase == NotebookPhase.WARNING and gpu.gpus == 1
    assert "GCE quota exceeded" in gpu.message or "Insufficient nvidia.com/gpu" in gpu.message
    reasons = {e["reason"] for e in gpu.events}
    assert {"FailedScheduling", "FailedScaleUp"} <= reasons
    assert not any(e["message"].startswith("Reissued from") for e in gpu.events)
    ecr = rows["ecr-notebook"]
    assert ecr.phase == NotebookPhase.WARNING and ecr.message.startswith("ImagePullBackOff: Back-off pulling image")
    assert ecr.image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/robotics/jupyter-ros:1.4"
    assert any("no basic auth credentials" in e["message"] for e in ecr.events)


def test_stopped_notebook(kube: KubeSandbox) -> None:
    kube.world.add_notebook({"name": "parked", "namespace": PROFILE, "stopped": True})
    rows = {r.name: r for r in list_notebooks(api_client(path=kube.kubeconfig), PROFILE)}
    assert rows["parked"].phase == NotebookPhase.STOPPED


def test_object_events_sorted_and_shaped(kube: KubeSandbox) -> None:
    events = object_events(api_client(path=kube.kubeconfig), PROFILE, "ecr-notebook-0")
    assert events[0]["reason"] == "Scheduled"
    assert events == sorted(events, key=lambda e: e["lastTimestamp"])
    failed = next(e for e in events if "no basic auth credentials" in e["message"])
    assert failed["type"] == "Warning" and failed["count"] == 5 and failed["source"] == "kubelet"
    assert set(failed) >= {"type", "reason", "message", "count", "lastTimestamp", "source"}
    nb_events = object_events(api_client(path=kube.kubeconfig), PROFILE, "gpu-notebook", kind="Notebook")
    assert all(e["message"].startswith("Reissued from pod/gpu-notebook-0: ") for e in nb_events)
