"""Pure GPU/quota logic: machine families, quota metrics, and what blocks a GPU pool."""

from __future__ import annotations

import pytest

from kftui.core.gpu import (
    GLOBAL_GPU_METRIC,
    AcceleratorOffer,
    AcceleratorOffers,
    BlockerKind,
    GpuRequest,
    MachineType,
    QuotaInfo,
    QuotaRequest,
    QuotaValue,
    RegionQuotas,
    assess,
    machine_prefixes,
    machine_type_compatible,
    quota_id,
    quota_metric,
    region_of,
    resolve_metric,
)

OFFERS = AcceleratorOffers(
    offers=(
        AcceleratorOffer("nvidia-tesla-t4", "us-central1-a", 4),
        AcceleratorOffer("nvidia-tesla-t4", "us-central1-b", 4),
        AcceleratorOffer("nvidia-tesla-t4", "europe-west4-a", 4),
        AcceleratorOffer("nvidia-l4", "us-central1-a", 8),
    )
)


def glob(limit: float, usage: float = 0) -> dict[str, QuotaValue]:
    return {GLOBAL_GPU_METRIC: QuotaValue(GLOBAL_GPU_METRIC, limit, usage)}


def region(name: str = "us-central1", **metrics: float) -> RegionQuotas:
    return RegionQuotas(name, {m: QuotaValue(m, v) for m, v in metrics.items()})


@pytest.mark.parametrize(
    ("gpu", "metric"),
    [
        ("nvidia-tesla-t4", "NVIDIA_T4_GPUS"),
        ("nvidia-l4", "NVIDIA_L4_GPUS"),
        ("nvidia-tesla-a100", "NVIDIA_A100_GPUS"),
        ("nvidia-a100-80gb", "NVIDIA_A100_80GB_GPUS"),
        ("nvidia-h100-80gb", "NVIDIA_H100_GPUS"),
        ("nvidia-tesla-v100", "NVIDIA_V100_GPUS"),
        ("nvidia-tesla-p4", "NVIDIA_P4_GPUS"),
        ("nvidia-gb300", "NVIDIA_GB300_GPUS"),  # unknown name: rule-based
        ("nvidia-rtx-pro-6000", "NVIDIA_RTX_PRO_6000_GPUS"),
    ],
)
def test_quota_metric(gpu: str, metric: str) -> None:
    assert quota_metric(gpu) == metric
    assert quota_metric(gpu, preemptible=True) == "PREEMPTIBLE_" + metric


def test_resolve_metric_prefers_what_the_region_lists() -> None:
    assert resolve_metric("nvidia-tesla-t4", {"NVIDIA_T4_GPUS", "CPUS"}) == "NVIDIA_T4_GPUS"
    # A name the rule gets wrong is found by its model token among the region's metrics.
    assert resolve_metric("nvidia-h100-superpod", {"NVIDIA_H100_GPUS", "CPUS"}) == "NVIDIA_H100_GPUS"
    assert (
        resolve_metric("nvidia-h100-superpod", {"NVIDIA_H100_GPUS", "PREEMPTIBLE_NVIDIA_H100_GPUS"}, True)
        == "PREEMPTIBLE_NVIDIA_H100_GPUS"
    )


def test_quota_ids_and_regions() -> None:
    assert quota_id("GPUS_ALL_REGIONS", regional=False) == "GPUS-ALL-REGIONS-per-project"
    assert quota_id("NVIDIA_T4_GPUS", regional=True) == "NVIDIA-T4-GPUS-per-project-region"
    assert region_of("us-central1-a") == "us-central1"


def test_machine_families() -> None:
    assert machine_prefixes("nvidia-tesla-t4") == ("n1-",)
    assert machine_prefixes("nvidia-l4") == ("g2-",)
    assert machine_prefixes("nvidia-a100-80gb") == ("a2-ultragpu-",)
    assert "a3-highgpu-" in machine_prefixes("nvidia-h100-80gb")
    assert machine_type_compatible("nvidia-tesla-t4", 1, "n1-standard-8")
    assert not machine_type_compatible("nvidia-tesla-t4", 1, "e2-medium")
    # Newer GPUs: the machine-type API says which types bundle them.
    catalog = [MachineType("x9-gpu-4g", "us-central1-a", 48, 400_000, (("nvidia-next", 4),))]
    assert machine_prefixes("nvidia-next", catalog) == ("x9-gpu-",)
    assert machine_type_compatible("nvidia-next", 4, "x9-gpu-4g", catalog)
    assert not machine_type_compatible("nvidia-next", 2, "x9-gpu-4g", catalog)


def test_zero_global_quota_blocks_with_value_to_request() -> None:
    verdict = assess(GpuRequest("nvidia-tesla-t4", 1, 2, "us-central1-a"), glob(0), region(NVIDIA_T4_GPUS=4), OFFERS)
    assert verdict.kinds() == (BlockerKind.ZERO_GLOBAL,)
    blocker = verdict.blockers[0]
    assert blocker.unblock_value == 2 and blocker.quota_id == "GPUS-ALL-REGIONS-per-project"
    assert not verdict.ok


