"""The fake Kubernetes API against real clients: kubectl, the `kubernetes` package and plain HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cluster.logs import ts_ns
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for
from tests.helpers import tool


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def kubectl(sb: KubeSandbox, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl against the sandbox."""
    return subprocess.run([tool("kubectl"), "--kubeconfig", str(sb.kubeconfig), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def get(sb: KubeSandbox, path: str) -> tuple[int, bytes]:
    """A plain GET; returns (status, body) for errors too."""
    try:
        with urllib.request.urlopen(sb.url + path, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get_json(sb: KubeSandbox, path: str) -> tuple[int, Any]:
    """A GET decoded as JSON."""
    code, body = get(sb, path)
    return code, json.loads(body)


def watch_lines(sb: KubeSandbox, path: str) -> list[dict[str, Any]]:
    """A bounded watch (the path must carry timeoutSeconds); every event it sent."""
    _, body = get(sb, path)
    return [json.loads(line) for line in body.splitlines() if line.strip()]


# ---- kubectl ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_kubectl_get_pods_all_namespaces_prints_kubectl_statuses(kube: KubeSandbox) -> None:
    out = kubectl(kube, "get", "pods", "-A")
    assert out.returncode == 0, out.stderr
    rows = {line.split()[1]: line.split() for line in out.stdout.splitlines()[1:]}
    assert rows["ecr-notebook-0"][3] == "ImagePullBackOff"
    assert rows["gpu-notebook-0"][3] == "Pending"
    assert rows["train-resnet-0"][2:4] == ["1/1", "Running"]
    assert rows["training-pipeline-x7k2q-system-container-impl-2950846120"][3] == "Error"
    assert rows["ml-pipeline-visualizationserver-7c6b5d4f8-k8lm2"][4] == "3"
    assert {r[0] for r in rows.values()} == {"istio-system", "kubeflow", PROFILE}


@pytest.mark.e2e
def test_kubectl_events_notebooks_and_describe(kube: KubeSandbox) -> None:
    events = kubectl(kube, "get", "events", "-n", PROFILE)
    assert events.returncode == 0, events.stderr
    assert "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." in events.stdout
    assert "Reissued from pod/gpu-notebook-0: Node scale up in zones us-central1-c" in events.stdout
    notebooks = kubectl(kube, "get", "notebooks", "-A")
    assert notebooks.returncode == 0, notebooks.stderr
    assert {"gpu-notebook", "ecr-notebook", "cpu-notebook"} <= set(notebooks.stdout.split())
    desc = kubectl(kube, "describe", "pod", "-n", PROFILE, "gpu-notebook-0")
    assert desc.returncode == 0, desc.stderr
    assert "FailedScaleUp" in desc.stdout and "GCE quota exceeded" in desc.stdout
    assert "nvidia.com/gpu:  1" in desc.stdout


@pytest.mark.e2e
def test_kubectl_logs_static_previous_and_waiting_error(kube: KubeSandbox) -> None:
    failed = kubectl(kube, "logs", "-n", PROFILE, "training-pipeline-x7k2q-system-container-impl-2950846120")
    assert failed.stdout.splitlines()[-1].startswith("RuntimeError: CUDA out of memory")
    prev = kubectl(kube, "logs", "-n", "kubeflow", "ml-pipeline-visualizationserver-7c6b5d4f8-k8lm2", "--previous")
    assert prev.stdout.splitlines()[-1] == "Killed"
    waiting = kubectl(kube, "logs", "-n", PROFILE, "ecr-notebook-0")
    assert waiting.returncode != 0
    assert ('container "ecr-notebook" in pod "ecr-notebook-0" is waiting to start: '
            "trying and failing to pull image") in waiting.stderr


@pytest.mark.e2e
def test_kubectl_logs_follow_keeps_streaming(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "fast-ticker", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"ticker": {"interval_ms": 20}}}]})
    proc = subprocess.Popen([tool("kubectl"), "--kubeconfig", str(kube.kubeconfig), "logs", "-f", "-n", PROFILE,
                             "fast-ticker"], stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: len(lines) >= 5, 10, what="5 ticker lines")
        first = len(lines)
        wait_for(lambda: len(lines) >= first + 5, 10, what="the stream to keep going")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert all("loss=" in line for line in lines)


# ---- list, watch, selectors -------------------------------------------------------------------


