"""IAM step against the fake Resource Manager: the calls' permissions, the smallest roles, current roles."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from kftui.core.findings import Finding, Status
from kftui.core.requirements import (
    CALLS,
    DEPLOY_PERMISSIONS,
    GOALS,
    SMALLEST_ROLE,
    goals_for,
    permissions_for,
    roles_for,
    smallest_role,
)
from kftui.steps.base import StepContext
from kftui.steps.iam import STEP, grant_command
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]

SA = "ada@robot-ml-demo.iam.gserviceaccount.com"
ROLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gcp-predefined-roles.json.gz"


def check(project: str, **answers: str) -> Finding:
    """The step's one finding."""
    (finding,) = list(STEP.run(StepContext(answers={"project": project, **answers}, services=None)))
    assert finding.id == "iam.permissions"
    return finding


def google_roles() -> dict[str, Any]:
    if not ROLES.is_file():
        pytest.skip(f"Google's role table {ROLES.name} is absent (expected in {ROLES.parent})")
    data: dict[str, Any] = json.loads(gzip.decompress(ROLES.read_bytes()))
    return data


def test_the_calls_table_names_what_google_checks() -> None:
    """GKE create checks actAs on the node service account; node pools need clusters.update (not create)."""
    by_method = {c.method: c for c in CALLS}
    assert set(by_method["container.projects.locations.clusters.create"].permissions) == {
        "container.clusters.create", "iam.serviceAccounts.actAs"}
    assert "container.clusters.update" in by_method["container.projects.locations.clusters.nodePools.create"].permissions
    assert {c.goal for c in CALLS} <= set(GOALS)
    deploy = set(permissions_for(goals_for({"gpu_type": "nvidia-l4"})))
    for needed in ("container.operations.get", "container.clusters.getCredentials", "compute.regions.get",
                   "compute.zones.list", "compute.machineTypes.list", "compute.acceleratorTypes.get",
                   "serviceusage.services.enable", "cloudquotas.quotas.update", "container.clusterRoles.create"):
        assert needed in deploy
    assert "cloudquotas.quotas.update" not in permissions_for(goals_for({"gpu_type": "none"}))
    assert {p.name for p in DEPLOY_PERMISSIONS} == deploy
    assert all(p.role.startswith("roles/") and p.why for p in DEPLOY_PERMISSIONS)


def test_every_role_in_the_table_grants_its_permissions_and_none_of_its_service_is_smaller() -> None:
    """Checked against Google's role table: each grant covers its permissions, and no smaller GA role of the
    same service (service agents and beta/legacy titles aside) would cover them all."""
    roles = google_roles()
    for permission, role in SMALLEST_ROLE.items():
        assert permission in roles[role]["permissions"], (permission, role)
    for role, perms in roles_for(permissions_for(GOALS)).items():
        service = role.removeprefix("roles/").split(".")[0]
        smaller = [r for r, v in roles.items() if set(perms) <= set(v["permissions"]) and "erviceAgent" not in r
                   and v.get("stage") == "GA" and r.removeprefix("roles/").split(".")[0] == service
                   and not any(w in v.get("title", "").lower() for w in ("beta", "legacy", "deprecated"))
                   and len(v["permissions"]) < len(roles[role]["permissions"])]
        assert not smaller, f"{perms}: {smaller} grant them and are smaller than {role}"


def test_demo_editor_lacks_what_kubeflows_rbac_needs_and_the_fix_names_the_smallest_role(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-demo", gpu_type="nvidia-l4")
    assert finding.status is Status.FAIL
    assert finding.title == (  # Editor writes no RBAC on GKE: a server-side apply needs update and create
        "Missing 8 permissions kftui's calls need: container.clusterRoles.create, container.clusterRoles.update, "
        "container.clusterRoleBindings.create, container.clusterRoleBindings.update, container.roles.create, "
        "container.roles.update, container.roleBindings.create, container.roleBindings.update"
    )
    assert finding.message.startswith("You are Editor, Project IAM Admin; deploying as " + SA + " also needs")
    assert "Kubernetes Engine Admin (roles/container.admin)" in finding.message
    assert finding.fixes[0].command == (
        f"gcloud projects add-iam-policy-binding robot-ml-demo --member=serviceAccount:{SA}"
        " --role=roles/container.admin"
    )
    assert any(f.command and f.command.endswith("--role=roles/owner") for f in finding.fixes)


def test_viewer_project_groups_missing_permissions_by_smallest_role(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-sandbox", gpu_type="nvidia-l4")
    assert finding.status is Status.FAIL
    assert finding.message.startswith("You are Viewer;")
    roles = [f.command.rsplit("--role=", 1)[1] for f in finding.fixes if f.command]
    assert roles.count("roles/container.clusterAdmin") == 1  # four permissions, one grant
    assert "roles/cloudquotas.admin" in roles and "roles/iam.serviceAccountUser" in roles
    assert "roles/compute.networkViewer" not in roles  # Viewer reads Compute already
    assert roles[-1] == "roles/owner"


def test_everything_granted_passes(gcp_env: GcpSandbox) -> None:
    iam = gcp_env.project("robot-ml-demo")["iam"]
    iam["granted"], iam["denied"] = ["*"], []
    finding = check("robot-ml-demo")
    assert finding.status is Status.PASS
    assert "You are Editor" in finding.message
    assert str(len(permissions_for(goals_for({})))) in finding.title


def test_unreadable_policy_still_reports_the_permission_test(gcp_env: GcpSandbox) -> None:
    iam = gcp_env.project("robot-ml-demo")["iam"]
    iam["denied"] = ["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.getIamPolicy"]
    finding = check("robot-ml-demo")
    assert finding.status is Status.FAIL
    assert finding.message.startswith("Your current roles could not be read")


def test_hidden_project_is_a_diagnosed_failure(gcp_env: GcpSandbox) -> None:
    finding = check("acme-prod-ml")
    assert finding.status is Status.FAIL and finding.diagnosis is not None
    assert finding.diagnosis.cause == "permission-denied"


def test_member_kind_in_grant_commands() -> None:
    assert "--member=user:ada@example.com " in grant_command("p-123456", "ada@example.com", "roles/owner")
    assert "--member=serviceAccount:x@p.iam.gserviceaccount.com " in grant_command(
        "p-123456", "x@p.iam.gserviceaccount.com", "roles/owner"
    )
    assert "--member=user:YOUR_EMAIL " in grant_command("p-123456", None, "roles/owner")
    assert smallest_role("resourcemanager.projects.setIamPolicy") == "roles/resourcemanager.projectIamAdmin"
