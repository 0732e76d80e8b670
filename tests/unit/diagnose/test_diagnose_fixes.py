"""Fixes that work as written: the right member prefix, the role Google's table gives, the user's own values."""

from __future__ import annotations

import pytest

from kftui.core.diagnosis import Diagnosis
from kftui.diagnose import diagnose
from kftui.diagnose.rules.iam import member_of


def commands_of(result: Diagnosis) -> list[str]:
    """Every command a diagnosis offers."""
    return [f.command for f in result.fixes if f.command]


@pytest.mark.parametrize(
    ("principal", "member"),
    [
        ("deployer@kf-demo-381201.iam.gserviceaccount.com", "serviceAccount:deployer@kf-demo-381201.iam.gserviceaccount.com"),
        ("233694408259-compute@developer.gserviceaccount.com", "serviceAccount:233694408259-compute@developer.gserviceaccount.com"),
        ("ana@example.com", "user:ana@example.com"),
        ("group:ml-team@example.com", "group:ml-team@example.com"),
        ("example.com", "domain:example.com"),
    ],
)
def test_member_prefix_follows_the_principals_kind(principal: str, member: str) -> None:
    assert member_of(principal) == member


def test_a_service_account_is_granted_as_serviceaccount_with_the_smallest_role() -> None:
    sa = "ci@kf-demo-381201.iam.gserviceaccount.com"
    result = diagnose(
        "googleapi: Error 403: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        account=sa,
        project="kf-demo-381201",
    )
    assert result.cause == "permission-denied"
    assert result.facts["role"] == "roles/iam.serviceAccountTokenCreator"
    grant = next(c for c in commands_of(result) if "projects add-iam" in c)
    assert grant == (
        f"gcloud projects add-iam-policy-binding kf-demo-381201 --member=serviceAccount:{sa}"
        " --role=roles/iam.serviceAccountTokenCreator"
    )
    assert all("--member=user:" not in (f.command or "") for f in result.fixes)


def test_the_account_gcloud_names_is_used_and_the_permission_comes_from_the_resource() -> None:
    result = diagnose(
        "ERROR: (gcloud.projects.add-iam-policy-binding) [xyz@redhat.com] does not have permission to access projects "
        "instance [fullsend-eval:setIamPolicy] (or it may not exist): Policy update access denied."
    )
    assert result.facts["permission"] == "resourcemanager.projects.setIamPolicy"
    assert any(
        c == "gcloud projects add-iam-policy-binding fullsend-eval --member=user:xyz@redhat.com"
        " --role=roles/resourcemanager.projectIamAdmin"
        for c in (f.command or "" for f in result.fixes)
    )


def test_act_as_on_a_named_service_account_is_granted_on_that_account() -> None:
    sa = "fourkeys@cloudtestkti-test-25bd.iam.gserviceaccount.com"
    result = diagnose(
        f"Error 403: Permission \u2018iam.serviceaccounts.actAs\u2019 denied on service account {sa} (or it may not exist).",
        account="ana@example.com",
    )
    assert result.facts["permission"] == "iam.serviceAccounts.actAs"
    assert (
        f"gcloud iam service-accounts add-iam-policy-binding {sa} --member=user:ana@example.com"
        " --role=roles/iam.serviceAccountUser"
    ) in [f.command for f in result.fixes]


def test_no_prefix_guess_compute_permission_gets_instance_admin_not_compute_admin() -> None:
    result = diagnose("Required 'compute.instances.create' permission for 'projects/kf-demo-381201'")
    assert result.facts["role"] == "roles/compute.instanceAdmin.v1"


def test_the_global_gpu_quota_request_says_region_global() -> None:
    result = diagnose("Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally.", project="kf-demo-381201",
                      gpu="nvidia-l4", email="ana@example.com")
    request = next(c for c in commands_of(result) if c.startswith("kftui quota"))
    assert "--region global" in request
    assert "REGION" not in request


def test_invalid_jwt_signature_is_a_rotated_key_not_a_login() -> None:
    result = diagnose("ERROR: (gcloud.auth.activate-service-account) There was a problem refreshing your current "
                      "auth tokens: invalid_grant: Invalid JWT Signature.")
    assert result.cause == "sa-key-invalid"
    assert "gcloud auth login" not in [f.command for f in result.fixes]
    assert any((f.command or "").startswith("gcloud iam service-accounts keys create") for f in result.fixes)


def test_ecr_pull_secret_uses_the_aws_user_and_get_login_password() -> None:
    result = diagnose(
        'Failed to pull image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml/train:2": rpc error: code = Unknown '
        "desc = Error response from daemon: denied: Your authorization token has expired. Reauthenticate and try again.",
        namespace="kubeflow-user",
    )
    assert result.cause == "image-pull-token-expired"
    secret = next(f.command or "" for f in result.fixes if "create secret" in (f.command or ""))
    assert "--docker-username=AWS" in secret
    assert "$(aws ecr get-login-password --region eu-west-1)" in secret
    assert "USER" not in secret


def test_cpu_stockout_gets_cpu_advice_and_listed_zones_are_used() -> None:
    cpu = diagnose(
        "code: ZONE_RESOURCE_POOL_EXHAUSTED message: A e2-standard-2 VM instance is currently unavailable in the "
        "europe-west4-a zone. metadatas: attachment: '' vmType: e2-standard-2 zone: europe-west4-a zonesAvailable: ''"
    )
    assert cpu.facts["hardware"] == "cpu"
    assert not any("accelerator-types" in (f.command or "") for f in cpu.fixes)
    assert "offers the GPU" not in cpu.explanation and "no GPU is involved" in cpu.explanation
    gpu = diagnose(
        "code: ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS message: A n1-standard-4 VM instance with 1 nvidia-tesla-t4 "
        "accelerator(s) is currently unavailable in the us-central1-b zone. Consider trying your request in the "
        "us-central1-a, us-central1-f zone(s), which currently has capacity to accommodate your request."
    )
    assert gpu.facts["zones_available"] == "us-central1-a,us-central1-f"
    assert any("--node-locations=us-central1-a,us-central1-f" in (f.command or "") for f in gpu.fixes)


def test_a_self_made_gpu_taint_is_not_called_gkes() -> None:
    own = diagnose("0/1 nodes are available: 1 node(s) had untolerated taint {gpu: }. preemption: 0/1 nodes are "
                   "available: 1 Preemption is not helpful for scheduling..")
    assert own.cause == "untolerated-taint"
    assert "GKE marks" not in own.explanation
    gke = diagnose("0/2 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: present}.")
    assert gke.facts["gke_taint"] == "yes"


def test_kubernetes_too_new_is_not_told_to_wait_for_a_crd() -> None:
    result = diagnose('no matches for kind "CustomResourceDefinition" in version "apiextensions.k8s.io/v1beta1"')
    assert result.cause == "api-version-removed"
    assert result.facts["removed_in"] == "1.22"
    assert "established" not in result.explanation


def test_known_project_replaces_placeholders() -> None:
    result = diagnose("ERROR: (gcloud.compute.zones.list) The required property [project] is not currently set.",
                      project="kf-demo-381201")
    assert "gcloud config set project kf-demo-381201" in [f.command for f in result.fixes]
