"""The GPU step against the fake GCP: the planner table, blockers in plain words, quota requests filed and followed."""

from __future__ import annotations

from typing import Any

import pytest

from kftui.core.findings import Finding, Status
from kftui.errors import KftuiError, UsageError
from kftui.gcp.quotas import preference_id
from kftui.sandbox.gcp import quotas as fake
from kftui.settings import State, load_state, save_state
from kftui.steps import all_steps
from kftui.steps.base import StepContext
from kftui.steps.gpu import STEP, doctor_checks
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario
from tests.helpers import wait_for

__all__ = ["gcpb", "gcpb_scenario"]

T4 = "nvidia-tesla-t4"
EMAIL = "ada@example.com"


def ctx(project: str = PROJECT, **answers: Any) -> StepContext:
    """A step context with the given answers (the project always set)."""
    return StepContext(answers={"project": project, **answers}, services=None)


def run(context: StepContext) -> dict[str, Finding]:
    """Every finding of one run, by id."""
    return {f.id: f for f in STEP.run(context)}


def set_global(sandbox: Sandbox, limit: float | None, project: str = PROJECT) -> None:
    """Scenario variant before the first compute read: raise GPUS_ALL_REGIONS, or remove it (None)."""
    quotas = sandbox.world.scenario["projects"][project]["compute"]["quotas"]
    if limit is None:
        quotas.pop("GPUS_ALL_REGIONS")
    else:
        quotas["GPUS_ALL_REGIONS"] = {"limit": limit, "usage": 0}


def test_step_is_discovered_with_its_fields() -> None:
    assert STEP in all_steps()
    assert STEP.order == 70 and STEP.requires == ("project",)
    names = [f.name for f in STEP.fields]
    assert names[:4] == ["gpu_type", "gpu_count", "gpu_max_nodes", "zone"]
    count = next(f for f in STEP.fields if f.name == "gpu_count")
    assert count.validate is not None
    message = count.validate("0")
    assert message is not None and "GPUs per node" in message and "at least 1" in message
    assert count.validate("two") is not None and count.validate("2") is None


def test_gpu_type_suggestions_come_from_the_project(gcpb: Sandbox) -> None:
    field = next(f for f in STEP.fields if f.name == "gpu_type")
    assert field.suggest is not None
    values = [v for v, _ in field.suggest(ctx(), "")]
    assert values == ["nvidia-h100-80gb", "nvidia-l4", "nvidia-tesla-a100", T4, "none"]
    assert [v for v, _ in field.suggest(ctx(), "t4")] == [T4]
    trial = [v for v, _ in field.suggest(ctx("trial-project"), "")]
    assert trial == [T4, "none"]
    assert gcpb.world.sent("GET", "/aggregated/acceleratorTypes")


def test_none_is_a_valid_choice_that_passes(gcpb: Sandbox) -> None:
    found = list(STEP.run(ctx(gpu_type="none")))
    assert [(f.id, f.status) for f in found] == [("gpu.plan", Status.PASS)]
    assert gcpb.world.sent("GET", "/acceleratorTypes") == []


def test_zero_global_quota_blocks_every_zone(gcpb: Sandbox) -> None:
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="2", email=EMAIL))
    plan = found["gpu.plan"]
    assert plan.status == Status.FAIL
    assert "GPUS_ALL_REGIONS (all regions): limit 0, 0 in use" in plan.message
    assert plan.learned == {}
    assert plan.table is not None
    zones = [row[1] for row in plan.table.rows]
    assert sorted(zones) == ["asia-south2-a", "europe-west4-a", "us-central1-a", "us-central1-b", "us-central1-f"]
    assert set(plan.table.row_status) == {Status.FAIL}
    assert all("zero-global" in row[-1] for row in plan.table.rows)
    assert zones[-1] == "asia-south2-a", "rows whose quota could not be read come last"
    glob = found["quota.gpus-all-regions"]
    assert glob.status == Status.FAIL
    assert "limit 0, 0 in use" in glob.message and "GPUS-ALL-REGIONS-per-project" in glob.message
    assert glob.diagnosis is not None and glob.diagnosis.cause == "quota-exceeded"
    request = glob.fixes[0]
    assert request.action == "request-quota:GPUS-ALL-REGIONS-per-project:global:2"
    assert request.command is not None and request.command.startswith("kftui quota request --project robot-ml-demo")
    assert "--region global --count 2" in request.command and EMAIL in request.command
    assert any(f.command and "gcloud beta quotas preferences create" in f.command for f in glob.fixes)
    assert any(f.url and "iam-admin/quotas" in f.url for f in glob.fixes)


