"""The kube sandbox acts out each fault kind on the wire, and kftui's cluster adapters survive each one.

Real clients only: the `kubernetes` client (its ApiException carries the sandbox's Status body), kftui's adapters
on top of it, and the real `kubectl` (skipped when absent), whose "Error from server (Reason): message" line is
printed only when the body is a metav1.Status it can decode.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from kftui.cluster._http import ClusterApiError, get_json
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.pods import PodWatcher, list_pods
from kftui.cluster.watch import ResourceWatcher
from kftui.core.kube import PodEvent, WatchKind
from kftui.core.table import Change
from kftui.sandbox.faults import Fault, parse_spec
from kftui.views.pods import VIEW as PODS_VIEW
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, kube, plan_of, running_kube, wait_for

__all__ = ["kube"]  # the shared fixture, used by name


PODS = f"/api/v1/namespaces/{PROFILE}/pods"


def kubectl(kube: KubeSandbox, *args: str) -> subprocess.CompletedProcess[str]:
    """The real kubectl against the sandbox (skips when it is not installed)."""
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.skip("kubectl is not on PATH")
    return subprocess.run([exe, "--kubeconfig", str(kube.kubeconfig), "--request-timeout=10s", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def collect(watcher: PodWatcher) -> tuple[list[PodEvent], threading.Thread]:
    """Run a watcher on its thread, keeping every event."""
    events: list[PodEvent] = []
    return events, watcher.start(events.append)


@pytest.mark.parametrize(("code", "reason", "words"), [
    (403, "Forbidden", 'pods is forbidden: User "kftui-sandbox@example.com" cannot list resource "pods"'),
    (401, "Unauthorized", "Unauthorized"),
    (429, "TooManyRequests", "Too many requests, please try again later."),
    (500, "InternalError", "Internal error occurred: etcdserver: request timed out"),
    (503, "ServiceUnavailable", "the server is currently unable to handle the request"),
])
def test_status_faults_answer_the_apiservers_status_body(kube: KubeSandbox, code: int, reason: str,
                                                         words: str) -> None:
    plan_of(kube).add(parse_spec(f"kube:GET:{PODS}=status,status={code},times=4"))  # urllib3 retries a 429 once
    api = k8s.CoreV1Api(api_client(path=kube.kubeconfig))
    with pytest.raises(ApiException) as caught:
        api.list_namespaced_pod(PROFILE, _request_timeout=(5, 5))
    body = json.loads(caught.value.body)
    assert caught.value.status == code
    assert {k: body[k] for k in ("kind", "apiVersion", "status", "reason", "code")} == {
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code}
    assert body["message"].startswith(words)
    if code == 429:
        assert caught.value.headers["Retry-After"] == "1" and body["details"]["retryAfterSeconds"] == 1
    with pytest.raises(ClusterApiError) as ours:  # kftui's adapter says the API's own words and keeps the code
        list_pods(api_client(path=kube.kubeconfig), PROFILE)
    assert ours.value.status == code and ours.value.reason == reason and str(ours.value).startswith(words)


def test_kubectl_reads_the_status_fault_as_an_api_error(kube: KubeSandbox) -> None:
    plan_of(kube).add(parse_spec(f"kube:GET:{PODS}=status,status=403"))
    done = kubectl(kube, "get", "pods", "-n", PROFILE)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        'Error from server (Forbidden): pods is forbidden: User "kftui-sandbox@example.com" cannot list resource '
        f'"pods" in API group "" in the namespace "{PROFILE}"')


def test_hang_is_cut_by_the_integer_request_timeout(kube: KubeSandbox) -> None:
    plan_of(kube).add(parse_spec(f"kube:GET:{PODS}=hang"))
    with pytest.raises(Exception, match="timed out"):  # urllib3's read timeout: the timeout was applied
        get_json(api_client(path=kube.kubeconfig), PODS, timeout=1)


def test_delay_answers_late_but_whole(kube: KubeSandbox) -> None:
    plan = plan_of(kube)
    plan.add(parse_spec(f"kube:GET:{PODS}=delay,delay=0.3,times=1"))
    rows, rv = list_pods(api_client(path=kube.kubeconfig), PROFILE)
    assert rows and rv and not plan.describe()  # the delayed request was the one that answered


@pytest.mark.parametrize(("kind", "words"), [
    ("html", "an HTML page"),
    ("empty", "an empty answer"),
    ("truncated", "something that is not JSON"),
    ("shape", "JSON of another shape"),
    ("cut", "something that is not JSON"),
])
def test_garbage_answers_are_said_not_crashed_on(kube: KubeSandbox, kind: str, words: str) -> None:
    plan_of(kube).add(parse_spec(f"kube:GET:{PODS}={kind},after=40"))
    with pytest.raises(ClusterApiError) as caught:
        list_pods(api_client(path=kube.kubeconfig), PROFILE)
    assert caught.value.reason == "BadResponse" and words in str(caught.value) and PODS in str(caught.value)


def test_one_reset_before_the_answer_is_retried_two_are_said(kube: KubeSandbox) -> None:
    plan = plan_of(kube)
    plan.add(parse_spec(f"kube:GET:{PODS}=reset,times=1"))
    rows, _ = list_pods(api_client(path=kube.kubeconfig), PROFILE)  # urllib3's single retry absorbs one reset
    assert rows and not plan.describe()
    plan.add(parse_spec(f"kube:GET:{PODS}=reset,times=2"))
    with pytest.raises(Exception, match=r"reset by peer|Connection aborted|RemoteDisconnected"):
        list_pods(api_client(path=kube.kubeconfig), PROFILE)


def watcher_behind(kube: KubeSandbox, *faults: Fault) -> tuple[PodWatcher, list[PodEvent], threading.Thread]:
    """A watcher whose first list passes and whose next requests (the watches) meet `faults`, in order."""
    plan = plan_of(kube)
    plan.add(Fault(service="kube", kind="delay", path=PODS, times=1))  # the list: answered normally
    for fault in faults:
        plan.add(fault)
    watcher = PodWatcher(api_client(path=kube.kubeconfig), PROFILE, timeout_seconds=30, retry_delay=0.05)
    events, thread = collect(watcher)
    return watcher, events, thread


def synced(events: list[PodEvent]) -> list[PodEvent]:
    """The snapshots among the events."""
    return [e for e in events if e.kind == WatchKind.SYNCED]


def test_watch_410_event_relists(kube: KubeSandbox) -> None:
    watcher, events, thread = watcher_behind(kube, Fault(service="kube", kind="gone", path=PODS, times=1))
    try:
        wait_for(lambda: len(synced(events)) >= 2, 10, what="a re-list after the ERROR 410 event")
        kube.world.add_pod({"name": "after-gone", "namespace": PROFILE, "node": "n1"})
        wait_for(lambda: any(e.pod is not None and e.pod.name == "after-gone" for e in events), 10,
                 what="the watch live again")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert watcher.relists == 1 and not [e for e in events if e.kind == WatchKind.ERROR]


def test_dropped_watches_rewatch_from_their_resource_version(kube: KubeSandbox) -> None:
    watcher, events, thread = watcher_behind(kube, Fault(service="kube", kind="drop", path=PODS, times=3))
    try:
        wait_for(lambda: synced(events), 10, what="the snapshot")
        kube.world.add_pod({"name": "while-dropped", "namespace": PROFILE, "node": "n1"})
        wait_for(lambda: any(e.pod is not None and e.pod.name == "while-dropped" for e in events), 10,
                 what="the change made while watches were being dropped")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert not plan_of(kube).describe() and watcher.relists == 0 and len(synced(events)) == 1


def test_watch_status_fault_says_reconnecting_then_relists(kube: KubeSandbox) -> None:
    watcher, events, thread = watcher_behind(kube, Fault(service="kube", kind="status", status=500, path=PODS,
                                                         times=1))
    try:
        wait_for(lambda: len(synced(events)) >= 2, 10, what="live again")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    said = [e.message for e in events if e.kind == WatchKind.ERROR]
    assert len(said) == 1 and said[0].startswith("Internal error occurred: etcdserver: request timed out; "
                                                 "reconnecting (attempt 1, in ")


def test_watch_reset_mid_stream_says_reconnecting_then_is_live(kube: KubeSandbox) -> None:
    watcher, events, thread = watcher_behind(kube, Fault(service="kube", kind="reset", path=PODS, after=5,
                                                         times=1))
    try:
        wait_for(lambda: synced(events), 10, what="the first snapshot")
        kube.world.add_pod({"name": "during-reset", "namespace": PROFILE, "node": "n1"})  # its event is cut
        wait_for(lambda: len(synced(events)) >= 2, 10, what="live again")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    said = [e.message for e in events if e.kind == WatchKind.ERROR]
    assert len(said) == 1 and said[0].startswith("connection to the cluster lost:")
    assert "reconnecting (attempt 1, in " in said[0] and watcher.reconnects == 1
    assert synced(events)[-1].message == "reconnected after 1 attempt" and synced(events)[0].message == ""
    assert any(r.name == "during-reset" for r in synced(events)[-1].snapshot)  # nothing missed


def test_a_scenario_can_carry_its_faults(tmp_path: Path) -> None:
    scenario = demo_scenario()
    scenario["kube"]["faults"] = [{"spec": f"kube:GET:{PODS}=status,status=403,times=3"}]
    with running_kube(scenario, tmp_path) as sb:
        with pytest.raises(ClusterApiError) as caught:
            list_pods(api_client(path=sb.kubeconfig), PROFILE)
        assert caught.value.status == 403 and plan_of(sb).describe()[0]["hits"] == 1


def test_gone_on_a_plain_list_is_a_410_expired_status(kube: KubeSandbox) -> None:
    plan_of(kube).add(parse_spec(f"kube:GET:{PODS}=gone,times=1"))
    with pytest.raises(ClusterApiError) as caught:
        list_pods(api_client(path=kube.kubeconfig), PROFILE)
    assert (caught.value.status, caught.value.reason) == (410, "Expired")
    assert str(caught.value).startswith("too old resource version")


def resource_watcher_behind(kube: KubeSandbox, *faults: Fault) -> tuple[ResourceWatcher[Any], list[Change[Any]],
                                                                         threading.Thread]:
    """The watch views' generic watcher on pods, its first list passing and its watches meeting `faults`."""
    plan = plan_of(kube)
    plan.add(Fault(service="kube", kind="delay", path=PODS, times=1))
    for fault in faults:
        plan.add(fault)
    assert PODS_VIEW.watch is not None
    watcher = ResourceWatcher(api_client(path=kube.kubeconfig), PODS_VIEW.watch, namespace=PROFILE, retry_delay=0.05)
    changes: list[Change[Any]] = []
    return watcher, changes, watcher.start(changes.append)


