"""`kftui deploy` against the sandbox: real google-cloud-container, real gcloud and kubectl, a small kustomization."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kftui.commands.deploy import run_deploy
from kftui.errors import UsageError
from kftui.sandbox import SCENARIOS, Sandbox
from kftui.steps._deploy import load_records

MINI = Path(__file__).resolve().parents[1] / "data" / "kustomize" / "kubeflow-mini"
PROJECT = "robot-ml-demo"
ZONE = "us-central1-a"
FLAGS: dict[str, Any] = {
    "project": PROJECT, "zone": ZONE, "gpu": "nvidia-tesla-t4", "gpu_count": 1, "max_gpu_nodes": 2,
    "manifests": str(MINI), "retry_wait": 0.0, "poll": 0.05,
}


def ready_scenario(target: Path, gpu_quota: int = 8) -> Path:
    """The demo world with everything a deploy needs granted: container API, Owner, GPU and CPU quota."""
    shutil.copytree(SCENARIOS / "demo", target)
    gcp = yaml.safe_load((target / "gcp.yaml").read_text())
    proj = gcp["projects"][PROJECT]
    proj["services"]["container.googleapis.com"] = "ENABLED"
    proj["iam"]["granted"] = ["*"]
    proj["iam"].pop("denied", None)
    proj["iam"]["bindings"] = [{"role": "roles/owner", "members": [f"serviceAccount:ada@{PROJECT}.iam.gserviceaccount.com"]}]
    (target / "gcp.yaml").write_text(yaml.safe_dump(gcp))
    compute_file = target / "gcp_compute.yaml"
    comp = yaml.safe_load(compute_file.read_text())
    c = comp["projects"][PROJECT]["compute"]
    c.setdefault("quotas", {}).update(GPUS_ALL_REGIONS={"limit": gpu_quota, "usage": 0},
                                      CPUS_ALL_REGIONS={"limit": 128, "usage": 0})
    region = c["regions"]["us-central1"].setdefault("quotas", {})
    region.update(CPUS={"limit": 128, "usage": 0}, NVIDIA_T4_GPUS={"limit": gpu_quota, "usage": 0})
    c["machineTypes"] = {ZONE: ["e2-standard-8", "e2-standard-4", "n1-standard-4", "n1-standard-8"]}
    compute_file.write_text(yaml.safe_dump(comp))
    return target


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gpu_quota: int = 8) -> Iterator[Sandbox]:
    """A sandbox of that world, with the environment pointing gcloud, ADC and kubectl at it."""
    sb = Sandbox(ready_scenario(tmp_path / "scenario", gpu_quota), tmp_path / "work")
    env = sb.start()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    yield from start(tmp_path, monkeypatch)


@pytest.fixture
def no_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    yield from start(tmp_path, monkeypatch, gpu_quota=0)


def cluster_creates(sb: Sandbox) -> list[Any]:
    """Recorded cluster-create requests (node pool creates share the path prefix)."""
    return [r for r in sb.gcp.state.sent("POST", "/clusters") if r.path.endswith("/clusters")]


def deploy(**flags: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = run_deploy(**{**FLAGS, "yes": True, **flags}, out=out)
    return code, out.getvalue()


def test_plan_only_prints_a_script_with_the_users_values(world: Sandbox) -> None:
    code, text = deploy(plan_only=True, cluster="ml-gpu", release="v1.11.0")
    assert code == 0
    assert "gcloud container clusters create ml-gpu" in text
    assert f"--workload-pool={PROJECT}.svc.id.goog" in text and f"--node-locations={ZONE}" in text
    assert "--enable-autoprovisioning" in text and "--max-accelerator=type=nvidia-tesla-t4,count=2" in text
    assert "--accelerator=type=nvidia-tesla-t4,count=1,gpu-driver-version=default" in text
    assert "--min-nodes=0 --max-nodes=2" in text
    assert f"get-credentials ml-gpu --project={PROJECT} --zone={ZONE}" in text
    assert "kubectl apply --server-side --force-conflicts" in text
    assert cluster_creates(world) == []


def test_deploy_creates_cluster_and_pool_writes_context_and_applies(world: Sandbox) -> None:
    code, text = deploy()
    assert code == 0, text
    cluster = cluster_creates(world)
    assert len(cluster) == 1
    cpu = cluster[0].body["cluster"]["nodePools"][0]
    assert cpu["config"]["machineType"] == "e2-standard-8"
    assert cpu["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 4}
    nap = cluster[0].body["cluster"]["autoscaling"]  # the limits the blog edited by hand, sent to GKE
    assert nap["enableNodeAutoprovisioning"] is True
    limits = {limit["resourceType"]: int(limit["maximum"]) for limit in nap["resourceLimits"]}
    assert set(limits) == {"cpu", "memory", "nvidia-tesla-t4"} and limits["nvidia-tesla-t4"] >= 1
    pool = world.gcp.state.sent("POST", "/nodePools")[0].body["nodePool"]
    assert pool["config"]["machineType"] == "n1-standard-4"
    acc = pool["config"]["accelerators"][0]
    assert acc["acceleratorType"] == "nvidia-tesla-t4" and int(acc["acceleratorCount"]) == 1
    assert pool["autoscaling"] == {"enabled": True, "maxNodeCount": 2}  # min 0 is absent in proto3 JSON
    context = f"gke_{PROJECT}_{ZONE}_kubeflow"
    assert f"context {context} works" in text
    assert "component centraldashboard: 2 created, 0 configured" in text
    assert "component profiles: 1 created, 0 configured, 1 failed" in text  # the CRD's kind is not served yet
    assert "(retry 1)" in text
    kube = world.kube.state
    assert kube.get("deployments", "kubeflow", "ml-pipeline") is not None
    assert kube.get("profiles", None, "kubeflow-user-example-com") is not None
    assert "ready: all 3 deployments are Available" in text
    assert "kubectl port-forward svc/istio-ingressgateway -n istio-system 8080:80" in text
    assert record_for_context(context)["done"][:5] == ["cluster", "gpu-pool", "credentials", "manifests", "ready"]


def record_for_context(context: str) -> dict[str, Any]:
    return next(r for r in load_records().values() if r.get("context") == context)


def test_interrupted_deploy_resumes_without_creating_twice(world: Sandbox) -> None:
    code, text = deploy(stop_after="cluster")
    assert code == 0 and "stopped after cluster" in text
    assert world.gcp.state.sent("POST", "/nodePools") == []
    code, text = deploy()
    assert code == 0, text
    assert "cluster kubeflow: exists, skipped" in text
    assert len(cluster_creates(world)) == 1
    assert len(world.gcp.state.sent("POST", "/nodePools")) == 1
    code, text = deploy()
    assert "node pool gpu-pool: exists, skipped" in text
    assert "component centraldashboard: 0 created, 2 configured" in text
    assert len(world.gcp.state.sent("POST", "/nodePools")) == 1


def test_blocked_plan_is_refused_and_nothing_is_created(no_quota: Sandbox) -> None:
    code, text = deploy(zone="us-central1-c")
    assert code == 1
    assert "BLOCKED zone.gpu: Zone us-central1-c does not offer nvidia-tesla-t4" in text
    assert "BLOCKED quota.gpu: Quota 'GPUS_ALL_REGIONS' is 0 globally" in text
    assert "nothing was created" in text and "gpu" in text.rsplit("Revisit:", 1)[1]
    assert cluster_creates(no_quota) == []


def test_bad_input_names_the_field_and_rule(world: Sandbox) -> None:
    with pytest.raises(UsageError, match="Cluster name must be 1-40 characters"):
        deploy(cluster="Kubeflow_1")
    with pytest.raises(UsageError, match="Kubeflow release must be a kubeflow/manifests tag"):
        deploy(release="latest")


def test_destroy_requires_the_matching_name(world: Sandbox) -> None:
    deploy(stop_after="cluster")
    with pytest.raises(UsageError, match="does not match"):
        deploy(destroy=True, cluster="other")
    code, text = deploy(destroy=True, cluster="kubeflow")
    assert code == 0 and "deleted" in text
    assert len(world.gcp.state.sent("DELETE", "/clusters/kubeflow")) == 1
    assert all(r.get("context") != f"gke_{PROJECT}_{ZONE}_kubeflow" for r in load_records().values())