def test_zero_regional_quota_with_global_available(gcpb: Sandbox) -> None:
    set_global(gcpb, 4)
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1"))
    plan = found["gpu.plan"]
    assert plan.table is not None
    first = plan.table.rows[0]
    assert first[:3] == ("europe-west4", "europe-west4-a", "4")
    assert first[3] == "n1-*" and first[4:] == ("1", "0", "1", "yes")
    assert plan.table.row_status[0] == Status.PASS
    assert plan.learned == {"zone": "europe-west4-a"}, "the feasible zone is remembered"
    central = [r for r in plan.table.rows if r[0] == "us-central1"]
    assert central and all(r[-1] == "no: zero-regional" for r in central)
    asia = next(r for r in plan.table.rows if r[0] == "asia-south2")
    assert asia[4] == "unreadable" and asia[-1].startswith("unknown")
    assert found["quota.region-gpus"].status == Status.PASS
    # The user's own zone is kept, and its regional quota blocks.
    mine = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="us-central1-a"))
    assert mine["gpu.plan"].learned == {}
    assert mine["quota.gpus-all-regions"].status == Status.PASS
    regional = mine["quota.region-gpus"]
    assert regional.status == Status.FAIL
    assert "limit 0, 0 in use" in regional.message and "NVIDIA-T4-GPUS-per-project-region" in regional.message
    assert regional.fixes[0].action == "request-quota:NVIDIA-T4-GPUS-per-project-region:us-central1:1"
    assert regional.diagnosis is not None and regional.diagnosis.facts["region"] == "us-central1"


def test_type_missing_from_the_chosen_zone(gcpb: Sandbox) -> None:
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="us-central1-c"))
    zone = found["gpu.zone"]
    assert zone.status == Status.FAIL
    assert "us-central1-a, us-central1-b, us-central1-f" in zone.message
    assert zone.diagnosis is not None and zone.diagnosis.cause == "accelerator-not-in-zone"
    assert found["gpu.machine-type"].status == Status.SKIP
    assert found["gpu.plan"].learned == {}


def test_machine_type_rules_and_bundled_families(gcpb: Sandbox) -> None:
    set_global(gcpb, 8)
    l4 = run(ctx(gpu_type="nvidia-l4", gpu_count="1", gpu_max_nodes="1", zone="us-central1-a"))
    assert l4["gpu.machine-type"].status == Status.PASS
    assert l4["gpu.machine-type"].title.startswith("g2-standard-4 ")  # the smallest g2, as the deploy plans it
    three = run(ctx(gpu_type="nvidia-l4", gpu_count="3", gpu_max_nodes="1", zone="us-central1-a"))
    bad = three["gpu.machine-type"]
    assert bad.status == Status.FAIL and "1, 2" in bad.message
    assert bad.diagnosis is not None and bad.diagnosis.cause == "machine-type-incompatible"
    wrong = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a", machine_type="e2-medium"))
    assert wrong["gpu.machine-type"].status == Status.FAIL
    assert "n1-*" in wrong["gpu.machine-type"].message


def test_unreadable_quota_is_not_a_zero(gcpb: Sandbox) -> None:
    set_global(gcpb, 4)
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="asia-south2-a"))
    regional = found["quota.region-gpus"]
    assert regional.status == Status.WARN
    assert regional.diagnosis is not None and regional.diagnosis.cause == "quota-unreadable"
    assert "not a zero" in regional.message or "not a quota of zero" in regional.message


