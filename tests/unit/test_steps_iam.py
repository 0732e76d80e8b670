"""IAM step against the fake Resource Manager: testIamPermissions, the smallest roles, current roles."""

from __future__ import annotations

from kftui.core.findings import Finding, Status
from kftui.core.requirements import DEPLOY_PERMISSIONS, deploy_permission_names, smallest_role
from kftui.steps.base import StepContext
from kftui.steps.iam import STEP, grant_command
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]

SA = "ada@robot-ml-demo.iam.gserviceaccount.com"


def check(project: str) -> Finding:
    """The step's one finding."""
    (finding,) = list(STEP.run(StepContext(answers={"project": project}, services=None)))
    assert finding.id == "iam.permissions"
    return finding


def test_deploy_permissions_include_the_documented_ones_each_with_a_role() -> None:
    documented = {
        "container.clusters.create",
        "compute.instances.create",
        "iam.serviceAccounts.create",
        "resourcemanager.projects.setIamPolicy",
        "serviceusage.services.enable",
        "cloudquotas.quotas.update",  # what creating a QuotaPreference is checked against
    }
    assert documented <= set(deploy_permission_names())
    assert all(p.role.startswith("roles/") and p.why for p in DEPLOY_PERMISSIONS)
    assert smallest_role("resourcemanager.projects.setIamPolicy") == "roles/resourcemanager.projectIamAdmin"


def test_demo_misses_exactly_set_iam_policy_and_says_who_you_are(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-demo")
    assert finding.status is Status.FAIL
    assert finding.title == "Missing 1 deploy permission: resourcemanager.projects.setIamPolicy"
    assert finding.message.startswith("You are Editor; deploying as " + SA + " also needs")
    assert "Project IAM Admin (roles/resourcemanager.projectIamAdmin)" in finding.message
    assert finding.fixes[0].command == (
        f"gcloud projects add-iam-policy-binding robot-ml-demo --member=serviceAccount:{SA}"
        " --role=roles/resourcemanager.projectIamAdmin"
    )
    assert any(f.command and f.command.endswith("--role=roles/owner") for f in finding.fixes)


def test_viewer_project_groups_missing_permissions_by_smallest_role(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-sandbox")
    assert finding.status is Status.FAIL
    assert finding.message.startswith("You are Viewer;")
    for permission in deploy_permission_names():
        assert permission in finding.message
    roles = [f.command.rsplit("--role=", 1)[1] for f in finding.fixes if f.command]
    assert roles.count("roles/compute.viewer") == 1  # two permissions, one grant
    assert "roles/cloudquotas.admin" in roles and "roles/iam.serviceAccountCreator" in roles


def test_everything_granted_passes(gcp_env: GcpSandbox) -> None:
    iam = gcp_env.project("robot-ml-demo")["iam"]
    iam["granted"], iam["denied"] = ["*"], []
    finding = check("robot-ml-demo")
    assert finding.status is Status.PASS
    assert "You are Editor" in finding.message and str(len(DEPLOY_PERMISSIONS)) in finding.title


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
