"""PodWatcher and friends against the fake API server with the real `kubernetes` client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.pods import PodWatcher, list_pods
from kftui.core.kube import PodEvent, WatchKind
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def test_list_pods_statuses_like_kubectl(kube: KubeSandbox) -> None:
    rows, rv = list_pods(api_client(path=kube.kubeconfig))
    by_name = {r.name: r for r in rows}
    assert rv
    assert by_name["ecr-notebook-0"].status == "ImagePullBackOff"
    assert by_name["gpu-notebook-0"].status == "Pending"
    assert by_name["gpu-notebook-0"].reason == "Unschedulable"
    assert by_name["gpu-notebook-0"].message == "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    assert by_name["gpu-notebook-0"].gpus == 1
    assert by_name["train-resnet-0"].ready == "1/1" and by_name["train-resnet-0"].gpus == 1
    assert by_name["train-resnet-0"].node == "gke-kubeflow-gpu-t4-pool-8d1e4f2a-q2w3"
    assert by_name["training-pipeline-x7k2q-system-container-impl-2950846120"].status == "Error"
    assert by_name["training-pipeline-x7k2q-system-container-impl-1786342954"].status == "Completed"
    assert by_name["ml-pipeline-visualizationserver-7c6b5d4f8-k8lm2"].restarts == 3
    assert by_name["cpu-notebook-0"].age().endswith("m")


def test_list_pods_by_run_label(kube: KubeSandbox) -> None:
    rows, _ = list_pods(api_client(path=kube.kubeconfig), PROFILE,
                        label_selector="pipeline/runid=8f2c1a7e-1b7d-4c3e-9a55-2f1f0c6d9b01")
    assert sorted(r.status for r in rows) == ["Completed", "Error"]
    gone, _ = list_pods(api_client(path=kube.kubeconfig), PROFILE,
                        label_selector="pipeline/runid=3b9e4d2a-6c1f-4f7a-8e2b-9d0a1c5e7f42")
    assert gone == []  # the week-old run's pods were garbage-collected


def collect(watcher: PodWatcher) -> tuple[list[PodEvent], threading.Thread]:
    """Run a watcher on its own thread, gathering events."""
    events: list[PodEvent] = []
    return events, watcher.start(events.append)


def test_added_modified_deleted_arrive_on_the_open_watch(kube: KubeSandbox) -> None:
    watcher = PodWatcher(api_client(path=kube.kubeconfig), PROFILE, timeout_seconds=30)
    events, thread = collect(watcher)
    try:
        wait_for(lambda: events and events[0].kind == WatchKind.SYNCED, what="the snapshot")
        assert any(r.name == "train-resnet-0" for r in events[0].snapshot)
        kube.world.add_pod({"name": "new-pod", "namespace": PROFILE, "node": "n1", "phase": "Running"})
        wait_for(lambda: any(e.kind == WatchKind.ADDED and e.pod and e.pod.name == "new-pod" for e in events), 1.0,
                 what="ADDED")
        kube.world.update_pod(PROFILE, "new-pod", {"status": {"phase": "Succeeded"}})
        wait_for(lambda: any(e.kind == WatchKind.MODIFIED and e.pod and e.pod.status == "Completed" for e in events),
                 1.0, what="MODIFIED to Completed")
        kube.world.delete_pod(PROFILE, "new-pod", graceful=True)
        wait_for(lambda: any(e.pod and e.pod.status == "Terminating" for e in events), 1.0, what="Terminating")
        kube.world.delete_pod(PROFILE, "new-pod")
        wait_for(lambda: any(e.kind == WatchKind.DELETED for e in events), 1.0, what="DELETED")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_410_gone_relists(kube: KubeSandbox) -> None:
    watcher = PodWatcher(api_client(path=kube.kubeconfig), PROFILE, timeout_seconds=30)
    events, thread = collect(watcher)
    try:
        wait_for(lambda: events, what="the first snapshot")
        kube.world.add_pod({"name": "during-gap", "namespace": PROFILE, "node": "n1"})
        kube.world.expire_watches()  # the open watch gets 410 Gone
        snapshots = wait_for(lambda: [e for e in events if e.kind == WatchKind.SYNCED][1:], 5, what="a re-list")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert watcher.relists >= 1
    assert any(r.name == "during-gap" for r in snapshots[0].snapshot)


def test_410_on_watch_start_relists_with_new_snapshot(kube: KubeSandbox) -> None:
    watcher = PodWatcher(api_client(path=kube.kubeconfig), PROFILE, timeout_seconds=30)
    watcher.resource_version = "1"
    gen = watcher.events()
    first = next(gen)
    assert first.kind == WatchKind.SYNCED
    kube.world.compact()
    watcher.resource_version = "1"  # as if the watch had been away too long
    kube.world.add_pod({"name": "after-compaction", "namespace": PROFILE, "node": "n1"})
    second = next(gen)
    assert second.kind == WatchKind.SYNCED and watcher.relists == 1
    assert any(r.name == "after-compaction" for r in second.snapshot)
    watcher.stop()


def test_stop_returns_at_once_while_blocked_in_a_read(kube: KubeSandbox) -> None:
    watcher = PodWatcher(api_client(path=kube.kubeconfig), None, timeout_seconds=300)
    events, thread = collect(watcher)
    wait_for(lambda: events, what="the snapshot")
    wait_for(lambda: kube.world._wakers, what="the watch request to be open")
    stopper = threading.Thread(target=watcher.stop)  # stop() returns though the watch sits in a 300 s read
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() did not return"
    thread.join(timeout=60)  # a bound, not a speed check: the read ends long before the server's 300 s
    assert not thread.is_alive()