def test_project_without_a_global_cap(gcpb: Sandbox) -> None:
    set_global(gcpb, None)
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1"))
    assert "not set for this project" in found["gpu.plan"].message
    glob = found["quota.gpus-all-regions"]
    assert glob.status == Status.PASS
    assert glob.diagnosis is not None and glob.diagnosis.cause == "no-global-gpu-cap"
    assert found["gpu.plan"].learned == {"zone": "europe-west4-a"}


def test_ineligible_project_says_why_and_offers_no_request(gcpb: Sandbox) -> None:
    context = ctx("trial-project", gpu_type=T4, gpu_count="1", gpu_max_nodes="1", email=EMAIL)
    glob = run(context)["quota.gpus-all-regions"]
    assert glob.status == Status.FAIL
    assert "no valid paid billing account" in glob.message
    assert not any(f.action for f in glob.fixes)
    assert glob.diagnosis is not None and glob.diagnosis.cause == "quota-increase-ineligible"
    with pytest.raises(KftuiError, match="Nothing was requested"):
        STEP.apply("request-quota:GPUS-ALL-REGIONS-per-project:global:1", context, lambda _line: None)
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_apply_files_the_request_once_and_remembers_it(gcpb: Sandbox) -> None:
    save_state(State(answers={"project": PROJECT}))
    context = ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="2", zone="us-central1-a", email=EMAIL)
    fix = next(f for f in run(context)["quota.region-gpus"].fixes if f.action)
    assert fix.action == "request-quota:NVIDIA-T4-GPUS-per-project-region:us-central1:2"
    lines: list[str] = []
    summary = STEP.apply(fix.action, context, lines.append)
    assert "is filed" in summary and "pending" in summary and lines
    posts = gcpb.world.sent("POST", "/quotaPreferences")
    assert len(posts) == 1
    body = posts[0].body
    assert body["quotaId"] == "NVIDIA-T4-GPUS-per-project-region"
    assert body["dimensions"] == {"region": "us-central1"}
    assert int(body["quotaConfig"]["preferredValue"]) == 2
    assert body["contactEmail"] == EMAIL
    assert body["justification"].startswith("Kubeflow on GKE: 2 x nvidia-tesla-t4 for a GPU node pool")
    assert "in us-central1" in body["justification"]
    pid = preference_id("NVIDIA-T4-GPUS-per-project-region", {"region": "us-central1"}, 2)
    assert posts[0].query["quotaPreferenceId"] == pid
    again = STEP.apply(fix.action, context, lambda _line: None)
    assert "already filed" in again
    assert len(fake.preferences(gcpb.world)) == 1
    state = load_state()
    assert state.answers == {"project": PROJECT}, "the app's answers survive the read-modify-write"
    assert [r["name"] for r in state.quota_requests] == [f"projects/{PROJECT}/locations/global/quotaPreferences/{pid}"]
    assert state.quota_requests[0]["quota_id"] == "NVIDIA-T4-GPUS-per-project-region"


def test_request_pending_then_granted_unblocks_the_plan(gcpb: Sandbox) -> None:
    context = ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a", email=EMAIL)
    first = run(context)
    assert first["quota.gpus-all-regions"].status == Status.FAIL
    STEP.apply("request-quota:GPUS-ALL-REGIONS-per-project:global:1", context, lambda _line: None)
    pending = run(context)
    requests = pending["quota.requests"]
    assert requests.status == Status.WARN and "pending" in requests.message
    assert requests.table is not None and requests.table.rows[0][4] == "pending"
    assert "Requested 1 already" in pending["quota.gpus-all-regions"].message
    assert not any(f.action for f in pending["quota.gpus-all-regions"].fixes), "no second request while pending"

    def granted() -> dict[str, Finding] | None:
        found = run(context)
        table = found["quota.requests"].table
        return found if table is not None and table.rows[0][4] == "granted" else None

    done = wait_for(granted, what="the sandbox to grant the request")
    row = done["quota.requests"].table.rows[0]  # type: ignore[union-attr]
    assert row[3] == "1" and "approved" in row[5] and row[6]
    assert done["quota.requests"].status == Status.PASS
    final = run(context)
    assert final["quota.gpus-all-regions"].status == Status.PASS
    assert final["gpu.plan"].status == Status.PASS
    assert load_state().quota_requests[0]["state"] == "granted"


