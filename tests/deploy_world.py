"""A demo world ready for a deploy (container API on, Owner, GPU and CPU quota), shared by CLI and UI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from kftui.sandbox import SCENARIOS

MINI = Path(__file__).resolve().parent / "data" / "kustomize" / "kubeflow-mini"
MINI_RELATIVE = "tests/data/kustomize/kubeflow-mini"
"""The same kustomization as the tests' working directory (the repo root) sees it: the same text in every clone."""
PROJECT = "robot-ml-demo"
ZONE = "us-central1-a"


def ready_scenario(target: Path, gpu_quota: int = 8, polls_to_done: int | None = None) -> Path:
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
    if polls_to_done is not None:
        comp["projects"][PROJECT].setdefault("container", {})["pollsToDone"] = polls_to_done
    compute_file.write_text(yaml.safe_dump(comp))
    return target