def test_zero_regional_with_global_available() -> None:
    verdict = assess(GpuRequest("nvidia-tesla-t4", 1, 1, "us-central1-a"), glob(4), region(NVIDIA_T4_GPUS=0), OFFERS)
    assert verdict.kinds() == (BlockerKind.ZERO_REGIONAL,)
    blocker = verdict.blockers[0]
    assert blocker.quota_id == "NVIDIA-T4-GPUS-per-project-region"
    assert blocker.region == "us-central1" and blocker.unblock_value == 1


def test_regional_quota_missing_counts_as_zero() -> None:
    verdict = assess(GpuRequest("nvidia-l4", 1, 1, "us-central1-a"), glob(4), region(CPUS=24), OFFERS)
    assert verdict.first(BlockerKind.ZERO_REGIONAL) is not None


def test_too_low_counts_usage() -> None:
    quotas = {GLOBAL_GPU_METRIC: QuotaValue(GLOBAL_GPU_METRIC, 4, 3)}
    verdict = assess(GpuRequest("nvidia-tesla-t4", 2, 1, "us-central1-a"), quotas, region(NVIDIA_T4_GPUS=8), OFFERS)
    blocker = verdict.first(BlockerKind.GLOBAL_TOO_LOW)
    assert blocker is not None and blocker.unblock_value == 5


def test_not_in_zone_suggests_zones_of_the_region() -> None:
    verdict = assess(GpuRequest("nvidia-tesla-t4", 1, 1, "us-central1-c"), glob(1), region(NVIDIA_T4_GPUS=1), OFFERS)
    blocker = verdict.first(BlockerKind.NOT_IN_ZONE)
    assert blocker is not None and blocker.alternatives == ("us-central1-a", "us-central1-b")
    elsewhere = assess(
        GpuRequest("nvidia-l4", 1, 1, "europe-west4-b"), glob(1), region("europe-west4", NVIDIA_L4_GPUS=1), OFFERS
    )
    assert elsewhere.first(BlockerKind.NOT_IN_ZONE).alternatives == ("us-central1-a",)  # type: ignore[union-attr]


def test_machine_type_incompatible_and_too_many_cards() -> None:
    verdict = assess(
        GpuRequest("nvidia-tesla-t4", 8, 1, "us-central1-a", machine_type="e2-medium"),
        glob(8),
        region(NVIDIA_T4_GPUS=8),
        OFFERS,
    )
    assert set(verdict.kinds()) == {BlockerKind.TOO_MANY_PER_NODE, BlockerKind.MACHINE_TYPE_INCOMPATIBLE}
    assert verdict.first(BlockerKind.TOO_MANY_PER_NODE).unblock_value == 4  # type: ignore[union-attr]
    assert verdict.first(BlockerKind.MACHINE_TYPE_INCOMPATIBLE).alternatives == ("n1-",)  # type: ignore[union-attr]


def test_unreadable_region_and_no_global_cap_are_caveats_not_blockers() -> None:
    unreadable = RegionQuotas("us-central1", {}, unreadable=True, warning="temporarily unavailable")
    verdict = assess(GpuRequest("nvidia-tesla-t4", 1, 1, "us-central1-a"), {}, unreadable, OFFERS)
    assert set(verdict.kinds()) == {BlockerKind.NO_GLOBAL_CAP, BlockerKind.QUOTA_UNREADABLE}
    assert verdict.ok
    assert "not a zero" in verdict.first(BlockerKind.QUOTA_UNREADABLE).message  # type: ignore[union-attr]


def test_everything_fine() -> None:
    verdict = assess(
        GpuRequest("nvidia-tesla-t4", 1, 2, "us-central1-a", machine_type="n1-standard-4"),
        glob(2),
        region(NVIDIA_T4_GPUS=2),
        OFFERS,
    )
    assert verdict.ok and verdict.blockers == ()


def test_quota_info_values_and_request_state() -> None:
    info = QuotaInfo(
        "NVIDIA-T4-GPUS-per-project-region",
        "compute.googleapis.com/nvidia_t4_gpus",
        ("region",),
        True,
        values=(({}, 0), ({"region": "europe-west4"}, 1)),
    )
    assert info.metric_name == "NVIDIA_T4_GPUS"
    assert info.value_for({"region": "europe-west4"}) == 1
    assert info.value_for({"region": "us-central1"}) == 0
    pending = QuotaRequest("n", "q", {}, 1, None, True)
    assert pending.state == "pending"
    assert QuotaRequest("n", "q", {}, 2, 2, False).state == "granted"
    assert QuotaRequest("n", "q", {}, 2, 0, False).state == "denied"
