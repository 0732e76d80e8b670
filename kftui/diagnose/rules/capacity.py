"""Hardware that is not there: stockouts, GPU types a zone lacks, machine types that take no GPU."""

from __future__ import annotations

import re

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


def _available_zones(p: Problem) -> list[str]:
    """Zones the error itself says have capacity (Compute's zonesAvailable, or its 'consider trying' sentence)."""
    listed = v.group(p.search(r"\bzonesAvailable:? ['\"]?([a-z0-9,-]+(?:, ?[a-z0-9-]+)*)"))
    if listed is None:
        listed = v.group(p.search(r"consider trying your request in the ([a-z0-9, -]+?) zone\(s\)"))
    if not listed:
        return []
    return [z for z in (part.strip() for part in listed.split(",")) if re.fullmatch(v.ZONE, z)]


@rule("gpu-stockout", priority=70)
def stockout(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google is out of this hardware in the zone: not the user's fault, and not a quota."""
    if not (
        p.has("ZONE_RESOURCE_POOL_EXHAUSTED", "GCE_STOCKOUT", "does not have enough resources available")
        or p.has_reason("ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
        or p.search(r"\bresource pool exhausted\b|\bstockout\b")
    ):
        return None
    zone = v.group(p.search(rf"\bzone:? ['\"]?({v.ZONE_RE})")) or v.group(
        p.search(rf"unavailable in the ({v.ZONE_RE}) zone")
    ) or v.zone(p, ctx)
    project, _ = v.project(p, ctx)
    machine = v.group(p.search(r"\bvmType:? ['\"]?([a-z0-9]+-[\w-]+)")) or v.group(
        p.search(r"\ban? ([a-z][a-z0-9]*-[a-z0-9-]+) VM instance\b")
    )
    gpu = v.group(p.search(rf"\battachment:? ['\"]?({v.GPU})")) or v.gpu(p, ctx)
    described = bool(machine) or p.search(r"\battachment:") is not None
    hardware = "gpu" if gpu else ("cpu" if described else None)
    available = [z for z in _available_zones(p) if z != zone]
    where = f"zone {zone}" if zone else "this zone"
    what = gpu or (f"{machine} machines" if machine else "the requested machine")
    cluster = v.or_placeholder(v.ctx_get(ctx, "cluster"), "cluster")
    locations = ",".join(available) if available else "ZONE_1,ZONE_2"
    if hardware == "cpu":
        advice = (
            f"Retry later, use another zone, or another machine type of the same size (for example an N2 or N2D "
            f"instead of {machine or 'this one'}); no GPU is involved."
        )
    else:
        advice = (
            "Retry later, or use another zone that offers the GPU; for a GKE node pool, list two or three such "
            "zones in --node-locations so the autoscaler can fall back."
        )
    if available:
        advice = f"Google itself names {', '.join(available)} as having capacity now. " + advice
    fixes: list[Fix] = []
    if hardware != "cpu":
        fixes.append(list_zones_fix(gpu, project))
    fixes.append(
        Fix(
            title=f"Let the node pool use {'the zones with capacity' if available else 'several zones'}",
            command=(
                f"gcloud container node-pools update {'GPU_POOL' if hardware != 'cpu' else 'POOL'} --cluster={cluster}"
                f" --location={v.or_placeholder(v.region_of(zone), 'region')} --node-locations={locations}"
            ),
        )
    )
    fixes.append(Fix(title="Read Google's advice on resource availability", url=STOCKOUT_DOC))
    return Diagnosis(
        cause="gpu-stockout",
        title=f"{where[0].upper() + where[1:]} has run out of {what} right now",
        explanation=(
            f"Google Cloud could not create the machine because {where} has no free {what} at the moment "
            "(a stockout). Your project, quota and billing are fine: this is Google's spare capacity, and it "
            f"changes by the hour. {advice}"
        ),
        facts=v.facts(
            zone=zone, region=v.region_of(zone), project=project, gpu=gpu, machine_type=machine, hardware=hardware,
            zones_available=",".join(available) if available else None,
        ),
        fixes=tuple(fixes),
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
    r"the accelerator count \"\d+\" is not allowed\. the allowed numbers of accelerator \"(?P<accel>\w+)\" to use"
    r" with machine type \"(?P<machine>[\w-]+)\" are",
    r"cannot use default machine type \((?P<machine>[\w-]+)\) with gpus",
    rf"\[(?P<machine>[a-z0-9]{{1,20}}-[\w-]{{1,40}}), (?P<gpu>{v.GPU})\] features are not compatible",
    rf"\[(?P<gpu>{v.GPU}), (?P<machine>[a-z0-9]{{1,20}}-[\w-]{{1,40}})\] features are not compatible",
    rf"\[(?P<gpu>{v.GPU})\] features are not compatible",
    r"accelerators? (?:are|is) not supported (?:for|on|with|by) (?:the )?machine type ['\"]?(?P<machine>[\w-]+)",
    r"machine type ['\"]?(?P<machine>[a-z0-9]+-[\w-]+)['\"]? (?:does not support|is not compatible with)"
    r" (?:gpus|accelerators?|guest accelerators)",
    rf"(?P<gpu>{v.GPU})['\"]? (?:is not compatible with|cannot be (?:used|attached) (?:with|to))"
    r" machine type ['\"]?(?P<machine>[\w-]+)",
)


def _count_not_allowed(p: Problem, machine: str | None, accel: str, project: str | None) -> Diagnosis:
    """Vertex AI: the machine takes this accelerator, but not that many of them."""
    allowed = v.group(p.search(r"use with machine type \"[\w-]+\" are: \[([\d, ]+)\]"))
    asked = v.group(p.search(r"the accelerator count \"(\d+)\" is not allowed"))
    return Diagnosis(
        cause="machine-type-incompatible",
        title=f"{v.shown(machine, 'This machine type')} cannot take {asked or 'that many'} {accel}",
        explanation=(
            f"Google Cloud refused because machine type {v.shown(machine, 'chosen')} takes only "
            f"{allowed or 'a fixed number of'} {accel} accelerator(s), and the request asked for "
            f"{asked or 'another number'}. Each GPU machine type comes with a fixed GPU count. Ask for an "
            "allowed count, or choose the larger machine type of the same family that carries the number you "
            "need (for L4, g2-standard-48 has 4 and g2-standard-96 has 8)."
        ),
        facts=v.facts(machine_type=machine, accelerator=accel, allowed_counts=allowed, requested=asked,
                      project=project),
        fixes=(Fix(title="Which machine types carry how many GPUs", url="https://cloud.google.com/compute/docs/gpus"),),
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
    project, _ = v.project(p, ctx)
    if v.group(m, "accel"):
        return _count_not_allowed(p, machine, m.group("accel"), project)
    gpu = (v.group(m, "gpu") or "").lower() or v.gpu(p, ctx)
    fit = machine_for(gpu)
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