def test_requests_are_found_again_after_the_state_file_is_lost(gcpb: Sandbox) -> None:
    context = ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a", email=EMAIL)
    STEP.apply("request-quota:GPUS-ALL-REGIONS-per-project:global:1", context, lambda _line: None)
    save_state(State())  # the app wrote its own (older) State over ours
    found = run(context)
    assert "quota.requests" in found
    assert len(load_state().quota_requests) == 1


def test_without_an_email_the_request_names_an_owner_from_the_policy(gcpb: Sandbox) -> None:
    """The demo identity is a service account: the contact is the project's owner (a person), printed in full."""
    save_state(State(answers={"project": PROJECT}))
    context = ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a")
    glob = run(context)["quota.gpus-all-regions"]
    fix = next(f for f in glob.fixes if f.action)
    assert fix.command is not None and fix.command.endswith("--count 1 --email ada.lovelace@example.com --yes")
    assert "EMAIL" not in fix.command
    assert "Google will write to ada.lovelace@example.com (an owner or editor in the project's IAM policy)" in (
        glob.message)
    STEP.apply(fix.action or "", context, lambda _line: None)
    assert gcpb.world.sent("POST", "/quotaPreferences")[0].body["contactEmail"] == "ada.lovelace@example.com"


def test_without_any_person_the_step_asks_and_prints_no_stand_in(gcpb: Sandbox) -> None:
    iam = gcpb.world.scenario["projects"][PROJECT]["iam"]
    iam["bindings"] = [b for b in iam["bindings"] if not any(m.startswith("user:") for m in b["members"])]
    context = ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a")
    glob = run(context)["quota.gpus-all-regions"]
    fix = next(f for f in glob.fixes if f.action)
    assert fix.command is None, "no command with a stand-in address"
    assert "Email is missing" in glob.message and "'Contact email' field" in glob.message
    assert "--email` followed by your address" in glob.message
    fields, defaults = STEP.action_fields(fix.action or "", context)
    assert defaults["email"] == "" and next(f for f in fields if f.name == "email").required
    with pytest.raises(UsageError, match=r"Email is missing.*Contact email"):
        STEP.apply(fix.action or "", context, lambda _line: None)
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_a_service_account_is_refused_as_the_contact(gcpb: Sandbox) -> None:
    robot = "ada@robot-ml-demo.iam.gserviceaccount.com"
    email = next(f for f in STEP.fields if f.name == "email")
    assert email.validate is not None and "is a service account" in (email.validate(robot) or "")
    plan = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", email=robot))["gpu.plan"]
    assert plan.status == Status.FAIL and "Contact email" in plan.message and "service account" in plan.message


def test_invalid_answers_fail_with_the_rule(gcpb: Sandbox) -> None:
    found = run(ctx(gpu_type=T4, gpu_count="0", gpu_max_nodes="x"))
    plan = found["gpu.plan"]
    assert plan.status == Status.FAIL
    assert "GPUs per node must be at least 1" in plan.message and "Maximum GPU nodes" in plan.message
    unknown = run(ctx(gpu_type="nvidia-b300", gpu_count="1"))["gpu.plan"]
    assert unknown.status == Status.FAIL and T4 in unknown.message


