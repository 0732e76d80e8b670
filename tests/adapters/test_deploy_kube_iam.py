"""A deploy whose account holds Kubernetes Engine Developer, not Admin: GKE's IAM refuses Kubeflow's ClusterRoles
with its real message, kftui says which role to grant, and after the grant the same deploy finishes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kftui.cli import cli
from kftui.commands.deploy import plan_from, run_deploy
from kftui.core.requirements import GOALS, KUBE_PERMISSIONS, permissions_for
from kftui.diagnose import diagnose
from kftui.errors import KftuiError
from kftui.operations.deploy import Runner
from kftui.sandbox import Sandbox
from tests.deploy_world import MINI, PROJECT, ZONE, ready_scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in ("gcloud", "kubectl", "gke-gcloud-auth-plugin")),
        reason="the deploy runs the real gcloud, kubectl and gke-gcloud-auth-plugin, and one is not on PATH",
    ),
]

SA = f"ada@{PROJECT}.iam.gserviceaccount.com"
CLUSTER_ROLE = """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeflow-edit
rules:
- apiGroups: ["kubeflow.org"]
  resources: ["notebooks"]
  verbs: ["get", "list", "create"]
"""
REFUSAL = (
    'clusterroles.rbac.authorization.k8s.io "kubeflow-edit" is forbidden: User '
    f'"{SA}" cannot patch resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope: '
    'requires one of ["container.clusterRoles.update"] permission(s).'
)


@pytest.fixture
def developer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """Ada may make every Google-side call of a deploy and grant roles; in the cluster she is only a Kubernetes
    Engine Developer."""
    sb = Sandbox(ready_scenario(tmp_path / "scenario"), tmp_path / "work")
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KFTUI_DEX_PASSWORD", "robot-arms-2026!")
    sb.gcp.state.scenario["projects"][PROJECT]["iam"] = {
        "granted": [p for p in permissions_for(GOALS) if p not in KUBE_PERMISSIONS],
        "bindings": [{"role": role, "members": [f"serviceAccount:{SA}"]}  # and may grant roles, as in the demo
                     for role in ("roles/container.developer", "roles/resourcemanager.projectIamAdmin")],
    }
    try:
        yield sb
    finally:
        sb.stop()


def _release(tmp_path: Path) -> Path:
    """The small test release rendered, with a ClusterRole like Kubeflow's 113 (a rendered file, as --manifests takes)."""
    rendered = subprocess.run(["kubectl", "kustomize", str(MINI)], capture_output=True, text=True, check=True,
                              timeout=60).stdout
    path = tmp_path / "kubeflow.yaml"
    path.write_text(rendered + CLUSTER_ROLE, encoding="utf-8")
    return path


def _deploy(manifests: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_deploy(project=PROJECT, zone=ZONE, gpu="nvidia-tesla-t4", gpu_count=1, max_gpu_nodes=2,
                      manifests=str(manifests), retry_wait=0.0, poll=0.05, yes=True, out=out)
    return code, out.getvalue()


def test_a_developer_is_refused_cluster_roles_told_the_role_and_the_deploy_finishes_after_the_grant(
    developer: Sandbox, tmp_path: Path
) -> None:
    doctor = CliRunner().invoke(cli, ["doctor", "--project", PROJECT, "--zone", ZONE, "--gpu", "nvidia-tesla-t4",
                                      "--json"])
    iam = next(f for f in json.loads(doctor.stdout)["checks"] if f["id"] == "iam.permissions")
    assert iam["status"] == "fail" and "container.clusterRoles.create" in iam["title"]
    assert any("--role=roles/container.admin" in (f.get("command") or "") for f in iam["fixes"])

    release = _release(tmp_path)
    code, out = _deploy(release)
    assert code == 1 and "BLOCKED step.iam" in out and "nothing was created" in out, out  # the pre-check says so

    # Past the pre-check (a role removed after doctor passed, or granted through a condition IAM's test does not
    # see), the deploy's own runner meets GKE's refusal at the first ClusterRole and says what to grant.
    lines: list[str] = []
    plan = plan_from({}, project=PROJECT, zone=ZONE, gpu="nvidia-tesla-t4", gpu_count=1, max_gpu_nodes=2,
                     manifests=str(release))
    runner = Runner(plan, lines.append, password="robot-arms-2026!", poll=0.05, retry_wait=0.0)
    with pytest.raises(KftuiError) as refused:
        runner.run()
    said = "\n".join([*lines, str(refused.value)])
    assert "GKE needs container.clusterRoles.update to patch clusterroles: grant roles/container.admin" in said, said
    assert developer.kube.state.get("clusterroles.rbac.authorization.k8s.io", None, "kubeflow-edit") is None
    assert (PROJECT, "container.clusterRoles.update") in developer.gcp.state.checked

    kubectl = subprocess.run(["kubectl", "apply", "--server-side", "-f", str(release)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert REFUSAL in kubectl.stderr  # the refusal as kubectl prints it, word for word
    found = diagnose(kubectl.stderr, project=PROJECT)
    assert found.cause == "gke-iam-forbidden"
    assert found.facts["role"] == "roles/container.admin"
    assert found.fixes[0].command == (f"gcloud projects add-iam-policy-binding {PROJECT} "
                                      f"--member=serviceAccount:{SA} --role=roles/container.admin")

    grant = subprocess.run(["gcloud", "projects", "add-iam-policy-binding", PROJECT, f"--member=serviceAccount:{SA}",
                            "--role=roles/container.admin", "--format=json"], capture_output=True, text=True,
                           timeout=120, check=False)
    assert grant.returncode == 0, grant.stderr
    code, out = _deploy(release)
    assert code == 0, out
    assert developer.kube.state.get("clusterroles.rbac.authorization.k8s.io", None, "kubeflow-edit") is not None
