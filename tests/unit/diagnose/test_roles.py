"""The smallest predefined roles, computed from Google's role table shipped in the package."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kftui.core import roles
from kftui.core.roles import covers, role_title, roles_granting, smallest_role, smallest_roles

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "data" / "gcp-predefined-roles.json.gz"
if not SHARED.exists():  # a worktree under /work/wt/<name> sees the shared folder two levels up
    SHARED = ROOT.parent.parent / "shared" / "data" / "gcp-predefined-roles.json.gz"


@pytest.mark.parametrize(
    ("permission", "role"),
    [
        ("iam.serviceAccounts.getAccessToken", "roles/iam.serviceAccountTokenCreator"),
        ("iam.serviceAccounts.actAs", "roles/iam.serviceAccountUser"),
        ("compute.instances.create", "roles/compute.instanceAdmin.v1"),
        ("container.clusters.create", "roles/container.clusterAdmin"),
        ("container.clusters.get", "roles/container.clusterViewer"),
        ("resourcemanager.projects.setIamPolicy", "roles/resourcemanager.projectIamAdmin"),
        ("serviceusage.services.enable", "roles/serviceusage.serviceUsageAdmin"),
        ("serviceusage.services.use", "roles/serviceusage.serviceUsageConsumer"),
        ("cloudquotas.quotas.update", "roles/cloudquotas.admin"),
        ("iam.serviceAccounts.create", "roles/iam.serviceAccountCreator"),
        ("storage.objects.get", "roles/storage.objectViewer"),
        ("artifactregistry.repositories.downloadArtifacts", "roles/artifactregistry.reader"),
        ("resourcemanager.projects.get", "roles/browser"),
    ],
)
def test_the_smallest_role_for_one_permission_is_the_one_google_documents(permission: str, role: str) -> None:
    assert smallest_roles([permission]) == [role]
    assert smallest_role(permission) == role
    assert covers(role, [permission])


def test_a_prefix_is_never_enough_the_admin_role_is_not_the_answer() -> None:
    # the old guess: compute.* -> compute.admin, iam.* -> serviceAccountAdmin
    assert smallest_role("compute.instances.create") != "roles/compute.admin"
    assert smallest_role("iam.serviceAccounts.getAccessToken") != "roles/iam.serviceAccountAdmin"
    # a role Google reserves for workloads is granted to Kubernetes service accounts, not suggested to people
    assert "roles/iam.workloadIdentityUser" in roles_granting("iam.serviceAccounts.getAccessToken")
    assert roles_granting("iam.serviceAccounts.getAccessToken")[0] == "roles/iam.serviceAccountTokenCreator"


def test_one_role_covering_everything_is_preferred_to_several() -> None:
    wanted = ["compute.regions.get", "compute.acceleratorTypes.list", "compute.zones.list"]
    (only,) = smallest_roles(wanted)
    assert covers(only, wanted)
    assert only.startswith("roles/compute.")


def test_a_cover_over_services_uses_one_narrow_role_each_never_a_basic_one() -> None:
    wanted = ["container.clusters.create", "iam.serviceAccounts.actAs", "compute.instances.create"]
    found = smallest_roles(wanted)
    assert sorted(found) == [
        "roles/compute.instanceAdmin.v1",
        "roles/container.clusterAdmin",
        "roles/iam.serviceAccountUser",
    ]
    assert not set(found) & roles.BASIC


def test_case_and_quotes_from_error_texts_are_forgiven_unknown_permissions_get_no_role() -> None:
    assert smallest_roles(["‘iam.serviceaccounts.actAs’"]) == ["roles/iam.serviceAccountUser"]
    assert smallest_roles(['"container.clusters.create"']) == ["roles/container.clusterAdmin"]
    assert smallest_roles(["nothing.like.this"]) == []
    assert smallest_role("nothing.like.this") is None
    assert smallest_roles([]) == []


def test_preview_and_legacy_roles_lose_to_ga_ones() -> None:
    # roles/compute.instanceAdmin is smaller but titled "(beta)"; the legacy storage roles are bucket-only
    assert role_title("roles/compute.instanceAdmin").endswith("(beta)")
    assert smallest_role("compute.instances.create") == "roles/compute.instanceAdmin.v1"
    assert smallest_role("storage.objects.get") != "roles/storage.legacyObjectReader"


def test_basic_roles_only_when_nothing_narrower_grants_it() -> None:
    table = roles.table()
    only_basic = next(  # the first in sorted order, found without asking every permission of the table
        (p for p in sorted({p for r in table.values() for p in r.permissions})
         if all(r in roles.BASIC for r in roles_granting(p))),
        None,
    )
    if only_basic is None:
        pytest.skip("every permission in the table has a narrower role than the basic ones")
    assert smallest_roles([only_basic])[0] in roles.BASIC
    assert not set(smallest_roles(["compute.instances.create", only_basic])) - roles.BASIC - {
        "roles/compute.instanceAdmin.v1"
    }


def test_titles_come_from_the_table() -> None:
    assert role_title("roles/iam.serviceAccountTokenCreator") == "Service Account Token Creator"
    assert role_title("roles/not.a.role") == "roles/not.a.role"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared role table (../shared/data) is absent")
def test_shipped_table_is_what_the_build_script_makes_from_googles_table() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_roles.py"), str(SHARED), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with gzip.open(SHARED, "rt", encoding="utf-8") as handle:
        source = json.load(handle)
    for role_id, role in roles.table().items():  # what is shipped is a faithful subset of Google's list
        assert role.permissions <= set(source[role_id]["permissions"])
        assert role.size == len(source[role_id]["permissions"])


def test_a_broad_role_covering_all_loses_to_two_narrow_ones() -> None:
    # roles/iam.editor grants both, but gives away far more than the two roles made for each
    found = smallest_roles(["iam.serviceAccounts.actAs", "iam.serviceAccounts.create"])
    assert sorted(found) == ["roles/iam.serviceAccountCreator", "roles/iam.serviceAccountUser"]


def test_the_deploy_permissions_need_six_narrow_roles_and_no_redundant_one() -> None:
    wanted = [
        "container.clusters.create", "container.clusters.get", "iam.serviceAccounts.actAs",
        "compute.instances.create", "compute.regions.get", "compute.acceleratorTypes.list",
        "iam.serviceAccounts.create", "resourcemanager.projects.setIamPolicy", "serviceusage.services.enable",
        "cloudquotas.quotas.update",
    ]
    found = smallest_roles(wanted)
    assert all(any(covers(r, [p]) for r in found) for p in wanted)
    for role in found:  # each role is needed: without it some permission is not granted
        rest = [r for r in found if r != role]
        assert not all(any(covers(r, [p]) for r in rest) for p in wanted), role
    assert not set(found) & roles.BASIC
