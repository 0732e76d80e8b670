"""The GPU step's pure parts: validators, the zone planner, remembered requests, quota ids. No network."""

from __future__ import annotations

import pytest

from kftui.core.findings import Status
from kftui.core.gpu import (
    GLOBAL_GPU_METRIC,
    AcceleratorOffer,
    AcceleratorOffers,
    BlockerKind,
    MachineType,
    QuotaInfo,
    QuotaRequest,
    QuotaValue,
    RegionQuotas,
    compatible_machine_types,
    default_machine_type,
    ineligibility_words,
    machine_words,
    plan_zones,
)
from kftui.core.validate import (
    is_user_email,
    validate_email,
    validate_gpu_count,
    validate_gpu_type,
    validate_max_nodes,
    validate_region,
    validate_zone,
)
from kftui.errors import UsageError
from kftui.operations.quota import contact_email, gpu_metric, quota_info_for, remember_requests, remembered_requests
from kftui.settings import State, default_store, load_state, save_state
from kftui.steps.base import StepContext
from kftui.steps.gpu import (
    STEP,
    PlanInput,
    _plan_table,
    justification,
    request_command,
)

T4 = "nvidia-tesla-t4"
OFFERS = AcceleratorOffers(
    offers=(
        AcceleratorOffer(T4, "us-central1-a", 4),
        AcceleratorOffer(T4, "us-central1-b", 4),
        AcceleratorOffer(T4, "europe-west4-a", 4),
        AcceleratorOffer(T4, "asia-south2-a", 4),
        AcceleratorOffer("nvidia-l4", "us-central1-a", 8),
    )
)
N1 = [MachineType("e2-medium", "z", 2, 4096), MachineType("n1-standard-4", "z", 4, 15360)]
G2 = [
    MachineType("g2-standard-8", "z", 8, 32768, (("nvidia-l4", 1),)),
    MachineType("g2-standard-24", "z", 24, 98304, (("nvidia-l4", 2),)),
    *N1,
]


def quotas(limit: float, usage: float = 0) -> dict[str, QuotaValue]:
    return {GLOBAL_GPU_METRIC: QuotaValue(GLOBAL_GPU_METRIC, limit, usage)}


def regions(**limits: float) -> dict[str, RegionQuotas | None]:
    out: dict[str, RegionQuotas | None] = {
        r.replace("_", "-"): RegionQuotas(r.replace("_", "-"), {"NVIDIA_T4_GPUS": QuotaValue("NVIDIA_T4_GPUS", v)})
        for r, v in limits.items()
    }
    out["asia-south2"] = RegionQuotas("asia-south2", unreadable=True, warning="UNREACHABLE")
    return out


@pytest.mark.parametrize(
    ("check", "value", "words"),
    [
        (validate_gpu_count, "0", "GPUs per node must be at least 1"),
        (validate_gpu_count, "1.5", "GPUs per node must be a whole number"),
        (validate_max_nodes, "-2", "Maximum GPU nodes must be at least 1"),
        (validate_gpu_count, "99999999999999999999", "GPUs per node must be at most 16"),
        (validate_gpu_count, "17", "GPUs per node must be at most 16"),
        (validate_gpu_count, "\u0662", "GPUs per node must be a whole number of at least 1 written with the digits 0-9"),
        (validate_gpu_count, "1_0", "written with the digits 0-9"),
        (validate_max_nodes, "1001", "Maximum GPU nodes must be at most 1000 (GKE's limit"),
        (validate_gpu_type, "", "GPU type is empty"),
        (validate_gpu_type, "NVIDIA T4", "GPU type must be an accelerator name"),
        (validate_zone, "us-central1", "Zone must look like us-central1-a"),
        (validate_region, "us-central1-a", "Region must look like us-central1"),
        (validate_email, "ada", "Email must look like name@example.com"),
    ],
)
def test_validators_name_the_field_and_rule(check: object, value: str, words: str) -> None:
    assert callable(check)
    message = check(value)
    assert isinstance(message, str) and words in message


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (validate_gpu_count, "2"),
        (validate_max_nodes, " 4 "),
        (validate_gpu_type, "none"),
        (validate_gpu_type, "nvidia-rtx-pro-6000"),
        (validate_zone, ""),
        (validate_zone, "europe-west4-a"),
        (validate_region, "global"),
        (validate_email, ""),
        (validate_email, "ada@example.com"),
    ],
)
def test_validators_accept_good_values(check: object, value: str) -> None:
    assert callable(check)
    assert check(value) is None


