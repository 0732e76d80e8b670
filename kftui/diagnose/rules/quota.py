"""Quota refusals: the 'Limit: 0.0 globally' that every new project meets on its first GPU."""

from __future__ import annotations

import math

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import CONSOLE, console, q, quota_fixes
from kftui.diagnose.normalize import METRIC_ID, METRIC_NAME, QUOTA_ID, Problem
from kftui.diagnose.registry import rule

# 'Quota 'X' exceeded. Limit: 0.0 globally.' and the loose retellings people paste (blog: 'Quota gpus
# all regions exceeded limit 0.0').
_COMPUTE = (
    r"\bquota '?(?P<metric>[a-z0-9_ ]{2,60}?)'? exceeded\b[.,:]? ?(?:limit:? ?(?P<limit>\d+(?:\.\d+)?))?"
    rf"(?: (?P<global>globally)| in region (?P<region>{v.REGION_RE}))?"
)
# GKE: 'Insufficient regional quota to satisfy request: resource "NVIDIA_T4_GPUS": request requires
# '1.0' and is short '1.0'. project has a quota of '0.0' with '0.0' available.'
_GKE = (
    r"insufficient (?P<scope>regional |global |project )?quota to satisfy request(?: for resource)?:"
    rf" (?:resource )?\"(?P<metric>{METRIC_ID})\"[.:]? (?:the )?request requires '(?P<requires>[\d.]+)' and is short"
    r" '(?P<short>[\d.]+)'\.? (?:project has a quota of|the (?:regional|global|project) quota is) '(?P<limit>[\d.]+)'"
)
# Dataproc: "Insufficient 'N2_CPUS' quota. Requested 12.0, available 0.0."
_DATAPROC = (
    rf"insufficient '(?P<metric>{METRIC_ID})' quota\. requested (?P<requires>[\d.]+), available (?P<limit>[\d.]+)"
)
# Vertex AI and TPU: "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_..."
_VERTEX = (
    r"following quota metrics exceed quota limits: "
    r"(?P<metric>(?P<service>[a-z0-9-]{1,63}\.googleapis\.com)/\w{1,100})\b"
)
_RATE = r"(?:per minute|per 100 seconds|per second|per day|rate ?limit|_per_minute|_per_second)"