def test_list_has_kind_and_selectors_filter(kube: KubeSandbox) -> None:
    code, body = get_json(kube, f"/api/v1/namespaces/{PROFILE}/pods?labelSelector=notebook-name%3Dgpu-notebook")
    assert code == 200 and body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert [p["metadata"]["name"] for p in body["items"]] == ["gpu-notebook-0"]
    _, events = get_json(kube, f"/api/v1/namespaces/{PROFILE}/events?fieldSelector=involvedObject.name%3Decr-notebook-0")
    reasons = {e["reason"] for e in events["items"]}
    assert {"Failed", "BackOff", "Pulling", "Scheduled"} == reasons
    _, run = get_json(kube, "/api/v1/pods?labelSelector=pipeline/runid%3D8f2c1a7e-1b7d-4c3e-9a55-2f1f0c6d9b01")
    nodes = {p["metadata"]["annotations"]["workflows.argoproj.io/node-name"] for p in run["items"]}
    assert nodes == {"training-pipeline-x7k2q.root.download-data.executor", "training-pipeline-x7k2q.root.train.executor"}


def test_watch_from_resource_version_sees_only_later_changes(kube: KubeSandbox) -> None:
    _, listed = get_json(kube, f"/api/v1/namespaces/{PROFILE}/pods")
    rv = listed["metadata"]["resourceVersion"]
    kube.world.add_pod({"name": "late", "namespace": PROFILE, "node": "n1"})
    kube.world.update_pod(PROFILE, "late", {"status": {"phase": "Succeeded"}})
    kube.world.delete_pod(PROFILE, "late")
    events = watch_lines(kube, f"/api/v1/namespaces/{PROFILE}/pods?watch=True&resourceVersion={rv}&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "late"), ("MODIFIED", "late"), ("DELETED", "late")]
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > int(rv)


def test_watch_too_old_resource_version_gets_410(kube: KubeSandbox) -> None:
    _, listed = get_json(kube, "/api/v1/pods")
    rv = listed["metadata"]["resourceVersion"]
    kube.world.add_pod({"name": "after", "namespace": PROFILE, "node": "n1"})
    kube.world.compact()
    events = watch_lines(kube, f"/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    assert events[-1]["type"] == "ERROR" and events[-1]["object"]["code"] == 410


def test_watch_label_selector_turns_unmatching_into_deleted(kube: KubeSandbox) -> None:
    _, listed = get_json(kube, "/api/v1/pods")
    rv = listed["metadata"]["resourceVersion"]
    kube.world.add_pod({"name": "sel", "namespace": PROFILE, "node": "n1", "labels": {"team": "a"}})
    kube.world.update_pod(PROFILE, "sel", {"metadata": {"labels": {"team": "b"}}})
    events = watch_lines(kube, f"/api/v1/pods?watch=1&resourceVersion={rv}&labelSelector=team%3Da&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


def test_python_client_watch_true_sees_new_pod(kube: KubeSandbox) -> None:
    from kubernetes import client, config, watch

    api = client.CoreV1Api(config.new_client_from_config(str(kube.kubeconfig)))
    pods = api.list_namespaced_pod(PROFILE)
    assert any(p.status.container_statuses and p.status.container_statuses[0].image for p in pods.items)
    threading.Timer(0.2, lambda: kube.world.add_pod({"name": "hello", "namespace": PROFILE, "node": "n1"})).start()
    seen = []
    for event in watch.Watch().stream(api.list_namespaced_pod, PROFILE, resource_version=pods.metadata.resource_version,
                                      timeout_seconds=120):  # a bound, not a speed check: it ends at "hello"
        seen.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == "hello":
            break
    assert ("ADDED", "hello") in seen


# ---- logs -------------------------------------------------------------------------------------


def test_log_requires_container_for_multi_container_pod(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "two", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main"}, {"name": "sidecar"}]})
    code, body = get_json(kube, f"/api/v1/namespaces/{PROFILE}/pods/two/log")
    assert code == 400 and body["kind"] == "Status"
    assert body["message"] == "a container name must be specified for pod two, choose one of: [main sidecar]"
    code, _ = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/two/log?container=sidecar")
    assert code == 200


def test_log_options_timestamps_since_tail_limit(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "static", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": [f"line {i}" for i in range(10)]}}]})
    base = f"/api/v1/namespaces/{PROFILE}/pods/static/log"
    _, body = get(kube, base + "?timestamps=true")
    stamped = body.decode().splitlines()
    stamps = [line.split(" ", 1)[0] for line in stamped]
    # Go's RFC3339Nano, as the kubelet writes it: up to nine digits, trailing zeros trimmed (so order by value, not text)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z", stamp) for stamp in stamps), stamps
    nanos = [ts_ns(stamp) for stamp in stamps]
    assert len(set(nanos)) == 10 and nanos == sorted(nanos)
    _, tail = get(kube, base + "?tailLines=2")
    assert tail.decode().splitlines() == ["line 8", "line 9"]
    _, limited = get(kube, base + "?limitBytes=9")
    assert limited == b"line 0\nli"
    _, since = get(kube, base + f"?sinceTime={stamps[5][:19]}Z")
    assert since.decode().splitlines()[-1] == "line 9"


def test_follow_closed_after_k_lines_and_resumable_without_gaps(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "flaky", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": [f"l{i}" for i in range(5)],
                                                                 "close_after_lines": 30,
                                                                 "ticker": {"interval_ms": 50}}}]})
    base = f"/api/v1/namespaces/{PROFILE}/pods/flaky/log?follow=true&timestamps=true"
    _, first = get(kube, base)
    lines = first.decode().splitlines()
    assert len(lines) == 30  # the server hung up while the pod still runs
    last_ts = lines[-1].split(" ", 1)[0]
    _, again = get(kube, base + f"&sinceTime={last_ts}")
    replay = again.decode().splitlines()
    last = ts_ns(last_ts)
    assert ts_ns(replay[0].split(" ", 1)[0]) <= last  # the API keeps whole seconds: the boundary repeats
    resumed = [line for line in replay if ts_ns(line.split(" ", 1)[0]) > last]
    assert "step 26/500" in resumed[0]  # ticker line 26 follows ticker line 25: nothing lost


def test_drop_log_streams_ends_follow(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "tick", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"ticker": {"interval_ms": 100}}}]})
    result: dict[str, bytes] = {}
    t = threading.Thread(target=lambda: result.update(body=get(kube, f"/api/v1/namespaces/{PROFILE}/pods/tick/log?follow=1")[1]))
    t.start()
    wait_for(lambda: kube.world.log_streams, what="the follow stream to open")
    assert kube.world.drop_log_streams() == 1
    t.join(timeout=10)
    assert not t.is_alive() and b"loss=" in result["body"]


