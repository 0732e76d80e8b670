"""Quotas adapter against the fake Cloud Quotas API, with the real google-cloud-quotas client."""

from __future__ import annotations

import pytest

from kftui.core.gpu import quota_id
from kftui.gcp.compute import Compute
from kftui.gcp.errors import GcpApiError
from kftui.gcp.quotas import Quotas, preference_id
from kftui.sandbox.gcp import quotas as fake
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario

__all__ = ["gcpb", "gcpb_scenario"]

ADA = "ada@example.com"


def test_quota_infos_give_ids_dimensions_and_values(gcpb: Sandbox) -> None:
    quotas = Quotas(PROJECT)
    glob = quotas.find("GPUS_ALL_REGIONS")
    assert glob is not None
    assert glob.quota_id == "GPUS-ALL-REGIONS-per-project"
    assert glob.dimensions == ()
    assert glob.value_for({}) == 0
    t4 = quotas.find("NVIDIA_T4_GPUS", region="europe-west4")
    assert t4 is not None
    assert t4.quota_id == "NVIDIA-T4-GPUS-per-project-region" == quota_id("NVIDIA_T4_GPUS", regional=True)
    assert t4.dimensions == ("region",)
    assert t4.value_for({"region": "europe-west4"}) == 1
    assert t4.value_for({"region": "us-central1"}) == 0
    assert t4.eligible and t4.ineligibility_reason is None
    assert quotas.eligibility() == (True, None)


def test_trial_project_is_ineligible(gcpb: Sandbox) -> None:
    quotas = Quotas("trial-project")
    assert quotas.eligibility() == (False, "NO_VALID_BILLING_ACCOUNT")
    with pytest.raises(GcpApiError) as info:
        quotas.request_increase("GPUS_ALL_REGIONS", 1)
    assert info.value.status == 400
    assert "NO_VALID_BILLING_ACCOUNT" in info.value.message
    assert fake.preferences(gcpb.world) == {}


def test_preference_is_filed_with_quota_id_dimensions_and_value(gcpb: Sandbox) -> None:
    filed = Quotas(PROJECT).request_increase(
        "NVIDIA_T4_GPUS", 1, region="us-central1", contact_email="ada@example.com", justification="Kubeflow"
    )
    assert filed.reconciling and filed.state == "pending"
    assert filed.preferred_value == 1
    posts = gcpb.world.sent("POST", "/quotaPreferences")
    assert len(posts) == 1
    body = posts[0].body
    assert body["quotaId"] == "NVIDIA-T4-GPUS-per-project-region"
    assert body["service"] == "compute.googleapis.com"
    assert body["dimensions"] == {"region": "us-central1"}
    assert int(body["quotaConfig"]["preferredValue"]) == 1
    assert body["contactEmail"] == "ada@example.com"
    assert posts[0].query["quotaPreferenceId"] == preference_id(
        "NVIDIA-T4-GPUS-per-project-region", {"region": "us-central1"}, 1
    )
    assert filed.name.endswith("/quotaPreferences/" + posts[0].query["quotaPreferenceId"])


def test_second_press_does_not_file_twice(gcpb: Sandbox) -> None:
    quotas = Quotas(PROJECT)
    first = quotas.request_increase("GPUS_ALL_REGIONS", 1, contact_email=ADA)
    second = quotas.request_increase("GPUS_ALL_REGIONS", 1, contact_email=ADA)
    assert not first.already_filed
    assert second.already_filed and second.name == first.name
    assert len(fake.preferences(gcpb.world)) == 1
    assert [r.name for r in quotas.requests()] == [first.name]


def test_pending_then_granted_raises_the_compute_quota(gcpb: Sandbox) -> None:
    quotas = Quotas(PROJECT)
    filed = quotas.request_increase("GPUS_ALL_REGIONS", 1, contact_email=ADA)
    states = [quotas.get(filed.name) for _ in range(4)]
    assert states[0].reconciling and states[0].granted_value is None
    final = states[-1]
    assert not final.reconciling and final.granted_value == 1 and final.state == "granted"
    assert final.trace_id and "approved" in final.state_detail
    # The grant shows where kftui reads quotas: zero global becomes 1, regional us-central1 stays 0.
    compute = Compute(PROJECT)
    assert compute.global_quotas()["GPUS_ALL_REGIONS"].limit == 1
    assert compute.region_quotas("us-central1").quotas["NVIDIA_T4_GPUS"].limit == 0


def test_denied_request_keeps_the_old_value(gcpb: Sandbox) -> None:
    gcpb.world.scenario["projects"][PROJECT]["quotas"]["decision"] = "deny"
    quotas = Quotas(PROJECT)
    filed = quotas.request_increase("NVIDIA_T4_GPUS", 2, region="europe-west4", contact_email=ADA)
    polls = [quotas.get(filed.name) for _ in range(4)]
    final = polls[-1]
    assert polls[0].reconciling
    assert final.state == "denied"
    assert final.granted_value == 1
    assert "denied" in final.state_detail
    assert Compute(PROJECT).region_quotas("europe-west4").quotas["NVIDIA_T4_GPUS"].limit == 1


def test_unknown_metric_is_not_guessed(gcpb: Sandbox) -> None:
    with pytest.raises(GcpApiError) as info:
        Quotas(PROJECT).request_increase("NVIDIA_B300_GPUS", 1, region="us-central1")
    assert info.value.status == 404
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


@pytest.mark.parametrize(("contact", "words"), [
    ("", "contact_email is required when requesting a quota increase"),
    ("ada@robot-ml-demo.iam.gserviceaccount.com", "is a service account; a quota increase needs the email address of "
                                                  "a person"),
])
def test_an_increase_needs_a_person_to_contact(gcpb: Sandbox, contact: str, words: str) -> None:
    """QuotaPreference.contact_email: required for an increase, and a person's (a service account reads no mail)."""
    with pytest.raises(GcpApiError) as info:
        Quotas(PROJECT).request_increase("GPUS_ALL_REGIONS", 1, contact_email=contact)
    assert info.value.status == 400 and words in info.value.message
    assert fake.preferences(gcpb.world) == {}
