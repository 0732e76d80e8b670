"""What the cluster autoscaler says about a Pending pod: a node is coming, or why none can come."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_KINDS = {
    "pending": r"\bpod triggered scale-up\b|\bTriggeredScaleUp\b",
    "max": r"\bmax node group size reached\b|\bmax cluster (?:cpu|memory|cpu, memory) limit reached\b"
    r"|\bskipping node group \S+ - max size reached\b",
    "quota": r"\bGCE quota exceeded\b|\bscale.?up\b[^.]{0,200}?\b(?:quota_exceeded|quota exceeded)\b",
    "stockout": r"\bGCE out of resources\b|\bscale.?up\b[^.]{0,200}?\b(?:out of resources|stockout)\b",
    "backoff": r"\bin backoff after failed scale-up\b",
    "nofit": r"\bpod didn't trigger scale-up\b(?![^.]{0,400}?(?:max node group size|in backoff|max cluster))",
}


@dataclass(frozen=True)
class Verdict:
    """The autoscaler's latest word on the pod, and where in the text it said so."""

    kind: str
    match: re.Match[str]


_last: list[tuple[Problem, Verdict | None]] = [(Problem(raw="", lines=(), flat=""), None)]


def verdict(p: Problem) -> Verdict | None:
    """The newest autoscaler message wins; remembered for the last text, since six rules ask in a row."""
    seen, said = _last[0]  # one read of an immutable pair: safe when worker threads diagnose at once
    if seen is p:
        return said
    found = _verdict(p)
    _last[0] = (p, found)
    return found


def _verdict(p: Problem) -> Verdict | None:
    """Scan for every autoscaler message kind; a backoff is blamed on the failure that caused it."""
    found: list[Verdict] = []
    for kind, pattern in _KINDS.items():
        m = p.last(pattern)
        if m is not None:
            found.append(Verdict(kind, m))
    if not found:
        return None
    latest = max(found, key=lambda f: f.match.start())
    if latest.kind == "backoff":
        for cause in ("quota", "stockout"):
            earlier = next((f for f in found if f.kind == cause), None)
            if earlier is not None:
                return earlier
    return latest


def _pod(p: Problem, ctx: v.Context) -> tuple[str | None, str | None]:
    """(pod, namespace) from the text's prefixes or the caller."""
    pod = v.ctx_get(ctx, "pod") or (str(p.values["pod"]) if "pod" in p.values else None)
    return pod, v.ctx_get(ctx, "namespace")


def _scale_zones(p: Problem, ctx: v.Context) -> list[str]:
    """Zones the failed scale-up names (GKE lists them), else the caller's zone."""
    m = p.last(r"scale up in zones? (?P<zones>[a-z0-9, -]+?) associated")
    named = v.zones(p) if m is None else re.findall(v.ZONE, m.group("zones"))
    zone = v.ctx_get(ctx, "zone")
    return named or ([zone] if zone else [])