def test_restart_keeps_previous_run(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "crashy", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["run"]}}]})
    code, _ = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/crashy/log?previous=true")
    assert code == 400
    pod = kube.world.restart_container(PROFILE, "crashy", "main")
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    code, body = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/crashy/log?previous=True")
    assert code == 200 and body == b"run\n"


def test_flood_streams_every_line(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "flood", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"flood": 200_000}}]})
    _, body = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/flood/log?timestamps=true")
    lines = body.splitlines()
    assert len(lines) == 200_000
    assert lines[-1].split(b" ")[3] == b"00199999"
    _, again = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/flood/log?timestamps=true")
    assert again == body  # the second read comes from the flood cache, byte for byte
    _, plain = get(kube, f"/api/v1/namespaces/{PROFILE}/pods/flood/log")
    assert plain.splitlines() == [line.split(b" ", 1)[1] for line in lines]


def test_flood_cache_keeps_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from kftui.sandbox.kube import loggen

    monkeypatch.setattr(loggen, "FLOOD_CACHE_BYTES", 20_000)
    run = loggen.LogRun({"flood": 1000}, start_ns=1_700_000_000 * 10**9)
    first = run.chunk(0, 100, True)
    second = run.chunk(100, 1000, True)  # too big for what is left of the budget: served, not kept
    assert run.chunk(0, 100, True) is first
    assert run.chunk(100, 1000, True) == second and run.chunk(100, 1000, True) is not second
    assert run._flood_cached == len(first) <= 20_000


def test_notebook_status_mirrors_pod(kube: KubeSandbox) -> None:
    _, nb = get_json(kube, f"/apis/kubeflow.org/v1/namespaces/{PROFILE}/notebooks/gpu-notebook")
    assert nb["status"]["readyReplicas"] == 0
    assert nb["status"]["conditions"][0]["reason"] == "Unschedulable"
    _, ecr = get_json(kube, f"/apis/kubeflow.org/v1/namespaces/{PROFILE}/notebooks/ecr-notebook")
    assert ecr["status"]["containerState"]["waiting"]["reason"] == "ImagePullBackOff"
    _, cpu = get_json(kube, f"/apis/kubeflow.org/v1/namespaces/{PROFILE}/notebooks/cpu-notebook")
    assert cpu["status"]["readyReplicas"] == 1