def test_user_emails_only() -> None:
    assert is_user_email("ada@example.com")
    assert not is_user_email("deployer@p.iam.gserviceaccount.com")
    assert not is_user_email(None) and not is_user_email("nobody")


def test_compatible_machine_types_and_defaults() -> None:
    assert compatible_machine_types(T4, 1, N1) == ("n1-standard-4",)
    assert default_machine_type(T4, 2, N1) == "n1-standard-4"
    assert compatible_machine_types("nvidia-l4", 2, G2) == ("g2-standard-24",)
    assert default_machine_type("nvidia-l4", 1, G2) == "g2-standard-8"
    assert default_machine_type("nvidia-l4", 3, G2) is None
    assert machine_words(T4, ["n1-standard-4", "n1-highmem-8"]) == "n1-*"
    assert machine_words("nvidia-l4", ["g2-standard-8", "g2-standard-24"]) == "g2-*"
    bundled = ["g2-standard-8", "g2-standard-24"]
    assert machine_words("nvidia-l4", bundled, bundled=bundled) == "g2-standard-8, g2-standard-24"
    l4 = plan_zones("nvidia-l4", 1, 1, quotas(1), {}, OFFERS, {"us-central1-a": G2})
    assert l4[0].words == "g2-standard-8" and l4[0].bundled == ("g2-standard-8",)


def test_plan_zones_sorts_feasible_then_uncertain_then_blocked() -> None:
    rows = plan_zones(
        T4, 1, 2, quotas(4), regions(us_central1=0, europe_west4=2), OFFERS, dict.fromkeys(OFFERS.zones_for(T4), N1)
    )
    assert [r.zone for r in rows] == ["europe-west4-a", "asia-south2-a", "us-central1-a", "us-central1-b"]
    assert rows[0].ok and rows[0].certain and rows[0].machine_type == "n1-standard-4"
    assert rows[1].ok and not rows[1].certain and rows[1].quota is None
    assert rows[2].feasibility.kinds() == (BlockerKind.ZERO_REGIONAL,)
    assert rows[2].feasibility.first(BlockerKind.ZERO_REGIONAL).unblock_value == 2  # type: ignore[union-attr]


def test_plan_zones_without_a_machine_for_the_count() -> None:
    rows = plan_zones("nvidia-l4", 3, 1, quotas(8), {}, OFFERS, {"us-central1-a": G2})
    blocker = rows[0].feasibility.first(BlockerKind.MACHINE_TYPE_INCOMPATIBLE)
    assert blocker is not None and "come with 1, 2" in blocker.message
    unknown = plan_zones("nvidia-l4", 1, 1, quotas(8), {}, OFFERS, {})
    assert not unknown[0].machines_known and unknown[0].machine_types == ()


def test_plan_table_columns_and_row_status() -> None:
    rows = plan_zones(T4, 1, 1, quotas(0), regions(us_central1=0, europe_west4=1), OFFERS, {})
    plan = PlanInput(project="p-123456", gpu=T4, count=1, max_nodes=1)
    table = _plan_table(plan, rows)
    assert table.columns == ("region", "zone", "max/VM", "machine types", "quota", "used", "free", "feasible")
    by_zone = {row[1]: row for row in table.rows}
    assert by_zone["europe-west4-a"][3] == "n1-*", "catalog unknown: the family rule"
    assert by_zone["europe-west4-a"][4:] == ("1", "0", "1", "no: zero-global")
    assert by_zone["asia-south2-a"][4] == "unreadable"
    assert set(table.row_status) == {Status.FAIL}