@rule("scale-up-pending", priority=88)
def scale_up_pending(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The autoscaler is adding a node: the right advice is to wait, not to change anything."""
    found = verdict(p)
    if found is None or found.kind != "pending":
        return None
    pod, namespace = _pod(p, ctx)
    m = p.last(r"\{(?P<group>\S{1,400}) (?P<old>\d{1,5})->(?P<new>\d{1,5}) \(max: (?P<max>\d{1,5})\)\}")
    group = v.group(m, "group")
    group_name = group.rsplit("/", 1)[-1] if group else None
    zone = v.group(p.search(rf"zones/({v.ZONE})/instanceGroups")) or v.ctx_get(ctx, "zone")
    size = f" (from {m.group('old')} to {m.group('new')} nodes, at most {m.group('max')})" if m else ""
    return Diagnosis(
        cause="scale-up-pending",
        title="A new node is on its way: wait a few minutes",
        explanation=(
            f"No node had room for {('pod ' + pod) if pod else 'the pod'}, so the cluster autoscaler is adding "
            f"one{' in node group ' + group_name if group_name else ''}{size}. A GPU node usually takes 3 to 8 "
            "minutes to boot and install its driver; the pod starts by itself once it is ready. Nothing to fix: "
            "kftui keeps watching and will say so if the scale-up fails."
        ),
        facts=v.facts(
            pod=pod,
            namespace=namespace,
            node_group=group_name,
            zone=zone,
            nodes_from=int(m.group("old")) if m else None,
            nodes_to=int(m.group("new")) if m else None,
            max_nodes=int(m.group("max")) if m else None,
        ),
        fixes=(
            Fix(title="Watch the new node join", command="kubectl get nodes -L cloud.google.com/gke-accelerator -w"),
        ),
    )


@rule("scale-up-max-size", priority=87)
def scale_up_max_size(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The pool that could host the pod is full; raise its maximum or free a GPU."""
    found = verdict(p)
    if found is None or found.kind != "max":
        return None
    pod, namespace = _pod(p, ctx)
    cluster_limit = "max cluster" in found.match.group(0).lower()
    cluster = v.ctx_get(ctx, "cluster")
    pool = v.ctx_get(ctx, "node_pool") or v.ctx_get(ctx, "pool")
    location = v.ctx_get(ctx, "location") or v.ctx_get(ctx, "region") or v.region_of(v.ctx_get(ctx, "zone"))
    what = "the cluster's autoprovisioning limits" if cluster_limit else "its maximum size"
    return Diagnosis(
        cause="scale-up-max-size",
        title="The GPU node pool is at its maximum size",
        explanation=(
            f"{('Pod ' + pod) if pod else 'The pod'} needs a node with a free GPU; the autoscaler would add one, "
            f"but the node pool has reached {what}, so it will not. Every GPU node is busy, often with notebooks "
            "nobody uses any more. Stop an idle GPU notebook, or raise the pool's --max-nodes (each GPU node also "
            "needs GPU quota)."
        ),
        facts=v.facts(pod=pod, namespace=namespace, cluster=cluster, node_pool=pool,
                      limit="cluster" if cluster_limit else "node-pool"),
        fixes=(
            Fix(
                title="Raise the node pool's maximum",
                command=(
                    f"gcloud container node-pools update {v.or_placeholder(pool, 'GPU_POOL')}"
                    f" --cluster={v.or_placeholder(cluster, 'cluster')}"
                    f" --location={v.or_placeholder(location, 'region')}"
                    " --enable-autoscaling --min-nodes=0 --max-nodes=MAX_NODES"
                ),
            ),
            Fix(
                title="See which pods hold the GPUs",
                command=(
                    "kubectl get pods -A -o custom-columns="
                    "NAMESPACE:.metadata.namespace,POD:.metadata.name,NODE:.spec.nodeName,"
                    "GPUS:.spec.containers[*].resources.limits.nvidia\\.com/gpu"
                ),
            ),
        ),
    )


@rule("scale-up-quota", priority=86)
def scale_up_quota(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The autoscaler tried, and Compute Engine refused for quota: the notebook spins forever."""
    found = verdict(p)
    if found is None or found.kind != "quota":
        return None
    pod, namespace = _pod(p, ctx)
    zones = _scale_zones(p, ctx)
    region = v.region_of(zones[0]) if zones else v.ctx_get(ctx, "region")
    project, _ = v.project(p, ctx)
    gpu = v.gpu(p, ctx)
    proj = v.or_placeholder(project, "project")
    where = f" in {', '.join(zones)}" if zones else ""
    return Diagnosis(
        cause="scale-up-quota",
        title=f"The autoscaler cannot add a GPU node: quota exceeded{where}",
        explanation=(
            f"{('Pod ' + pod) if pod else 'The pod'} needs a GPU node, and the autoscaler tried to add one{where}, "
            "but Compute Engine refused because a project quota is used up: usually GPUS_ALL_REGIONS, which is 0 "
            f"in new projects, or the {v.shown(gpu, 'GPU type')} quota in {v.shown(region, 'the region')}. The pod "
            "stays Pending (the notebook spins) until the quota is raised; request it, and the next scale-up "
            "attempt succeeds on its own."
        ),
        facts=v.facts(pod=pod, namespace=namespace, zone=zones[0] if zones else None, region=region,
                      project=project, gpu=gpu),
        fixes=(
            Fix(
                title="Let kftui request one GPU of quota",
                command=(
                    f"kftui quota request --project {q(proj)} --gpu {q(v.or_placeholder(gpu, 'gpu'))}"
                    f" --region {q(v.or_placeholder(region, 'region'))} --count 1"
                    f" --email {q(v.or_placeholder(v.ctx_get(ctx, 'email'), 'email'))}"
                ),
                action="quota.request",
            ),
            Fix(
                title="See the project's GPU quotas",
                command=(
                    f"gcloud compute project-info describe --project={q(proj)} --flatten=quotas"
                    ' --filter="quotas.metric~GPUS" --format="table(quotas.metric,quotas.limit,quotas.usage)"'
                ),
            ),
            Fix(title="Or open the Quotas page", url=console("iam-admin/quotas", project)),
        ),
    )


@rule("gpu-stockout", priority=85)
def scale_up_stockout(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The autoscaler's version of a stockout: the zone has no spare GPUs right now."""
    found = verdict(p)
    if found is None or found.kind != "stockout":
        return None
    pod, namespace = _pod(p, ctx)
    zones = _scale_zones(p, ctx)
    gpu = v.gpu(p, ctx)
    where = ", ".join(zones) if zones else "the node pool's zones"
    return Diagnosis(
        cause="gpu-stockout",
        title=f"No spare {v.shown(gpu, 'GPUs')} in {where} right now",
        explanation=(
            f"The autoscaler tried to add a GPU node for {('pod ' + pod) if pod else 'the pod'} in {where}, but "
            "Google has none left there at the moment (a stockout); quota and billing are fine. It retries by "
            "itself with a growing pause. Adding zones that offer the GPU to the pool's --node-locations gives "
            "it somewhere else to try."
        ),
        facts=v.facts(pod=pod, namespace=namespace, zone=zones[0] if zones else None, gpu=gpu),
        fixes=(
            Fix(
                title="List the zones that offer the GPU",
                command=f'gcloud compute accelerator-types list --filter="name={v.or_placeholder(gpu, "gpu")}"',
            ),
        ),
    )


@rule("scale-up-backoff", priority=84)
def scale_up_backoff(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The autoscaler is pausing after a failed scale-up whose reason is not in the text."""
    found = verdict(p)
    if found is None or found.kind != "backoff":
        return None
    pod, namespace = _pod(p, ctx)
    return Diagnosis(
        cause="scale-up-backoff",
        title="The autoscaler is waiting after a failed scale-up",
        explanation=(
            f"An earlier attempt to add a node for {('pod ' + pod) if pod else 'the pod'} failed, so the "
            "autoscaler is backing off before it tries again. The first failure says why (quota, stockout, or "
            "a bad node configuration); it is in the cluster's events or in Cloud Logging."
        ),
        facts=v.facts(pod=pod, namespace=namespace),
        fixes=(
            Fix(
                title="Find the failed scale-up",
                command="kubectl get events -A --field-selector reason=FailedScaleUp --sort-by=.lastTimestamp",
            ),
        ),
    )
