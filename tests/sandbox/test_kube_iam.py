"""GKE's IAM authorizer in the kube sandbox: Google identities (the auth plugin's token over https) go through the
project's IAM with GKE's request-to-permission mapping; everyone else keeps the permissive RBAC."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.core.roles import table
from kftui.gcp.credentials import write_context
from kftui.sandbox import Sandbox
from kftui.sandbox.kube.iam import (
    KUBE_PERMISSIONS,
    ROLE_KUBE_PERMISSIONS,
    Attributes,
    permission_for,
    request_attributes,
)
from tests.deploy_world import PROJECT, ready_scenario

NOT_KUBE = ("container.clusters.", "container.operations.", "container.hostServiceAgent.")
SA = f"ada@{PROJECT}.iam.gserviceaccount.com"
CONTEXT = "gke_robot-ml-demo_us-central1-a_kubeflow"


def _kube_part(role: str) -> set[str]:
    """The Kubernetes-API permissions of a role in the shipped copy of Google's role table."""
    return {p for p in table()[role].permissions if p.startswith("container.") and not p.startswith(NOT_KUBE)}


def test_the_mapping_knows_every_kubernetes_permission_of_googles_table() -> None:
    every = {p for role in table() for p in _kube_part(role)}
    assert every == set(KUBE_PERMISSIONS)


@pytest.mark.parametrize("role", sorted(ROLE_KUBE_PERMISSIONS))
def test_each_roles_kubernetes_part_is_the_one_in_googles_table(role: str) -> None:
    assert set(ROLE_KUBE_PERMISSIONS[role]) == _kube_part(role)


def test_editor_and_developer_cannot_write_cluster_roles_but_admin_can() -> None:
    for role in ("roles/editor", "roles/container.developer"):
        assert "container.clusterRoles.create" not in ROLE_KUBE_PERMISSIONS[role]
        assert "container.deployments.create" in ROLE_KUBE_PERMISSIONS[role]
    assert "container.customResourceDefinitions.create" in ROLE_KUBE_PERMISSIONS["roles/container.developer"]
    assert "container.mutatingWebhookConfigurations.create" in ROLE_KUBE_PERMISSIONS["roles/editor"]
    assert "container.mutatingWebhookConfigurations.create" not in ROLE_KUBE_PERMISSIONS["roles/container.developer"]
    assert "container.clusterRoles.create" in ROLE_KUBE_PERMISSIONS["roles/container.admin"]


def _perm(method: str, path: str, custom: bool = False, **query: str) -> str | None:
    attrs = request_attributes(method, path, query)
    assert attrs is not None, path
    return permission_for(attrs, custom)


def test_requests_map_to_the_permission_gke_checks() -> None:
    rbac = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    assert _perm("POST", rbac) == "container.clusterRoles.create"
    assert _perm("PATCH", rbac + "/kubeflow-edit") == "container.clusterRoles.update"  # server-side apply
    assert _perm("GET", "/api/v1/namespaces/kubeflow/pods") == "container.pods.list"
    assert _perm("GET", "/api/v1/pods", watch="true") == "container.pods.list"
    assert _perm("GET", "/api/v1/namespaces/kubeflow/pods/p/log") == "container.pods.getLogs"
    assert _perm("POST", "/api/v1/namespaces/kubeflow/pods/p/exec") == "container.pods.exec"
    assert _perm("POST", "/api/v1/namespaces/kubeflow/pods/p/portforward") == "container.pods.portForward"
    assert _perm("PATCH", "/apis/apps/v1/namespaces/k/deployments/d/scale") == "container.deployments.updateScale"
    assert _perm("GET", "/apis/apps/v1/namespaces/k/deployments/d/status") == "container.deployments.getStatus"
    assert _perm("DELETE", "/api/v1/namespaces/k/configmaps") == "container.configMaps.delete"  # deletecollection
    assert _perm("PUT", "/api/v1/namespaces/kubeflow/finalize") == "container.namespaces.finalize"
    assert _perm("PATCH", "/api/v1/namespaces/kubeflow") == "container.namespaces.update"
    crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/profiles.kubeflow.org"
    assert _perm("PATCH", crd) == "container.customResourceDefinitions.update"
    assert _perm("PATCH", "/apis/kubeflow.org/v1/profiles/p", custom=True) == "container.thirdPartyObjects.update"
    assert _perm("PATCH", "/apis/networking.k8s.io/v1/ingressclasses/x") is None  # RBAC's alone
    assert request_attributes("GET", "/apis", {}) is None and request_attributes("GET", "/version", {}) is None
    attrs = request_attributes("GET", "/api/v1/namespaces/kubeflow/pods/p/log", {})
    assert attrs == Attributes("get", "", "v1", "pods", "log", "kubeflow", "p")


CLUSTER_ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeflow-edit
rules:
- apiGroups: ["kubeflow.org"]
  resources: ["notebooks"]
  verbs: ["get", "list"]