def test_quota_ids_are_looked_up_not_guessed() -> None:
    infos = [
        QuotaInfo("GPUS-ALL-REGIONS-per-project", "compute.googleapis.com/gpus_all_regions", (), True),
        QuotaInfo("NVIDIA-T4-GPUS-per-project-region", "compute.googleapis.com/nvidia_t4_gpus", ("region",), True),
        QuotaInfo("NVIDIA-B300-GPUS-per-project-region", "compute.googleapis.com/nvidia_b300_gpus", ("region",), True),
    ]
    assert gpu_metric(infos, T4) == "NVIDIA_T4_GPUS"
    assert gpu_metric(infos, "nvidia-b300") == "NVIDIA_B300_GPUS"
    t4 = quota_info_for(infos, "NVIDIA_T4_GPUS", regional=True)
    assert t4 is not None and t4.quota_id == "NVIDIA-T4-GPUS-per-project-region"
    assert quota_info_for(infos, "NVIDIA_T4_GPUS", regional=False) is None
    assert quota_info_for(infos, GLOBAL_GPU_METRIC, regional=False) is infos[0]


def test_words_for_requests() -> None:
    assert justification(T4, 2, 3, "us-central1").startswith("Kubeflow on GKE: 6 x nvidia-tesla-t4 for ")
    assert request_command("p-1", T4, "global", 1, None).endswith("--region global --count 1")  # never a stand-in
    assert request_command("p-1", T4, "global", 1, "ada@example.com").endswith("--count 1 --email ada@example.com --yes")
    assert "billing account" in ineligibility_words("NO_VALID_BILLING_ACCOUNT")
    assert "SOMETHING_NEW" in ineligibility_words("SOMETHING_NEW")


def test_requests_are_remembered_with_read_modify_write() -> None:
    save_state(State(answers={"project": "p-123456", "zone": "us-central1-a"}))
    first = QuotaRequest("projects/p/locations/global/quotaPreferences/kftui-a", "Q", {}, 1, None, True)
    remember_requests(default_store(), "p-123456", [first])
    later = QuotaRequest("projects/p/locations/global/quotaPreferences/kftui-a", "Q", {}, 1, 1, False, "ok", "t")
    other = QuotaRequest("projects/p/locations/global/quotaPreferences/kftui-b", "R", {"region": "r1"}, 2, None, True)
    remember_requests(default_store(), "p-123456", [later, other])
    state = load_state()
    assert state.answers == {"project": "p-123456", "zone": "us-central1-a"}
    assert [(r["name"].rsplit("/", 1)[-1], r["state"]) for r in state.quota_requests] == [
        ("kftui-a", "granted"),
        ("kftui-b", "pending"),
    ]
    assert remembered_requests(default_store(), "another-project") == []
    assert len(remembered_requests(default_store())) == 2


def test_contact_email_from_the_answer() -> None:
    assert contact_email({"email": " ada@example.com "}) == "ada@example.com"
    with pytest.raises(UsageError, match="Email must look like"):
        contact_email({"email": "ada"})
    with pytest.raises(UsageError, match="is a service account: Google needs a person to contact"):
        contact_email({"email": "robot@p-123456.iam.gserviceaccount.com"})


def test_apply_refuses_unknown_and_malformed_actions() -> None:
    ctx = StepContext(answers={"project": "p-123456"}, services=None)
    with pytest.raises(ValueError, match="no action"):
        STEP.apply("create-project:x", ctx, lambda _line: None)
    with pytest.raises(ValueError, match="malformed"):
        STEP.apply("request-quota:GPUS-ALL-REGIONS-per-project:global:lots", ctx, lambda _line: None)


def test_without_a_project_or_gpu_type() -> None:
    none = list(STEP.run(StepContext(answers={}, services=None)))
    assert [(f.id, f.status) for f in none] == [("gpu.plan", Status.SKIP)]
    empty = list(STEP.run(StepContext(answers={"project": "p-123456"}, services=None)))
    assert empty[0].status == Status.FAIL and "none" in empty[0].message
    assert empty[0].fixes[0].command == "gcloud compute accelerator-types list --project=p-123456"
