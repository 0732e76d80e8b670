"""The deploy plan: each input's rule, the checks against quotas and zone offers, the script's values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kftui.core.gpu import AcceleratorOffer, AcceleratorOffers, MachineType, QuotaValue, RegionQuotas
from kftui.core.plan import (
    PlanError,
    PlanInputs,
    PlanWorld,
    build_plan,
    check_plan,
    check_steps,
    script,
    validate_cluster_name,
    validate_machine_type,
    validate_release,
)

BASE = PlanInputs(
    project="robot-ml-demo", zone="us-central1-a", gpu_type="nvidia-tesla-t4", gpu_count=1, gpu_max_nodes=2
)
CATALOG = (
    MachineType("e2-standard-8", "us-central1-a", 8, 32768),
    MachineType("n1-standard-4", "us-central1-a", 4, 15360),
)
OFFERS = AcceleratorOffers((AcceleratorOffer("nvidia-tesla-t4", "us-central1-a", 4),))


def world(gpus: int = 8, cpus: int = 96, machines: tuple[MachineType, ...] | None = CATALOG) -> PlanWorld:
    region = RegionQuotas(
        "us-central1", {"CPUS": QuotaValue("CPUS", cpus), "NVIDIA_T4_GPUS": QuotaValue("NVIDIA_T4_GPUS", gpus)}
    )
    return PlanWorld({"GPUS_ALL_REGIONS": QuotaValue("GPUS_ALL_REGIONS", gpus)}, region, OFFERS, machines)


@pytest.mark.parametrize("name", ["kubeflow", "k", "ml-gpu-1", "a" * 40])
def test_valid_cluster_names(name: str) -> None:
    assert validate_cluster_name(name) is None


@pytest.mark.parametrize("name", ["", "1abc", "Kubeflow", "ends-", "under_score", "a" * 41])
def test_invalid_cluster_names_name_the_rule(name: str) -> None:
    assert "GKE's rule" in (validate_cluster_name(name) or "")


def test_release_rule() -> None:
    assert validate_release("26.03") is None and validate_release("v1.11.0") is None
    assert "kubeflow/manifests tag" in (validate_release("latest") or "")


def test_defaults_and_gpu_pool_from_answers() -> None:
    plan = build_plan(BASE)
    assert (plan.cluster, plan.release, plan.cpu.machine_type) == ("kubeflow", "26.03", "e2-standard-8")
    assert plan.gpu is not None and (plan.gpu.machine_type, plan.gpu.min_nodes, plan.gpu.max_nodes) == (
        "n1-standard-4",
        0,
        2,
    )
    assert plan.context == "gke_robot-ml-demo_us-central1-a_kubeflow"
    assert "no GPU cost" in plan.cost_note()


def test_minimum_above_zero_warns_about_idle_cost() -> None:
    plan = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_min_nodes": 1}))
    assert plan.cost_note().startswith("Warning: the GPU pool keeps at least 1")


def test_every_bad_field_is_named() -> None:
    with pytest.raises(PlanError) as err:
        build_plan(
            PlanInputs(
                **{**BASE.__dict__, "cluster": "Bad_Name", "gpu_count": "0", "gpu_machine_type": "e2-standard-4"}
            )
        )
    text = str(err.value)
    assert "Cluster name" in text and "GPUs per node must be at least 1" in text


def test_incompatible_gpu_machine_is_refused() -> None:
    with pytest.raises(PlanError, match="e2-standard-4 cannot carry 1 x nvidia-tesla-t4"):
        build_plan(PlanInputs(**{**BASE.__dict__, "gpu_machine_type": "e2-standard-4"}))


def test_checks_pass_when_quota_and_zone_fit() -> None:
    checks = check_plan(build_plan(BASE), world())
    assert all(c.ok for c in checks), checks


def test_blocked_by_gpu_quota_and_zone_say_which_step() -> None:
    plan = build_plan(PlanInputs(**{**BASE.__dict__, "zone": "us-central1-c"}))
    checks = {c.id: c for c in check_plan(plan, world(gpus=0))}
    assert not checks["zone.gpu"].ok and checks["zone.gpu"].revisit == "gpu"
    assert not checks["quota.gpu"].ok and "GPUS_ALL_REGIONS" in checks["quota.gpu"].message


def test_cpu_quota_covers_the_pools_maximum() -> None:
    check = next(c for c in check_plan(build_plan(BASE), world(cpus=20)) if c.id == "quota.cpu")
    assert not check.ok and "need 40" in check.message


def test_steps_that_have_not_passed_are_named() -> None:
    checks = check_steps({"account", "project"})
    assert [c.revisit for c in checks] == ["billing", "apis", "iam", "gpu"] and not any(c.ok for c in checks)
    assert checks[2].message == "The iam step has not passed."


def test_impossible_gpu_shapes_are_refused_and_bundled_shapes_chosen() -> None:
    with pytest.raises(PlanError, match=re.escape("GPUs per node for nvidia-l4 must be one of 1, 2, 4, 8")):
        build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-l4", "gpu_count": 3}))
    with pytest.raises(PlanError, match=re.escape("GPUs per node for nvidia-tesla-t4 must be one of 1, 2, 4")):
        build_plan(PlanInputs(**{**BASE.__dict__, "gpu_count": 3}))
    l4 = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-l4", "gpu_count": 2}))
    assert l4.gpu is not None and l4.gpu.machine_type == "g2-standard-24"
    a100 = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-tesla-a100", "gpu_count": 4}))
    assert a100.gpu is not None and a100.gpu.machine_type == "a2-highgpu-4g"
    with pytest.raises(PlanError, match="cannot carry"):  # a bundled type with the wrong count
        build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-l4", "gpu_count": 1,
                                 "gpu_machine_type": "g2-standard-48"}))


def test_auto_provisioning_below_the_pools_is_refused() -> None:
    with pytest.raises(PlanError, match=r"Auto-provisioning max CPU \(4\) is below the \d+ vCPU"):
        build_plan(PlanInputs(**{**BASE.__dict__, "nap_max_cpu": "4"}))
    with pytest.raises(PlanError, match=r"Auto-provisioning max memory \(1 GB\) is below"):
        build_plan(PlanInputs(**{**BASE.__dict__, "nap_max_memory_gb": "1"}))


@pytest.mark.parametrize("name", ["e2-standard-8", "e2-medium", "a2-highgpu-1g", "n2-custom-4-16384",
                                  "c3-standard-22-lssd", "f1-micro", "n2d-highmem-16"])
def test_real_machine_type_names_pass(name: str) -> None:
    assert validate_machine_type(name) is None


@pytest.mark.parametrize("name", ["e2-foo", "standard-8", "E2-standard-8", "e2-standard-"])
def test_made_up_machine_type_names_are_refused(name: str) -> None:
    assert "Compute machine type" in (validate_machine_type(name) or "")


def test_script_carries_the_users_values() -> None:
    plan = build_plan(PlanInputs(**{**BASE.__dict__, "cluster": "ml", "spot": "true"}))
    text = script(plan)
    assert "gcloud container clusters create ml" in text and "--workload-pool=robot-ml-demo.svc.id.goog" in text
    assert "--accelerator=type=nvidia-tesla-t4,count=1,gpu-driver-version=default" in text
    assert "--spot" in text and "git clone --depth 1 --branch 26.03 https://github.com/kubeflow/manifests" in text
    # the README's component order with the GKE Istio overlay after istio-crds and istio-namespace; never example
    order = [text.index(f" {p}\n") for p in ("common/kubeflow-namespace/base", "common/cert-manager/overlays/kubeflow",
                                                 "common/istio/istio-crds/base", "common/istio/istio-namespace/base",
                                                 "common/istio/istio-install/overlays/gke",
                                                 "common/oauth2-proxy/overlays/m2m-dex-only",
                                                 "common/user-namespace/base")]
    assert order == sorted(order)
    # `example` only when the directory has none of the release's kustomizations (a user's own layout)
    fallback = text.index('if [ "$FOUND" = 0 ]')
    assert "example" not in text[:fallback].replace("user@example.com", "")
    assert "while !" not in text  # every retry is bounded


def test_script_checks_its_tools_first_and_falls_back_to_kubectl_kustomize() -> None:
    text = script(build_plan(BASE))
    tools = text.index('need kubectl "gcloud components install kubectl"')
    assert tools < text.index("gcloud container clusters create") < text.index("component cert-manager")
    assert "a bcrypt tool is needed to replace Dex's default password" in text  # checked before anything is made
    assert 'if command -v kustomize >/dev/null; then BUILD="kustomize build"; else BUILD="kubectl kustomize"; fi' \
        in text
    assert "for try in $(seq 1 6)" in text and "did not apply after 6 attempts" in text
    assert "kftui forward dashboard" in text and "kubectl port-forward svc/istio-ingressgateway" in text


def test_script_of_a_rendered_file_applies_it_with_bounded_retries(tmp_path: Path) -> None:
    rendered = tmp_path / "kubeflow.yaml"
    rendered.write_bytes(b"")
    text = script(build_plan(PlanInputs(**{**BASE.__dict__, "manifests": str(rendered)})))
    assert f"RENDERED={rendered}" in text and '*.gz) gzip -dc "$RENDERED"' in text
    assert "git clone --depth" not in text and "component cert-manager" not in text
    assert 'install \'rendered kubeflow.yaml\' "$WORK/built.yaml"' in text


def test_tuned_pools_and_auto_provisioning_reach_the_plan_and_script() -> None:
    plan = build_plan(PlanInputs(**{
        **BASE.__dict__, "spot": "yes", "cpu_machine_type": "e2-standard-4", "cpu_nodes": "3", "cpu_min_nodes": "2",
        "cpu_max_nodes": "5", "nap_max_cpu": "64", "nap_max_memory_gb": "256",
    }))
    assert plan.gpu is not None and plan.gpu.spot
    assert (plan.cpu.machine_type, plan.cpu.nodes, plan.cpu.min_nodes, plan.cpu.max_nodes) == ("e2-standard-4", 3, 2, 5)
    assert plan.nap is not None and (plan.nap.max_cpu, plan.nap.max_memory_gb) == (64, 256)
    text = script(plan)
    assert "--spot" in text and "--machine-type=e2-standard-4" in text
    assert "--max-cpu=64" in text and "--max-memory=256" in text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("spot", "maybe", "Spot GPU nodes must be yes or no"),
    ("cpu_min_nodes", "6", "CPU pool minimum nodes (6) must not exceed the maximum (4)"),
    ("cpu_nodes", "9", "CPU nodes (9) must lie within the autoscaling bounds 1-4"),
    ("nap_max_cpu", "0", "Auto-provisioning max CPU must be at least 1"),
    ("nap_max_memory_gb", "lots", "Auto-provisioning max memory (GB) must be a whole number"),
    ("cpu_machine_type", "big", "CPU machine type must be a Compute machine type"),
])
def test_each_tuning_input_names_its_rule(field: str, value: str, message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        build_plan(PlanInputs(**{**BASE.__dict__, field: value}))


def test_a_defaulted_gpu_machine_type_comes_from_the_zones_catalogue() -> None:
    from kftui.core.plan import fit_to_zone

    plan = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-l4", "gpu_count": "1"}))
    assert plan.gpu is not None and plan.gpu.defaulted
    catalogue = [MachineType("g2-standard-8", "us-central1-a", 8, 32768, (("nvidia-l4", 1),)),
                 MachineType("e2-standard-8", "us-central1-a", 8, 32768, ())]
    fitted = fit_to_zone(plan, catalogue)
    assert fitted.gpu is not None and fitted.gpu.machine_type == "g2-standard-8"  # what the GPU step shows
    given = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-l4", "gpu_machine_type": "g2-standard-4"}))
    assert fit_to_zone(given, catalogue) == given  # a machine type the user chose is never replaced


@pytest.mark.parametrize(("field", "value", "words"), [
    ("gpu_count", "99999999999999999999", "GPUs per node must be at most 16"),
    ("gpu_count", "\u0662", "written with the digits 0-9"),
    ("gpu_max_nodes", "1001", "Maximum GPU nodes must be at most 1000"),
    ("cpu_nodes", "\u0663", "CPU nodes must be a whole number"),
])
def test_counts_are_ascii_and_bounded_by_real_limits(field: str, value: str, words: str) -> None:
    with pytest.raises(PlanError, match=words):
        build_plan(PlanInputs(**{**BASE.__dict__, field: value}))


def test_one_choice_of_gpu_machine_type_for_the_step_and_the_plan() -> None:
    """Several compatible types in a zone: the GPU step's function and the plan's default pick the same one."""
    from kftui.core.gpu import choose_machine_type, default_machine_type
    from kftui.core.plan import default_gpu_machine, fit_to_zone

    h100 = (("nvidia-h100-80gb", 8),)
    zone = [MachineType("a3-edgegpu-8g", "us-central1-a", 208, 1916928, h100),
            MachineType("a3-highgpu-8g", "us-central1-a", 208, 1916928, h100)]
    assert choose_machine_type("nvidia-h100-80gb", 8, zone) == "a3-highgpu-8g"  # GCE's table shape, not the name sort
    assert default_machine_type("nvidia-h100-80gb", 8, zone) == default_gpu_machine("nvidia-h100-80gb", 8, zone)
    plan = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-h100-80gb", "gpu_count": "8"}))
    assert plan.gpu is not None and fit_to_zone(plan, zone).gpu == plan.gpu
    edge_only = zone[:1]
    fitted = fit_to_zone(plan, edge_only).gpu
    assert fitted is not None and fitted.machine_type == "a3-edgegpu-8g"
    recorded = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-h100-80gb", "gpu_count": "8",
                                        "recorded": {f"gpu_machine:{BASE.zone}:nvidia-h100-80gb:8": "a3-edgegpu-8g"}}))
    assert recorded.gpu is not None and recorded.gpu.machine_type == "a3-edgegpu-8g"  # what the GPU step recorded
    other_zone = build_plan(PlanInputs(**{**BASE.__dict__, "gpu_type": "nvidia-h100-80gb", "gpu_count": "8",
                                          "recorded": {"gpu_machine:elsewhere-a:nvidia-h100-80gb:8": "a3-edgegpu-8g"}}))
    assert other_zone.gpu is not None and other_zone.gpu.machine_type == "a3-highgpu-8g"  # another zone's record
