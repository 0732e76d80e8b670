"""Compute adapter against the fake Compute API over loopback HTTP, with the real google-cloud-compute client."""

from __future__ import annotations

import pytest

from kftui.core.gpu import BlockerKind, GpuRequest, assess
from kftui.gcp.compute import Compute
from kftui.gcp.errors import GcpApiError
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario

__all__ = ["gcpb", "gcpb_scenario"]


def test_new_project_has_zero_global_gpu_quota(gcpb: Sandbox) -> None:
    quotas = Compute(PROJECT).global_quotas()
    assert quotas["GPUS_ALL_REGIONS"].limit == 0
    assert quotas["CPUS_ALL_REGIONS"].limit == 64


def test_region_quotas_and_unreadable_region(gcpb: Sandbox) -> None:
    compute = Compute(PROJECT)
    us = compute.region_quotas("us-central1")
    assert not us.unreadable
    assert us.get("NVIDIA_T4_GPUS") is not None and us.get("NVIDIA_T4_GPUS").limit == 0  # type: ignore[union-attr]
    assert compute.region_quotas("europe-west4").quotas["NVIDIA_T4_GPUS"].limit == 1
    asia = compute.region_quotas("asia-south2")
    assert asia.unreadable
    assert "temporarily unavailable" in asia.warning
    assert asia.quotas == {}


def test_accelerator_offers_per_zone(gcpb: Sandbox) -> None:
    offers = Compute(PROJECT).accelerator_offers()
    t4 = offers.zones_for("nvidia-tesla-t4")
    assert "us-central1-a" in t4 and "europe-west4-a" in t4
    assert "us-central1-c" not in t4
    assert offers.zones_for("nvidia-h100-80gb") == ("us-central1-a",)
    offer = offers.in_zone("nvidia-tesla-t4", "us-central1-a")
    assert offer is not None and offer.max_cards == 4 and offer.region == "us-central1"
    assert "nvidia-l4" in offers.gpu_types()


def test_unreachable_zone_is_reported(gcpb: Sandbox) -> None:
    # The world is changed after start: aggregatedList reads it per request.
    from kftui.sandbox.gcp import compute as fake

    fake.project_state(gcpb.world, PROJECT)["unreachableZones"] = ["europe-west4-a"]  # type: ignore[index]
    offers = Compute(PROJECT).accelerator_offers()
    assert offers.unreachable == ("europe-west4-a",)
    assert "europe-west4-a" not in offers.zones_for("nvidia-tesla-t4")
    assert "nvidia-tesla-t4" in offers.gpu_types()


def test_type_missing_from_zone_is_a_404_with_googles_text(gcpb: Sandbox) -> None:
    compute = Compute(PROJECT)
    with pytest.raises(GcpApiError) as info:
        compute.accelerator_type("us-central1-c", "nvidia-tesla-t4")
    assert info.value.status == 404
    assert (
        "The resource 'projects/robot-ml-demo/zones/us-central1-c/acceleratorTypes/nvidia-tesla-t4' was not found"
        in info.value.message
    )
    assert compute.offered_in_zone("us-central1-c", "nvidia-tesla-t4") is False
    assert compute.offered_in_zone("us-central1-a", "nvidia-tesla-t4") is True


def test_machine_types_list_bundled_gpus(gcpb: Sandbox) -> None:
    types = {m.name: m for m in Compute(PROJECT).machine_types("us-central1-a")}
    assert types["n1-standard-4"].guest_cpus == 4 and types["n1-standard-4"].accelerators == ()
    assert types["g2-standard-8"].accelerators == (("nvidia-l4", 1),)
    assert types["a3-highgpu-8g"].accelerators == (("nvidia-h100-80gb", 8),)
    assert "e2-medium" in types
    # Zones without L4 have no G2 machines.
    assert "g2-standard-8" not in {m.name for m in Compute(PROJECT).machine_types("us-central1-b")}


def test_regions_and_zones(gcpb: Sandbox) -> None:
    compute = Compute(PROJECT)
    assert {"us-central1", "europe-west4", "asia-south2"} <= set(compute.regions())
    assert compute.zones("us-central1") == ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"]


def test_feasibility_from_live_reads_tells_the_blog_story(gcpb: Sandbox) -> None:
    compute = Compute(PROJECT)
    offers = compute.accelerator_offers()
    request = GpuRequest("nvidia-tesla-t4", count=1, max_nodes=1, zone="us-central1-c", machine_type="n1-standard-4")
    verdict = assess(request, compute.global_quotas(), compute.region_quotas("us-central1"), offers)
    assert set(verdict.kinds()) == {BlockerKind.NOT_IN_ZONE, BlockerKind.ZERO_GLOBAL, BlockerKind.ZERO_REGIONAL}
    blocker = verdict.first(BlockerKind.NOT_IN_ZONE)
    assert blocker is not None and blocker.alternatives == ("us-central1-a", "us-central1-b", "us-central1-f")


def test_project_with_compute_disabled_says_service_disabled(gcpb: Sandbox) -> None:
    gcpb.world.scenario["projects"][PROJECT]["services"]["compute.googleapis.com"] = "DISABLED"
    with pytest.raises(GcpApiError) as info:
        Compute(PROJECT).global_quotas()
    assert info.value.status == 403
    assert info.value.reason == "SERVICE_DISABLED"
