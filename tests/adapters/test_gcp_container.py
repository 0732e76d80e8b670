"""Container adapter against the fake GKE API, with the real google-cloud-container client."""

from __future__ import annotations

import pytest

from kftui.core.gpu import ClusterSpec, NodePoolSpec, OperationInfo
from kftui.gcp.container import Container
from kftui.gcp.errors import GcpApiError
from kftui.sandbox.gcp import container as fake
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario

__all__ = ["gcpb", "gcpb_scenario"]

CPU_POOL = NodePoolSpec(name="cpu", machine_type="e2-standard-4", min_nodes=1, max_nodes=3, initial_nodes=2)
GPU_POOL = NodePoolSpec(
    name="gpu-t4",
    machine_type="n1-standard-4",
    min_nodes=0,
    max_nodes=2,
    gpu_type="nvidia-tesla-t4",
    gpu_count=1,
    locations=("us-central1-a", "us-central1-f"),
)


def _no_sleep(_: float) -> None:
    """Operations advance per poll in the sandbox, so waiting needs no wall-clock time."""


def _create(container: Container) -> OperationInfo:
    op = container.create_cluster(ClusterSpec(name="kubeflow", location="us-central1", pools=(CPU_POOL,)))
    return container.wait(op, interval=0, sleep=_no_sleep)


def test_cluster_create_is_an_operation_then_running(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    op = container.create_cluster(ClusterSpec(name="kubeflow", location="us-central1", pools=(CPU_POOL,)))
    assert op.kind == "CREATE_CLUSTER" and not op.done
    assert container.get_cluster("us-central1", "kubeflow").status == "PROVISIONING"  # type: ignore[union-attr]
    seen: list[str] = []
    done = container.wait(op, interval=0, sleep=_no_sleep, on_progress=lambda o: seen.append(o.status))
    assert done.done and seen[-1] == "DONE" and len(seen) >= 2
    cluster = container.get_cluster("us-central1", "kubeflow")
    assert cluster is not None and cluster.status == "RUNNING"
    assert cluster.endpoint and cluster.ca_certificate
    assert cluster.locations == ("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f")
    pool = cluster.pools[0]
    assert (pool.name, pool.machine_type, pool.min_nodes, pool.max_nodes) == ("cpu", "e2-standard-4", 1, 3)
    body = gcpb.world.sent("POST", "/clusters")[0].body
    assert body["cluster"]["nodePools"][0]["autoscaling"]["maxNodeCount"] == 3


def test_gpu_node_pool_is_recorded_with_machine_accelerators_and_autoscaling(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    _create(container)
    op = container.create_node_pool("kubeflow", "us-central1", GPU_POOL)
    assert op.kind == "CREATE_NODE_POOL"
    container.wait(op, interval=0, sleep=_no_sleep)
    sent = gcpb.world.sent("POST", "/nodePools")[-1].body["nodePool"]
    assert sent["config"]["machineType"] == "n1-standard-4"
    assert sent["config"]["accelerators"][0]["acceleratorType"] == "nvidia-tesla-t4"
    assert int(sent["config"]["accelerators"][0]["acceleratorCount"]) == 1
    # proto3 JSON leaves out zeros: "autoscale from 0" is an absent minNodeCount.
    assert sent["autoscaling"] == {"enabled": True, "maxNodeCount": 2}
    assert sent["locations"] == ["us-central1-a", "us-central1-f"]
    cluster = container.get_cluster("us-central1", "kubeflow")
    assert cluster is not None
    gpu = next(p for p in cluster.pools if p.name == "gpu-t4")
    assert (gpu.status, gpu.gpu_type, gpu.gpu_count, gpu.min_nodes, gpu.max_nodes) == (
        "RUNNING",
        "nvidia-tesla-t4",
        1,
        0,
        2,
    )
    stored = fake.clusters(gcpb.world)[f"projects/{PROJECT}/locations/us-central1/clusters/kubeflow"]
    assert [p["name"] for p in stored["nodePools"]] == ["cpu", "gpu-t4"]


def test_gpu_pool_in_a_zone_without_the_gpu_is_refused(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    _create(container)
    bad = NodePoolSpec(
        name="gpu", machine_type="n1-standard-4", gpu_type="nvidia-tesla-t4", gpu_count=1, locations=("us-central1-c",)
    )
    with pytest.raises(GcpApiError) as info:
        container.create_node_pool("kubeflow", "us-central1", bad)
    assert info.value.status == 400
    assert "us-central1-c" in info.value.message


def test_second_create_is_409(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    _create(container)
    with pytest.raises(GcpApiError) as info:
        container.create_cluster(ClusterSpec(name="kubeflow", location="us-central1", pools=(CPU_POOL,)))
    assert info.value.status == 409


def test_list_and_delete(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    _create(container)
    assert [c.name for c in container.list_clusters()] == ["kubeflow"]
    op = container.delete_cluster("us-central1", "kubeflow")
    assert op.kind == "DELETE_CLUSTER"
    container.wait(op, interval=0, sleep=_no_sleep)
    assert container.get_cluster("us-central1", "kubeflow") is None
    assert container.list_clusters("us-central1") == []


def test_wait_gives_up_after_timeout(gcpb: Sandbox) -> None:
    container = Container(PROJECT)
    op = container.create_cluster(ClusterSpec(name="slow", location="us-central1", pools=(CPU_POOL,)))
    with pytest.raises(GcpApiError) as info:
        container.wait(op, timeout=-1, interval=0, sleep=_no_sleep)
    assert info.value.kind == "timeout"


def test_container_api_disabled(gcpb: Sandbox) -> None:
    gcpb.world.scenario["projects"][PROJECT]["services"]["container.googleapis.com"] = "DISABLED"
    with pytest.raises(GcpApiError) as info:
        Container(PROJECT).list_clusters()
    assert info.value.reason == "SERVICE_DISABLED"
