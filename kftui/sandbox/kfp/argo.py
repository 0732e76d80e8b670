"""The Argo workflow a KFP 2.17 run compiles to, simulated node by node, and the task_details the backend makes of it.

Where each shape comes from (kubeflow/pipelines and argoproj/argo-workflows sources):

- Node tree: backend/src/v2/compiler/argocompiler/dag.go and container.go. The workflow's root node (display name =
  workflow name, template `entrypoint`) holds `root-driver` (a pod of `system-dag-driver`) and `root` (DAG). Every
  container task T becomes `T-driver` (pod, `system-container-driver`) and `T` (DAG, `system-container-executor`,
  or `retry-system-container-executor` when the task has a retry policy), whose one task `executor` runs
  `system-container-impl` with `when: {{cached-decision}} != true`, so a cache hit leaves `executor` Skipped and
  only the driver pod ran. A sub-DAG G (conditions, exit handlers) is `G-driver` + `G`. A ParallelFor L is the DAG
  `L` holding `iteration-driver` and `iteration-iterations` (withSequence), expanded by Argo into
  `iteration-iterations(i:i)` (operator.go generateNodeName), each holding `iteration-item-driver` and
  `iteration-item`, the loop body.
- Retries: Argo's operator.go names attempts `<node>(0)`, `<node>(1)` under a Retry node.
- Node IDs and pod names: argo-workflows pkg/apis/workflow/v1alpha1 `Workflow.NodeID` (workflow name + "-" +
  FNV-1a 32 of the node name; the root node's ID is the workflow name), and KFP backend/src/common/util/workflow.go
  `RetrievePodName` (POD_NAMES v2: workflow name + "-" + template name + "-" + the same hash).
- task_details: backend/src/apiserver/server/api_converter.go `toModelTasks` / `toModelTask(util.NodeStatus)` /
  `toApiPipelineTaskDetail`: one entry per node (sorted by node ID), display_name = the node's display name,
  create_time = the workflow's creation, start/end from the node (1970 epoch when unset), state from the Argo
  phase through model.RuntimeState.ToV2 (Error -> FAILED; Omitted -> unspecified, so omitted from the JSON),
  child_tasks = the node's children as `pod_name` only (they are node IDs), no parent_task_id, no pod_name, no
  error; task_id a UUID the task store assigns once (storage/task_store.go). Empty fields are omitted
  (grpc-gateway with EmitUnpopulated false, backend/src/apiserver/common/utils.go).
- Pods: labels `pipeline/runid` (resource_manager.go), `workflows.argoproj.io/workflow`,
  `pipelines.kubeflow.org/v2_component: "true"` (argo.go podMetadata), annotations
  `workflows.argoproj.io/node-name` and `node-id` (argo workflow/common/common.go) and
  `pipelines.kubeflow.org/runtime-role: driver|launcher` (argocompiler common.go setRuntimeRole).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

PHASES = {
    "PENDING": "Pending",
    "RUNNING": "Running",
    "SUCCEEDED": "Succeeded",
    "FAILED": "Failed",
    "SKIPPED": "Skipped",
    "CANCELED": "Failed",
    "CANCELING": "Running",
}
"""Task state -> the Argo node phase that produces it (a terminated node is Failed in Argo)."""

TO_V2 = {"Pending": "PENDING", "Running": "RUNNING", "Succeeded": "SUCCEEDED", "Skipped": "SKIPPED",
         "Failed": "FAILED", "Error": "FAILED"}  # fmt: skip
"""model.RuntimeState.ToV2 for Argo phases; Omitted maps to RUNTIME_STATE_UNSPECIFIED."""

RUNTIME_ROLE = "pipelines.kubeflow.org/runtime-role"


def fnv32a(text: str) -> int:
    """FNV-1a, 32 bit: the hash Argo uses in node IDs and pod names."""
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def node_id(workflow: str, name: str) -> str:
    """Argo's Workflow.NodeID."""
    return workflow if name == workflow else f"{workflow}-{fnv32a(name)}"


def pod_name(workflow: str, name: str, template: str) -> str:
    """KFP's RetrievePodName for POD_NAMES v2."""
    return workflow if name == workflow else f"{workflow}-{template}-{fnv32a(name)}"


@dataclass
class Node:
    """One Argo node (status.nodes entry) with what the sandbox needs to act it out."""

    name: str
    display: str
    type: str
    template: str
    phase: str
    start: datetime | None
    end: datetime | None
    children: list[str] = field(default_factory=list)
    role: str = ""
    """driver or launcher for pods."""
    logs: list[str] = field(default_factory=list)
    message: str = ""


class PodSink(Protocol):
    """What the KFP sandbox needs of the kube sandbox (its KubeWorld's public mutators)."""

    def add_pod(self, entry: Any) -> Any:
        """Create a pod from a shorthand entry."""

    def update_pod(self, namespace: str, name: str, patch: Any) -> Any:
        """Merge-patch a pod (phase Succeeded/Failed terminates its containers)."""

    def delete_pod(self, namespace: str, name: str, graceful: bool = False) -> Any:
        """Delete a pod."""

    def list_objects(self, resource: str, namespace: str | None = None) -> tuple[list[Any], int]:
        """Every object of a resource (the run's pods are found by label, as the backend finds them)."""


def task_details(
    run_id: str, workflow: str, created: datetime | None, nodes: list[Node], rfc3339: Any, ids: dict[str, str]
) -> list[dict[str, Any]]:
    """The run's task_details exactly as toApiPipelineTaskDetail writes them, one per node, sorted by node ID."""
    out: list[tuple[str, dict[str, Any]]] = []
    for node in nodes:
        nid = node_id(workflow, node.name)
        task_id = ids.setdefault(node.name, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/{node.name}")))
        body: dict[str, Any] = {
            "run_id": run_id,
            "task_id": task_id,
            "display_name": node.display,
            "create_time": rfc3339(created),
            "start_time": rfc3339(node.start),
            "end_time": rfc3339(node.end),
        }
        state = TO_V2.get(node.phase)
        if state:
            body["state"] = state
            body["state_history"] = [{"update_time": rfc3339(node.end or node.start or created), "state": state}]
        if node.children:
            body["child_tasks"] = [{"pod_name": node_id(workflow, child)} for child in node.children]
        out.append((nid, body))
    return [body for _, body in sorted(out, key=lambda pair: pair[0])]


def pod_entry(workflow: str, run_id: str, namespace: str, node: Node, age: int, host: str = "") -> dict[str, Any]:
    """The kube sandbox's shorthand for the pod a Pod node runs in (real labels, annotations, containers)."""
    annotations = {
        "workflows.argoproj.io/node-name": node.name,
        "workflows.argoproj.io/node-id": node_id(workflow, node.name),
        "pipelines.kubeflow.org/v2_component": "true",
        RUNTIME_ROLE: node.role,
    }
    image = "ghcr.io/kubeflow/kfp-driver:2.17.0" if node.role == "driver" else "python:3.11"
    return {
        "name": pod_name(workflow, node.name, node.template),
        "namespace": namespace,
        "age_seconds": age,
        "phase": "Running",
        "node": host or "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x",
        "restartPolicy": "Never",
        "labels": {
            "pipeline/runid": run_id,
            "workflows.argoproj.io/workflow": workflow,
            "workflows.argoproj.io/completed": "false",
            "pipelines.kubeflow.org/v2_component": "true",
        },
        "annotations": annotations,
        "containers": [
            {"name": "wait", "image": "quay.io/argoproj/argoexec:v3.7.3", "logs": {"lines": []}},
            {"name": "main", "image": image, "logs": {"lines": list(node.logs)}},
        ],
    }