"""


@pytest.fixture
def gke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The kube sandbox reached as a GKE cluster is: https, the cluster CA, the gke-gcloud-auth-plugin context."""
    if shutil.which("gcloud") is None or shutil.which("kubectl") is None or shutil.which("gke-gcloud-auth-plugin") is None:
        pytest.skip("needs the real gcloud, kubectl and gke-gcloud-auth-plugin")
    sb = Sandbox(ready_scenario(tmp_path / "scenario"), tmp_path / "work")
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    tls = sb.served["kube-tls"]
    write_context(CONTEXT, tls.extra["endpoint"], tls.extra["ca"])
    try:
        yield sb
    finally:
        sb.stop()


def _iam(sb: Sandbox, **iam: Any) -> None:
    """Replace the demo project's policy (bindings, granted, denied) for the caller."""
    sb.gcp.state.scenario["projects"][PROJECT]["iam"] = iam


def _kubectl(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ}, check=False, cwd=tmp_path)


def _bound(*roles: str) -> list[dict[str, Any]]:
    return [{"role": r, "members": [f"serviceAccount:{SA}"]} for r in roles]


def test_a_developer_cannot_apply_a_cluster_role_and_is_told_which_permission(gke: Sandbox, tmp_path: Path) -> None:
    _iam(gke, bindings=_bound("roles/container.developer"))
    done = _kubectl(tmp_path, "apply", "--server-side", "-f", "-", stdin=CLUSTER_ROLE)
    assert done.returncode == 1
    assert (
        'clusterroles.rbac.authorization.k8s.io "kubeflow-edit" is forbidden: User '
        f'"{SA}" cannot patch resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster '
        'scope: requires one of ["container.clusterRoles.update"] permission(s).'
    ) in done.stderr
    assert (PROJECT, "container.clusterRoles.update") in gke.gcp.state.checked
    made = _kubectl(tmp_path, "create", "namespace", "team-a")  # what Developer may do, it does
    assert made.returncode == 0, made.stderr
    assert (PROJECT, "container.namespaces.create") in gke.gcp.state.checked
    assert gke.kube.state.get("clusterroles.rbac.authorization.k8s.io", None, "kubeflow-edit") is None


def test_update_without_create_is_refused_by_the_create_on_update_check(gke: Sandbox, tmp_path: Path) -> None:
    _iam(gke, granted=["container.clusterRoles.update"])
    done = _kubectl(tmp_path, "apply", "--server-side", "-f", "-", stdin=CLUSTER_ROLE)
    assert done.returncode == 1
    assert ('clusterroles.rbac.authorization.k8s.io "kubeflow-edit" is forbidden: requires one of '
            '["container.clusterRoles.create"] permission(s).') in done.stderr


def test_kubernetes_engine_admin_applies_it_and_the_403_is_a_real_status(gke: Sandbox, tmp_path: Path) -> None:
    _iam(gke, bindings=_bound("roles/viewer"))
    listed = _kubectl(tmp_path, "get", "--raw", "/api/v1/namespaces/kubeflow/secrets")
    assert listed.returncode == 1 and "requires one of [\"container.secrets.list\"]" in listed.stderr
    _iam(gke, bindings=_bound("roles/editor", "roles/container.admin"))
    done = _kubectl(tmp_path, "apply", "--server-side", "-f", "-", stdin=CLUSTER_ROLE)
    assert done.returncode == 0, done.stderr
    assert gke.kube.state.get("clusterroles.rbac.authorization.k8s.io", None, "kubeflow-edit") is not None
    checked = [p for pid, p in gke.gcp.state.checked if pid == PROJECT]
    assert checked[-2:] == ["container.clusterRoles.update", "container.clusterRoles.create"]


def test_without_a_google_token_rbac_stays_permissive(gke: Sandbox, tmp_path: Path) -> None:
    _iam(gke)  # nobody holds anything
    before = len(gke.gcp.state.checked)
    plain = _kubectl(tmp_path, "--context", "kftui-sandbox", "apply", "--server-side", "-f", "-", stdin=CLUSTER_ROLE)
    assert plain.returncode == 0, plain.stderr  # the sandbox's own kubeconfig: plain http, no Google identity
    assert len(gke.gcp.state.checked) == before
    refused = _kubectl(tmp_path, "get", "pods", "-n", "kubeflow", "-o", "json")
    assert refused.returncode == 1 and 'requires one of ["container.pods.list"]' in refused.stderr


def test_the_403_body_is_the_api_servers_status(gke: Sandbox) -> None:
    import urllib.error
    import urllib.request

    from kftui.sandbox.gcp.common import issue_token

    _iam(gke)
    token = issue_token(SA)
    req = urllib.request.Request(gke.kube.url + "/api/v1/namespaces/kubeflow/pods",
                                 headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=10)
    body = json.loads(caught.value.read())
    assert caught.value.code == 403
    assert body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
        "message": f'pods is forbidden: User "{SA}" cannot list resource "pods" in API group "" in the namespace '
                   '"kubeflow": requires one of ["container.pods.list"] permission(s).',
        "details": {"kind": "pods"},
    }
