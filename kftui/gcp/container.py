"""GKE questions and commands: create the cluster and GPU node pools, follow operations, read clusters."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kftui.core.gpu import ClusterInfo, ClusterSpec, NodePoolInfo, NodePoolSpec, OperationInfo
from kftui.gcp.calls import call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import GcpApiError, translated

API = "container"


def _read_options() -> dict[str, Any]:
    """Reads retry 429 and 503 under the one policy: a blip should not fail a 10-minute cluster create."""
    return call_options(API)


def _write_options() -> dict[str, Any]:
    """Creates and deletes retry only 429 (refused unprocessed): after a lost 503 a repeat would answer 409 or 404."""
    return call_options(API, idempotent=False)


def _pool_message(spec: NodePoolSpec) -> dict[str, Any]:
    """NodePoolSpec -> container_v1 NodePool as a dict (GPU pools get the driver installed by GKE)."""
    config: dict[str, Any] = {"machine_type": spec.machine_type, "disk_size_gb": spec.disk_size_gb}
    if spec.spot:
        config["spot"] = True
    if spec.gpu_type and spec.gpu_count:
        config["accelerators"] = [
            {
                "accelerator_type": spec.gpu_type,
                "accelerator_count": spec.gpu_count,
                "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"},
            }
        ]
    pool: dict[str, Any] = {
        "name": spec.name,
        "config": config,
        "initial_node_count": spec.initial_nodes,
        "autoscaling": {
            "enabled": True,
            "min_node_count": spec.min_nodes,
            "max_node_count": spec.max_nodes,
        },
        "management": {"auto_repair": True, "auto_upgrade": True},
    }
    if spec.locations:
        pool["locations"] = list(spec.locations)
    return pool


def _pool_info(raw: Any) -> NodePoolInfo:
    """container_v1.NodePool -> core NodePoolInfo."""
    accs = list(raw.config.accelerators)
    auto = raw.autoscaling
    return NodePoolInfo(
        name=str(raw.name),
        status=raw.status.name if raw.status else "STATUS_UNSPECIFIED",
        machine_type=str(raw.config.machine_type),
        gpu_type=str(accs[0].accelerator_type) if accs else None,
        gpu_count=int(accs[0].accelerator_count) if accs else 0,
        min_nodes=int(auto.min_node_count) if auto.enabled else None,
        max_nodes=int(auto.max_node_count) if auto.enabled else None,
        locations=tuple(str(z) for z in raw.locations),
    )


def _cluster_info(raw: Any) -> ClusterInfo:
    """container_v1.Cluster -> core ClusterInfo."""
    return ClusterInfo(
        name=str(raw.name),
        location=str(raw.location),
        status=raw.status.name if raw.status else "STATUS_UNSPECIFIED",
        endpoint=str(raw.endpoint),
        ca_certificate=str(raw.master_auth.cluster_ca_certificate),
        pools=tuple(_pool_info(p) for p in raw.node_pools),
        locations=tuple(str(z) for z in raw.locations),
        status_message=str(raw.status_message),
    )


def _operation_info(raw: Any, location: str) -> OperationInfo:
    """container_v1.Operation -> core OperationInfo (error text kept for the diagnosis engine)."""
    error = ""
    if "error" in raw and raw.error.message:
        error = str(raw.error.message)
    elif raw.status_message:
        error = str(raw.status_message)
    progress: float | None = None
    metrics = {m.name: m for m in raw.progress.metrics} if "progress" in raw else {}
    if "NODES_TOTAL" in metrics and metrics["NODES_TOTAL"].int_value:
        progress = metrics.get("NODES_DONE", metrics["NODES_TOTAL"]).int_value / metrics["NODES_TOTAL"].int_value
    return OperationInfo(
        name=str(raw.name),
        location=str(raw.location) or location,
        kind=raw.operation_type.name if raw.operation_type else "TYPE_UNSPECIFIED",
        status=raw.status.name if raw.status else "STATUS_UNSPECIFIED",
        target=str(raw.target_link),
        error=error,
        progress=progress,
    )


class Container:
    """GKE adapter for one project."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._client_obj: Any = None

    @property
    def _client(self) -> Any:
        """The ClusterManagerClient, built on first use."""
        if self._client_obj is None:
            from google.cloud import container_v1

            with translated():
                self._client_obj = container_v1.ClusterManagerClient(**client_kwargs("container"))
        return self._client_obj

    def _parent(self, location: str) -> str:
        """`projects/P/locations/L`."""
        return f"projects/{self.project}/locations/{location}"

    def create_cluster(self, spec: ClusterSpec) -> OperationInfo:
        """Start creating a cluster with its pools; returns the operation to follow."""
        cluster: dict[str, Any] = {
            "name": spec.name,
            "node_pools": [_pool_message(p) for p in spec.pools],
            "release_channel": {"channel": spec.release_channel},
            "workload_identity_config": {"workload_pool": f"{self.project}.svc.id.goog"},
        }
        if spec.node_locations:
            cluster["locations"] = list(spec.node_locations)
        if spec.autoprovisioning:
            cluster["autoscaling"] = {
                "enable_node_autoprovisioning": True,
                "resource_limits": [
                    {"resource_type": kind, "minimum": 0, "maximum": maximum} for kind, maximum in spec.autoprovisioning
                ],
            }
        with translated():
            op = self._client.create_cluster(
                request={"parent": self._parent(spec.location), "cluster": cluster}, **_write_options()
            )
        return _operation_info(op, spec.location)

    def create_node_pool(self, cluster: str, location: str, spec: NodePoolSpec) -> OperationInfo:
        """Start adding a node pool (e.g. the GPU pool, autoscaling from 0) to a running cluster."""
        parent = f"{self._parent(location)}/clusters/{cluster}"
        with translated():
            op = self._client.create_node_pool(
                request={"parent": parent, "node_pool": _pool_message(spec)}, **_write_options()
            )
        return _operation_info(op, location)

    def operation(self, location: str, name: str) -> OperationInfo:
        """The current state of an operation (`name` as GKE returns it, short or full)."""
        full = name if name.startswith("projects/") else f"{self._parent(location)}/operations/{name}"
        with translated():
            op = self._client.get_operation(name=full, **_read_options())
        return _operation_info(op, location)

    def wait(
        self,
        op: OperationInfo,
        *,
        timeout: float = 1800.0,
        interval: float = 5.0,
        first_interval: float | None = None,
        on_progress: Callable[[OperationInfo], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> OperationInfo:
        """Poll an operation until DONE; raises GcpApiError on an operation error or after `timeout`.

        With `first_interval`, polls start that soon and double up to `interval`: a quick operation is seen
        done quickly, a long one is not polled more than every `interval` seconds.
        """
        deadline = time.monotonic() + timeout
        current = op
        delay = interval if first_interval is None else min(first_interval, interval)
        while not current.done:
            if time.monotonic() > deadline:
                raise GcpApiError(
                    f"GKE operation {op.name} ({op.kind}) did not finish within {timeout:g} s.",
                    status=504,
                    kind="timeout",
                )
            sleep(delay)
            delay = min(delay * 2, interval)
            current = self.operation(op.location, op.name)
            if on_progress is not None:
                on_progress(current)
        if current.error:
            raise GcpApiError(current.error, status=500, reason="OPERATION_FAILED", service="container.googleapis.com")
        return current

    def get_cluster(self, location: str, name: str) -> ClusterInfo | None:
        """A cluster, or None when it does not exist."""
        try:
            with translated():
                raw = self._client.get_cluster(name=f"{self._parent(location)}/clusters/{name}", **_read_options())
        except GcpApiError as exc:
            if exc.status == 404:
                return None
            raise
        return _cluster_info(raw)

    def list_clusters(self, location: str = "-") -> list[ClusterInfo]:
        """Clusters in a location (`-` = all locations)."""
        with translated():
            reply = self._client.list_clusters(parent=self._parent(location), **_read_options())
        return [_cluster_info(c) for c in reply.clusters]

    def delete_cluster(self, location: str, name: str) -> OperationInfo:
        """Start deleting a cluster."""
        with translated():
            op = self._client.delete_cluster(name=f"{self._parent(location)}/clusters/{name}", **_write_options())
        return _operation_info(op, location)
