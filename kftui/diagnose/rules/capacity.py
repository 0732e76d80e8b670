"""Hardware that is not there: stockouts, GPU types a zone lacks, machine types that take no GPU."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

GPU_ZONES_DOC = "https://cloud.google.com/compute/docs/gpus/gpu-regions-zones"
STOCKOUT_DOC = "https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-resource-availability"

# Which machine family carries which GPU; anything not listed here is an N1 GPU (T4, P4, V100, P100).
_MACHINE_FOR_GPU = {
    "nvidia-l4": "g2-standard-4",
    "nvidia-tesla-a100": "a2-highgpu-1g",
    "nvidia-a100-80gb": "a2-ultragpu-1g",
    "nvidia-h100-80gb": "a3-highgpu-1g",
}


def machine_for(gpu: str | None) -> str:
    """A machine type that accepts one of this GPU."""
    return _MACHINE_FOR_GPU.get(gpu or "", "n1-standard-4")


def list_zones_fix(gpu: str | None, project: str | None) -> Fix:
    """The command that shows where a GPU type exists."""
    return Fix(
        title=f"List the zones that offer {v.shown(gpu, 'your GPU type')}",
        command=(
            f'gcloud compute accelerator-types list --filter="name={v.or_placeholder(gpu, "gpu")}"'
            f" --project={q(v.or_placeholder(project, 'project'))}"
        ),
        url=GPU_ZONES_DOC,
    )


@rule("gpu-stockout", priority=70)
def stockout(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google is out of this hardware in the zone: not the user's fault, and not a quota."""
    if not (
        p.has("ZONE_RESOURCE_POOL_EXHAUSTED", "GCE_STOCKOUT", "does not have enough resources available")
        or p.has_reason("ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
        or p.search(r"\bresource pool exhausted\b|\bstockout\b")
    ):
        return None
    zone = v.zone(p, ctx)
    project, _ = v.project(p, ctx)
    gpu = v.gpu(p, ctx)
    where = f"zone {zone}" if zone else "this zone"
    what = gpu or "the requested machine"
    return Diagnosis(
        cause="gpu-stockout",
        title=f"{where[0].upper() + where[1:]} has run out of {what} right now",
        explanation=(
            f"Google Cloud could not create the machine because {where} has no free {what} at the moment "
            "(a stockout). Your project, quota and billing are fine: this is Google's spare capacity, and it "
            "changes by the hour. Retry later, or use another zone that offers the GPU; for a GKE node pool, "
            "list two or three such zones in --node-locations so the autoscaler can fall back."
        ),
        facts=v.facts(zone=zone, region=v.region_of(zone), project=project, gpu=gpu),
        fixes=(
            list_zones_fix(gpu, project),
            Fix(
                title="Let a GPU node pool use several zones",
                command=(
                    "gcloud container node-pools update GPU_POOL --cluster="
                    f"{v.or_placeholder(v.ctx_get(ctx, 'cluster'), 'cluster')} --location="
                    f"{v.or_placeholder(v.region_of(zone), 'region')} --node-locations=ZONE_1,ZONE_2"
                ),
            ),
            Fix(title="Read Google's advice on resource availability", url=STOCKOUT_DOC),
        ),
    )


_NOT_IN_ZONE = (
    rf"accelerator(?:s| type)? ['\"]?(?P<gpu>{v.GPU})['\"]? (?:does not exist|was not found|is not"
    r" (?:available|found|supported)|not found|not available|is unavailable) in (?:the )?zone"
    rf" ['\"]?(?:projects/[\w-]+/zones/)?(?P<zone>{v.ZONE})"
)


@rule("accelerator-not-in-zone", priority=68)
def not_in_zone(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A GPU type asked for in a zone that never had it; the fix is a different zone, not a retry."""
    m = p.search(_NOT_IN_ZONE)
    gpu = v.group(m, "gpu")
    zone = v.group(m, "zone")
    if m is None:
        m = p.search(
            rf"zones/(?P<zone>{v.ZONE})/acceleratorTypes/(?P<gpu>[\w-]+)'? (?:was not found|not found)"
        )
        if m is None:
            return None
        gpu, zone = m.group("gpu"), m.group("zone")
    gpu = (gpu or "").lower() or None
    project, _ = v.project(p, ctx)
    return Diagnosis(
        cause="accelerator-not-in-zone",
        title=f"{v.shown(gpu, 'This GPU type')} is not offered in zone {v.shown(zone, 'this zone')}",
        explanation=(
            f"Google Cloud has no {v.shown(gpu, 'GPUs of this type')} in zone {v.shown(zone, 'this zone')}: "
            "each GPU model exists only in some zones, and this zone is not one of them, so retrying will "
            "not help. Pick a zone from the list below (in the same region if you can) and use it for the "
            "GPU node pool's --node-locations."
        ),
        facts=v.facts(gpu=gpu, zone=zone, region=v.region_of(zone), project=project),
        fixes=(list_zones_fix(gpu, project),),
    )


_INCOMPATIBLE = (
    r"cannot use default machine type \((?P<machine>[\w-]+)\) with gpus",
    rf"\[(?P<machine>[a-z0-9]{{1,20}}-[\w-]{{1,40}}), (?P<gpu>{v.GPU})\] features are not compatible",
    r"accelerators? (?:are|is) not supported (?:for|on|with|by) (?:the )?machine type ['\"]?(?P<machine>[\w-]+)",
    r"machine type ['\"]?(?P<machine>[a-z0-9]+-[\w-]+)['\"]? (?:does not support|is not compatible with)"
    r" (?:gpus|accelerators?|guest accelerators)",
    rf"(?P<gpu>{v.GPU})['\"]? (?:is not compatible with|cannot be (?:used|attached) (?:with|to))"
    r" machine type ['\"]?(?P<machine>[\w-]+)",
)


@rule("machine-type-incompatible", priority=67)
def machine_type(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """GPUs attach only to some machine families; name the family that fits the user's GPU."""
    m = None
    for pattern in _INCOMPATIBLE:
        m = p.search(pattern)
        if m is not None:
            break
    if m is None:
        return None
    machine = v.group(m, "machine")
    gpu = (v.group(m, "gpu") or "").lower() or v.gpu(p, ctx)
    fit = machine_for(gpu)
    project, _ = v.project(p, ctx)
    zone = v.zone(p, ctx)
    accel = f"type={v.or_placeholder(gpu, 'gpu')},count=1,gpu-driver-version=default"
    return Diagnosis(
        cause="machine-type-incompatible",
        title=f"Machine type {v.shown(machine, 'chosen')} cannot carry a GPU",
        explanation=(
            f"Google Cloud refused because {v.shown(machine, 'this machine type')} cannot take "
            f"{v.shown(gpu, 'a GPU')}: GPUs attach only to matching machine families (T4, P4, V100 and P100 "
            "to N1; L4 to G2; A100 to A2; H100 to A3), and E2 machines, the default, take none. Use "
            f"{fit} (or a bigger machine of that family) for the GPU node pool."
        ),
        facts=v.facts(machine_type=machine, gpu=gpu, suggested_machine_type=fit, project=project, zone=zone),
        fixes=(
            Fix(
                title=f"Create the GPU node pool on {fit}",
                command=(
                    f"gcloud container node-pools create gpu-pool --cluster="
                    f"{v.or_placeholder(v.ctx_get(ctx, 'cluster'), 'cluster')} --location="
                    f"{v.or_placeholder(v.region_of(zone) or v.ctx_get(ctx, 'region'), 'region')}"
                    f" --machine-type={fit} --accelerator={accel} --enable-autoscaling --min-nodes=0"
                    f" --max-nodes=2 --project={q(v.or_placeholder(project, 'project'))}"
                ),
            ),
            Fix(
                title="Which GPUs go with which machine types",
                url="https://cloud.google.com/compute/docs/gpus",
            ),
        ),
    )
