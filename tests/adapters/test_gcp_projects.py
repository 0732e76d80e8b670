"""Projects adapter against the fake Resource Manager, through the real google-cloud client."""

from __future__ import annotations

import pytest

from kftui.gcp.errors import GcpApiError
from kftui.gcp.projects import Projects
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]

DEPLOY_PERMISSIONS = [
    "container.clusters.create",
    "container.clusterRoles.create",
    "iam.serviceAccounts.actAs",
    "resourcemanager.projects.setIamPolicy",
    "serviceusage.services.enable",
    "cloudquotas.quotas.update",  # what creating a QuotaPreference is checked against
]


def test_get_finds_the_demo_project_without_organization(gcp_env: GcpSandbox) -> None:
    info = Projects().get("robot-ml-demo")
    assert (info.project_id, info.number, info.state) == ("robot-ml-demo", "123456789012", "ACTIVE")
    assert info.parent is None and not info.has_organization
    assert info.display_name == "Robot ML demo"


def test_get_by_number_is_the_same_project(gcp_env: GcpSandbox) -> None:
    assert Projects().get("123456789012").project_id == "robot-ml-demo"


def test_hidden_project_is_403_with_permission_and_raw_text(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Projects().get("acme-prod-ml")
    err = caught.value
    assert err.status == 403
    assert err.reason == "IAM_PERMISSION_DENIED"
    assert err.metadata["permission"] == "resourcemanager.projects.get"
    assert "acme-prod-ml" in err.raw_text and "(or it may not exist)" in err.raw_text
    assert err.raw_text.startswith("403 ")


def test_unknown_project_is_also_403(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Projects().get("no-such-project-x")
    assert caught.value.status == 403


def test_search_as_you_type_matches_id_and_display_name(gcp_env: GcpSandbox) -> None:
    ids = [p.project_id for p in Projects().search("robot")]
    assert ids == ["robot-ml-demo", "robot-ml-sandbox"]
    assert [p.project_id for p in Projects().search("Robot ML s")] == ["robot-ml-sandbox"]
    assert "acme-prod-ml" not in [p.project_id for p in Projects().search("")]


def test_missing_permissions_names_exactly_what_editor_lacks(gcp_env: GcpSandbox) -> None:
    missing = Projects().missing_permissions("robot-ml-demo", DEPLOY_PERMISSIONS)
    assert missing == ["container.clusterRoles.create"]
    sent = gcp_env.world.sent("POST", ":testIamPermissions")
    assert sent[-1].body == {"permissions": DEPLOY_PERMISSIONS}


def test_roles_of_the_caller_come_from_the_policy(gcp_env: GcpSandbox) -> None:
    projects = Projects()
    assert projects.roles_of("robot-ml-demo", "ada@robot-ml-demo.iam.gserviceaccount.com") == [
        "roles/editor", "roles/resourcemanager.projectIamAdmin"]
    assert projects.roles_of("robot-ml-demo", "ada.lovelace@example.com") == ["roles/owner"]


def test_create_waits_for_the_operation_and_reports_progress(gcp_env: GcpSandbox) -> None:
    ticks: list[tuple[int, bool]] = []
    info = Projects().create(
        "robot-ml-new", "Robot new", poll_interval=0.01, on_progress=lambda n, d: ticks.append((n, d))
    )
    assert info.project_id == "robot-ml-new" and info.state == "ACTIVE" and info.number
    assert ticks and ticks[-1][1] is True
    assert Projects().get("robot-ml-new").number == info.number


def test_create_of_an_existing_id_is_409(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Projects().create("robot-ml-demo", poll_interval=0.01)
    assert caught.value.status == 409


def test_without_credentials_in_the_environment_the_error_is_a_credentials_error(
    gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    with pytest.raises(GcpApiError) as caught:
        Projects().get("robot-ml-demo")
    assert caught.value.kind == "credentials"
    assert "/nonexistent/adc.json" in caught.value.raw_text
