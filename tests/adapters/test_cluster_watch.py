"""The generic list+watch behind every table view, against the fake API server with the real `kubernetes` client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.watch import ResourceWatcher, collection_path
from kftui.core.kube import PodRow, WatchKind
from kftui.core.table import Change, WatchSpec
from kftui.views.events import EventRow, event_row
from kftui.views.pods import VIEW as PODS
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for

EVENTS: WatchSpec[EventRow] = WatchSpec("events", event_row)


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def collect(watcher: ResourceWatcher[Any]) -> tuple[list[Change[Any]], threading.Thread]:
    changes: list[Change[Any]] = []
    return changes, watcher.start(changes.append)


def test_paths_follow_the_api_grammar() -> None:
    assert collection_path(EVENTS, None) == "/api/v1/events"
    assert collection_path(EVENTS, "ns1") == "/api/v1/namespaces/ns1/events"
    nb: WatchSpec[Any] = WatchSpec("notebooks", dict, group="kubeflow.org", version="v1")
    assert collection_path(nb, "p") == "/apis/kubeflow.org/v1/namespaces/p/notebooks"


def test_events_list_then_watch_and_relist_on_410(kube: KubeSandbox) -> None:
    watcher = ResourceWatcher(api_client(path=kube.kubeconfig), EVENTS, PROFILE, timeout_seconds=30)
    changes, thread = collect(watcher)
    try:
        first = wait_for(lambda: changes and changes[0], what="the snapshot")
        assert first.kind == WatchKind.SYNCED
        scheduling = [r for r in first.snapshot if r.reason == "FailedScheduling"]
        assert scheduling and scheduling[0].kind == "Pod" and scheduling[0].object == "gpu-notebook-0"
        assert scheduling[0].count == 14 and scheduling[0].type == "Warning" and scheduling[0].last is not None
        kube.world.add_event({"namespace": PROFILE, "involvedObject": {"kind": "Pod", "name": "train-resnet-0"},
                              "type": "Normal", "reason": "Pulled", "message": "image already present"})
        added = wait_for(lambda: [c for c in changes if c.kind == WatchKind.ADDED and c.row.reason == "Pulled"],
                         what="ADDED event")
        assert added[0].row.object == "train-resnet-0" and added[0].row.namespace == PROFILE
        kube.world.expire_watches()
        wait_for(lambda: [c for c in changes if c.kind == WatchKind.SYNCED][1:], what="a re-list after 410")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert not thread.is_alive() and watcher.relists >= 1


def test_pods_view_watch_gives_kubectl_rows(kube: KubeSandbox) -> None:
    assert PODS.watch is not None
    watcher = ResourceWatcher(api_client(path=kube.kubeconfig), PODS.watch, None, timeout_seconds=30)
    changes, thread = collect(watcher)
    try:
        first = wait_for(lambda: changes and changes[0], what="the snapshot")
        rows: dict[str, PodRow] = {r.name: r for r in first.snapshot}
        assert rows["ecr-notebook-0"].status == "ImagePullBackOff" and rows["gpu-notebook-0"].gpus == 1
        kube.world.delete_pod(PROFILE, "cpu-notebook-0")
        wait_for(lambda: [c for c in changes if c.kind == WatchKind.DELETED and c.row.name == "cpu-notebook-0"],
                 what="DELETED")
    finally:
        watcher.stop()
        thread.join(timeout=5)


def test_an_object_of_another_shape_is_skipped_not_fatal() -> None:
    def strict(obj: Any) -> str:
        return str(obj["metadata"]["name"])

    watcher: ResourceWatcher[str] = ResourceWatcher(None, WatchSpec("pods", strict))
    assert watcher._rows([{"metadata": {"name": "a"}}, {"spec": {}}, {"metadata": {"name": "b"}}]) == ["a", "b"]