def test_view_watch_reset_says_reconnecting_then_reconnected(kube: KubeSandbox) -> None:
    watcher, changes, thread = resource_watcher_behind(
        kube, Fault(service="kube", kind="reset", path=PODS, after=5, times=1))
    try:
        wait_for(lambda: [c for c in changes if c.kind == WatchKind.SYNCED], 10, what="the first snapshot")
        kube.world.add_pod({"name": "during-view-reset", "namespace": PROFILE, "node": "n1"})
        wait_for(lambda: len([c for c in changes if c.kind == WatchKind.SYNCED]) >= 2, 10, what="live again")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    said = [c.message for c in changes if c.kind == WatchKind.ERROR]
    assert len(said) == 1 and said[0].startswith("connection to the cluster lost:")
    assert "reconnecting (attempt 1, in " in said[0]
    last = [c for c in changes if c.kind == WatchKind.SYNCED][-1]
    assert last.message == "reconnected after 1 attempt"
    assert any(getattr(r, "name", "") == "during-view-reset" for r in last.snapshot)


def test_view_watch_dropped_and_gone(kube: KubeSandbox) -> None:
    watcher, changes, thread = resource_watcher_behind(
        kube, Fault(service="kube", kind="drop", path=PODS, times=3), Fault(service="kube", kind="gone", path=PODS,
                                                                           times=1))
    try:
        # The re-list's own snapshot, not just `relists >= 1`: that counter goes up before the list is read, so a
        # pod added then (a loaded machine widens the gap) lands in the snapshot and never arrives as a change.
        wait_for(lambda: len([c for c in changes if c.kind == WatchKind.SYNCED]) >= 2, 15,
                 what="the re-list's snapshot after the 410 event")
        kube.world.add_pod({"name": "after-view-faults", "namespace": PROFILE, "node": "n1"})
        # the pod arrives either as a change or, when it was added before the re-list's GET, in its snapshot
        wait_for(lambda: any(getattr(r, "name", "") == "after-view-faults"
                             for c in changes for r in (c.row, *c.snapshot)), 10, what="the watch live again")
    finally:
        watcher.stop()
        thread.join(timeout=5)
    assert watcher.relists == 1 and not [c for c in changes if c.kind == WatchKind.ERROR]
