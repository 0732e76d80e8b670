"""A Notebook custom resource made the way Kubeflow's Jupyter web app makes it, from a few typed answers.

Defaults and shapes follow the web app's spawner config and form code (kubeflow/notebooks, crud-web-apps/jupyter):
service account default-editor, imagePullPolicy IfNotPresent, limits 1.2x the requests (its limitFactor), the
workspace PVC `<name>-workspace` (5Gi, ReadWriteOnce) at /home/jovyan, /dev/shm as a memory emptyDir, GPUs as
`nvidia.com/gpu` limits. On GKE a GPU type becomes the `cloud.google.com/gke-accelerator` node selector and the
`nvidia.com/gpu` taint GKE puts on GPU nodes is tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NAME = re.compile(r"^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$")
"""A DNS label short enough for the StatefulSet's `controller-revision-hash` label (52 characters at most)."""
_CPU = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY = re.compile(r"^(\d+(\.\d+)?)(Gi|Mi)$")
_SIZE = re.compile(r"^\d+(Gi|Ti|Mi)$")
LIMIT_FACTOR = 1.2
MAX_GPUS = 16
"""The most GPUs one GKE node carries (a2-megagpu-16g); more cannot be scheduled in one pod."""
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
SERVER_TYPE = "notebooks.kubeflow.org/server-type"
CREATOR = "notebooks.kubeflow.org/creator"


@dataclass(frozen=True)
class NotebookSpec:
    """What a person asks for when they make a notebook server."""

    name: str
    namespace: str
    image: str
    cpu: str = "0.5"
    memory: str = "1.0Gi"
    gpus: int = 0
    gpu_type: str | None = None
    volume_size: str | None = "5Gi"
    existing_volume: str | None = None
    pull_secret: str | None = None
    creator: str = "kftui"


def _cpu_cores(text: str) -> float:
    """A CPU quantity in cores."""
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _memory_gi(text: str) -> float:
    """A memory quantity in GiB."""
    match = _MEMORY.match(text)
    if match is None:
        raise ValueError(text)
    value = float(match.group(1))
    return value if match.group(3) == "Gi" else value / 1024


def problems(spec: NotebookSpec) -> list[str]:
    """Every answer that breaks a rule, each naming its field (empty when the spec can be made)."""
    out: list[str] = []
    if not NAME.match(spec.name):
        out.append("name: lower-case letters, digits and '-', starting with a letter, at most 52 characters")
    if not spec.namespace or not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", spec.namespace):
        out.append("namespace: a Kubernetes namespace name (the profile's, e.g. kubeflow-user-example-com)")
    if not spec.image.strip():
        out.append("image: give the notebook image")
    if not spec.cpu.isascii() or not _CPU.match(spec.cpu) or _cpu_cores(spec.cpu) <= 0 or _cpu_cores(spec.cpu) > 416:
        out.append("cpu: cores as a number (0.5, 2) or millicores (500m), more than 0 and at most 416")
    if not spec.memory.isascii() or not _MEMORY.match(spec.memory) or not 0 < _memory_gi(spec.memory) <= 12_000:
        out.append("memory: a quantity in Gi or Mi (1.0Gi, 512Mi), more than 0")
    if not 0 <= spec.gpus <= MAX_GPUS:
        out.append(f"gpu: 0 to {MAX_GPUS} GPUs (the most one GKE node carries)")
    if spec.gpu_type and not spec.gpus:
        out.append("gpu-type: give --gpu N as well, or the GPU type has nothing to select")
    if spec.gpu_type and not re.match(r"^nvidia-[a-z0-9-]+$", spec.gpu_type):
        out.append("gpu-type: a GKE accelerator name such as nvidia-tesla-t4 or nvidia-l4")
    if spec.existing_volume and spec.volume_size and spec.volume_size != "5Gi":
        out.append("volume: give a new volume's size or an existing volume, not both")
    if spec.volume_size and not spec.existing_volume and not _SIZE.match(spec.volume_size):
        out.append("volume: a size in Mi, Gi or Ti, e.g. 10Gi")
    if spec.existing_volume and not NAME.match(spec.existing_volume.replace(".", "-")[:52]):
        out.append("existing-volume: the name of a PersistentVolumeClaim in the namespace")
    return out


def _limit(value: float) -> str:
    """The web app's rounding of a limit (one decimal)."""
    return str(round(value * LIMIT_FACTOR, 1))


def manifests(spec: NotebookSpec) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The Notebook and, for a new workspace, its PVC (call problems() first: this trusts the spec)."""
    resources: dict[str, Any] = {
        "requests": {"cpu": spec.cpu, "memory": spec.memory},
        "limits": {"cpu": _limit(_cpu_cores(spec.cpu)), "memory": _limit(_memory_gi(spec.memory)) + "Gi"},
    }
    if spec.gpus:
        resources["limits"]["nvidia.com/gpu"] = str(spec.gpus)
    volume_claim = spec.existing_volume or f"{spec.name}-workspace"
    container: dict[str, Any] = {
        "name": spec.name, "image": spec.image.strip(), "imagePullPolicy": "IfNotPresent", "env": [],
        "resources": resources,
        "volumeMounts": [{"mountPath": "/home/jovyan", "name": volume_claim.replace(".", "-")},
                         {"mountPath": "/dev/shm", "name": "dshm"}],  # noqa: S108 - a mount path in the pod
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": "default-editor", "containers": [container], "tolerations": [],
        "volumes": [{"name": volume_claim.replace(".", "-"), "persistentVolumeClaim": {"claimName": volume_claim}},
                    {"name": "dshm", "emptyDir": {"medium": "Memory"}}],
    }
    if spec.gpus:
        pod_spec["tolerations"].append({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
        if spec.gpu_type:
            pod_spec["nodeSelector"] = {ACCELERATOR_LABEL: spec.gpu_type}
    if spec.pull_secret:
        pod_spec["imagePullSecrets"] = [{"name": spec.pull_secret}]
    notebook = {
        "apiVersion": "kubeflow.org/v1", "kind": "Notebook",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": {"app": spec.name},
                     "annotations": {SERVER_TYPE: "jupyter", CREATOR: spec.creator}},
        "spec": {"template": {"spec": pod_spec}},
    }
    pvc = None
    if not spec.existing_volume:
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": volume_claim, "namespace": spec.namespace},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spec.volume_size}}}}
    return notebook, pvc