def test_doctor_checks(gcpb: Sandbox) -> None:
    found = doctor_checks(ctx(email=EMAIL), T4, 1, "us-central1-a")
    assert [f.id for f in found] == ["gpu.zone", "gpu.machine-type", "quota.gpus-all-regions", "quota.region-gpus"]
    by = {f.id: f for f in found}
    assert by["gpu.zone"].status == Status.PASS and by["gpu.machine-type"].status == Status.PASS
    for check, qid in (
        ("quota.gpus-all-regions", "GPUS-ALL-REGIONS-per-project"),
        ("quota.region-gpus", "NVIDIA-T4-GPUS-per-project-region"),
    ):
        f = by[check]
        assert f.status == Status.FAIL
        assert "limit 0" in f.message and "0 in use" in f.message and qid in f.message
        assert f.fixes[0].command is not None and f.fixes[0].command.startswith("kftui quota request")
        assert f.to_json("gpu")["fixes"][0]["command"] == f.fixes[0].command
    elsewhere = {f.id: f for f in doctor_checks(ctx(), T4, 1, "us-central1-c")}
    assert elsewhere["gpu.zone"].status == Status.FAIL
    assert "us-central1-a" in elsewhere["gpu.zone"].message
    unknown = doctor_checks(ctx(), "nvidia-b300", 1, None)
    assert unknown[0].status == Status.FAIL and T4 in unknown[0].message
    with pytest.raises(UsageError, match="GPUs per node"):
        doctor_checks(ctx(), T4, 0, None)


def test_unreadable_machine_catalog_falls_back_to_the_family_rules(gcpb: Sandbox) -> None:
    set_global(gcpb, 4)
    gcpb.world.scenario["projects"][PROJECT]["iam"]["denied"] = ["compute.machineTypes.list"]
    found = run(ctx(gpu_type=T4, gpu_count="1", gpu_max_nodes="1", zone="europe-west4-a"))
    machine = found["gpu.machine-type"]
    assert machine.status == Status.WARN
    assert "compute.machineTypes.list" in machine.message and "n1-*" in machine.message
    assert found["gpu.plan"].table is not None and found["gpu.plan"].table.rows[0][3] == "n1-*"
    assert found["quota.region-gpus"].status == Status.PASS


H100 = "nvidia-h100-80gb"


def test_with_several_compatible_types_the_plan_takes_the_gpu_steps_machine_type(gcpb: Sandbox) -> None:
    """us-central1-a offers two machine types that carry 8 x H100 (A3 High and A3 Edge, same size): the GPU step
    chooses one, records it, and the deploy step's plan and `deploy --plan-only` use that same one."""
    import io

    from kftui.commands.deploy import run_deploy
    from kftui.core.gpu import machine_choice_key
    from kftui.steps.deploy import STEP as DEPLOY

    catalogue = ["e2-standard-8", "n1-standard-4", "a3-edgegpu-8g", "a3-highgpu-8g"]
    gcpb.world.scenario["projects"][PROJECT]["compute"]["machineTypes"] = {"us-central1-a": catalogue}
    answers = {"project": PROJECT, "gpu_type": H100, "gpu_count": "8", "gpu_max_nodes": "1", "zone": "us-central1-a"}
    machine = run(ctx(**answers))["gpu.machine-type"]
    assert machine.status == Status.PASS, machine.message
    assert "a3-edgegpu-8g" in machine.message and "a3-highgpu-8g" in machine.message  # several were compatible
    key = machine_choice_key("us-central1-a", H100, 8)
    chosen = machine.learned[key]
    assert machine.title == f"{chosen} can carry 8 x {H100}" and f"the deploy plan uses {chosen}" in machine.message

    answers[key] = chosen  # what the setup screen and doctor remember from the finding
    plan = next(f for f in DEPLOY.run(StepContext(answers=answers, services=None)) if f.id == "deploy.plan")
    assert plan.table is not None
    gpu_rows = [row for row in plan.table.rows if "x nvidia-h100-80gb" in row[1]]
    assert gpu_rows and gpu_rows[0][1].startswith(f"{chosen} + 8 x {H100}"), plan.table.rows

    save_state(State(answers=answers))
    out = io.StringIO()
    assert run_deploy(plan_only=True, out=out) == 0
    assert f"--machine-type={chosen} " in out.getvalue()
    assert "--machine-type=a3-" + ("edgegpu" if chosen == "a3-highgpu-8g" else "highgpu") not in out.getvalue()

    gcpb.world.scenario["projects"][PROJECT]["iam"]["denied"] = ["compute.machineTypes.list"]
    offline = io.StringIO()  # the zone's catalogue cannot be read now: the recorded choice still holds
    assert run_deploy(plan_only=True, out=offline) == 0
    assert f"--machine-type={chosen} " in offline.getvalue()
