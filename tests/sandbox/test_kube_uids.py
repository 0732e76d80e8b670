"""Sandbox uids are unique per creation, as the API server makes them, and still the same run after run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubernetes import client as k8s

from kftui.cluster.kubeconfig import api_client
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube
from tests.helpers import tool


def _pod(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": PROFILE},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}


def _recreate_three_times(sb: KubeSandbox) -> list[str]:
    """Create, delete and create again the same pod through the real client; the uid of each creation."""
    core = k8s.CoreV1Api(api_client(path=sb.kubeconfig))
    uids = []
    for _ in range(3):
        created = core.create_namespaced_pod(PROFILE, _pod("again"))
        assert core.read_namespaced_pod("again", PROFILE).metadata.uid == created.metadata.uid
        uids.append(str(created.metadata.uid))
        core.delete_namespaced_pod("again", PROFILE, grace_period_seconds=0)
    return uids


def test_a_deleted_and_recreated_object_gets_a_new_uid(tmp_path: Path) -> None:
    with running_kube(demo_scenario(), tmp_path) as sb:
        uids = _recreate_three_times(sb)
        scenario_pod = sb.world.get("pods", PROFILE, "ecr-notebook-0")
    assert len(set(uids)) == 3
    assert scenario_pod is not None and scenario_pod["metadata"]["uid"] not in uids


def test_uids_are_the_same_in_two_runs_of_one_scenario_and_differ_with_its_seed(tmp_path: Path) -> None:
    runs = []
    for i, seed in enumerate([None, None, "another-seed"]):
        scenario = demo_scenario()
        if seed is not None:
            scenario["kube"]["seed"] = seed
        with running_kube(scenario, tmp_path / str(i)) as sb:
            first = sb.world.get("pods", PROFILE, "ecr-notebook-0")
            assert first is not None
            runs.append((first["metadata"]["uid"], _recreate_three_times(sb)))
    assert runs[0] == runs[1]
    assert runs[2][0] == runs[0][0]  # the scenario's own objects keep their stable uids: snapshots do not move
    assert runs[2][1][0] == runs[0][1][0] and runs[2][1][1:] != runs[0][1][1:]


def test_kubectl_sees_the_new_uid_of_a_recreated_pod(tmp_path: Path) -> None:
    kubectl = tool("kubectl")
    with running_kube(demo_scenario(), tmp_path) as sb:
        def uid() -> str:
            out = subprocess.run([kubectl, "--kubeconfig", str(sb.kubeconfig), "get", "pod", "train-resnet-0",
                                  "-n", PROFILE, "-o", "jsonpath={.metadata.uid}"],
                                 capture_output=True, text=True, timeout=30, check=False)
            assert out.returncode == 0, out.stderr
            return out.stdout.strip()

        before = uid()
        pod = sb.world.get("pods", PROFILE, "train-resnet-0")
        assert pod is not None
        sb.world.delete("pods", PROFILE, "train-resnet-0")
        pod["metadata"].pop("resourceVersion", None)
        sb.world.put("pods", pod)  # the same object, uid and all, stored again: the server gives a new uid
        after = uid()
    assert before and after and before != after


def test_a_recreated_pods_container_gets_a_new_container_id(tmp_path: Path) -> None:
    with running_kube(demo_scenario(), tmp_path) as sb:
        core = k8s.CoreV1Api(api_client(path=sb.kubeconfig))
        ids = []
        for _ in range(2):
            core.create_namespaced_pod(PROFILE, _pod("again"))
            sb.world.set_container(PROFILE, "again", "main", state="running")
            status = core.read_namespaced_pod("again", PROFILE).status.container_statuses[0]
            ids.append(status.container_id)
            core.delete_namespaced_pod("again", PROFILE, grace_period_seconds=0)
    assert all(i and i.startswith("containerd://") for i in ids) and ids[0] != ids[1]