@rule("quota-exceeded", priority=60)
def quota_exceeded(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Quota refusals, with the quota id to request and the value that unblocks the user."""
    vertex = p.search(_VERTEX)
    if vertex is not None:
        return _service_quota(p, ctx, vertex.group("metric"), vertex.group("service"))
    gke = p.search(_GKE) or p.search(_DATAPROC)
    m = gke or p.search(_COMPUTE)
    if m is None and not p.has_reason("QUOTAEXCEEDED", "QUOTA_EXCEEDED"):
        return None
    if m is not None and gke is None and "'" not in m.group(0) and v.group(m, "limit") is None:
        return None
    if p.search(_RATE) or (m is None and "metric_name" not in p.values and "quota_id" not in p.values):
        return None
    metric = (v.group(m, "metric") or "").strip().upper().replace(" ", "_") or None
    metric_name = v.group(p.search(rf"metric name = ({METRIC_NAME})(?![\w/])")) or p.values.get("metric_name")
    if metric is None and isinstance(metric_name, str):
        metric = metric_name.rsplit("/", 1)[-1].upper()
    if metric is None:
        return None
    limit = v.number(v.group(m, "limit"))
    if limit is None and isinstance(p.values.get("limit"), float):
        limit = float(p.values["limit"])
    quota_id = v.group(p.search(rf"limit name = ({QUOTA_ID})(?![\w-])")) or p.values.get("quota_id")
    scope_word = (v.group(m, "scope") or "").strip()
    regional = bool(
        v.group(m, "region")
        or scope_word == "regional"
        or (isinstance(quota_id, str) and quota_id.endswith("-region"))
        or p.values.get("region")
    )
    if v.group(m, "global") or metric == "GPUS_ALL_REGIONS" or scope_word == "global":
        regional = False
    zone = v.zone(p, ctx)
    json_region = p.values.get("region")
    region = (
        (v.group(m, "region") or (json_region if isinstance(json_region, str) else None) or v.region(p, ctx, zone))
        if regional
        else None
    )
    region_for_request = region or v.region(p, ctx, zone)
    if not isinstance(quota_id, str):
        quota_id = v.quota_id_for(metric, regional)
    project, number = v.project(p, ctx)
    gpu = v.gpu_from_metric(metric) or v.gpu(p, ctx)
    short = v.number(v.group(gke, "short"))
    if short is None and gke is not None and v.group(gke, "requires"):
        short = max(0.0, (v.number(v.group(gke, "requires")) or 0.0) - (v.number(v.group(gke, "limit")) or 0.0))
    base = limit or 0.0
    if short is not None:
        wanted = math.ceil(base + short)
    elif v.is_gpu_metric(metric):
        wanted = int(base) + 1
    else:
        wanted = max(int(base) * 2, 8)
    where = f"in region {region}" if regional and region else ("in this region" if regional else "globally")
    limit_words = f"{base:g}" if limit is not None else "its limit"
    proj_words = v.project_words(project)
    if metric == "GPUS_ALL_REGIONS":
        title = f"No GPU quota: GPUS_ALL_REGIONS is {limit_words} in {proj_words}"
        explanation = (
            f"Google Cloud refused to start a GPU machine because {proj_words} may use "
            f"{limit_words} GPUs in total (quota GPUS_ALL_REGIONS, global). New projects start with no GPUs "
            "at all, and this project-wide cap applies on top of each region's own GPU quota; Spot VMs count "
            f"too. Ask for GPUS_ALL_REGIONS = {wanted} (quota id {quota_id}): small first requests from a "
            "billed account are usually approved within minutes to a few days; the regional quota for your GPU "
            f"type{' in ' + region_for_request if region_for_request else ''} must allow it as well."
        )
    elif v.is_gpu_metric(metric):
        title = f"GPU quota {metric} is {limit_words} {where}"
        explanation = (
            f"Google Cloud refused the GPUs because {proj_words} may use {limit_words} {metric} "
            f"{where}, and this request needs more. GPU quotas are counted per GPU type and region, and the "
            "project-wide GPUS_ALL_REGIONS must allow the total too. "
            f"Ask for {metric} = {wanted} (quota id {quota_id}), or use a region where you already have it."
        )
    else:
        title = f"Quota {metric} exceeded ({limit_words} {where})"
        explanation = (
            f"{v.project_words(project, capital=True)} has reached its {metric} quota ({limit_words} {where}), "
            "so Google Cloud refused to create more. Either free what you no longer use (stopped VMs, idle node pools, "
            f"disks, addresses) or ask for a higher limit (quota id {quota_id}); the commands ask for {wanted}, "
            "change --preferred-value to what you need."
        )
    fixes = quota_fixes(
        project=project,
        metric=metric,
        quota_id=quota_id,
        region=region_for_request,
        regional=regional,
        gpu=gpu,
        wanted=wanted,
        email=v.ctx_get(ctx, "email") or v.ctx_get(ctx, "account"),
    )
    return Diagnosis(
        cause="quota-exceeded",
        title=title,
        explanation=explanation,
        facts=v.facts(
            metric=metric,
            metric_name=metric_name if isinstance(metric_name, str) else None,
            quota_id=quota_id,
            limit=limit,
            scope="regional" if regional else "global",
            region=region,
            zone=zone,
            project=project,
            project_number=number,
            gpu=gpu if v.is_gpu_metric(metric) else None,
            requested=v.number(v.group(gke, "requires")),
            short=short,
            suggested=wanted,
        ),
        fixes=fixes,
    )


@rule("rate-limited", priority=58)
def rate_limited(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Per-minute request quotas: nothing to request, just slow down and retry."""
    m = p.search(r"quota exceeded for quota metric '(?P<metric>[^']+)' and limit '(?P<limit>[^']+)'")
    if m is None and not (p.has_reason("RATE_LIMIT_EXCEEDED", "RATELIMITEXCEEDED") or p.search(_RATE)):
        return None
    if m is None and not p.has("quota", "rate limit", "too many requests"):
        return None
    service = v.group(p.search(r"of service '([\w.-]+)'")) or p.metadata.get("service")
    project, number = v.project(p, ctx)
    metric = v.group(m, "metric")
    limit = v.group(m, "limit")
    return Diagnosis(
        cause="rate-limited",
        title=f"Too many requests{' to ' + service if service else ''}: a per-minute limit was hit",
        explanation=(
            f"Google Cloud throttled calls{' to ' + service if service else ''} from "
            f"{v.project_words(project)} (limit: {limit or 'requests per minute'}). This is a rate limit, not a "
            "resource quota: nothing was refused for good. Wait a minute and run the same command again."
        ),
        facts=v.facts(metric=metric, limit_name=limit, service=service, project=project, project_number=number),
        fixes=(
            Fix(
                title="Wait a minute and run the same command again; if it keeps happening, see the API's quotas",
                url=console("iam-admin/quotas", project) + (f"&service={service}" if service else ""),
            ),
            Fix(title="How Google's request-rate quotas work", url="https://cloud.google.com/docs/quotas/overview"),
        ),
    )


def _service_quota(p: Problem, ctx: v.Context, metric_name: str, service: str) -> Diagnosis:
    """Vertex AI (and TPU) quotas are per service and region; they are found and raised in Cloud Quotas."""
    project, number = v.project(p, ctx)
    region = v.region(p, ctx)
    short_name = metric_name.rsplit("/", 1)[-1]
    proj = v.or_placeholder(project, "project")
    where = f" in {region}" if region else ""
    return Diagnosis(
        cause="quota-exceeded",
        title=f"{service} quota {short_name} is used up{where}",
        explanation=(
            f"Google Cloud refused the job because {v.project_words(project)} has no {short_name} quota left"
            f"{where} (service {service}). These quotas are separate from Compute Engine's GPU quotas and start "
            "at 0 or a few units for new projects. Find the quota in Cloud Quotas (filter by the metric), request "
            "more, or pick an accelerator type or region where you already have quota."
        ),
        facts=v.facts(
            metric_name=metric_name, metric=short_name, service=service, region=region, project=project,
            project_number=number,
        ),
        fixes=(
            Fix(
                title=f"List {service} quotas and their ids",
                command=f"gcloud beta quotas info list --service={service} --project={q(proj)}",
            ),
            Fix(
                title="Or open the quota in the Console and request more",
                url=f"{CONSOLE}/iam-admin/quotas?project={proj}&service={service}&metric={metric_name}",
            ),
        ),
    )
