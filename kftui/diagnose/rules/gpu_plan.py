"""What the GPU planner meets before any error: unreadable quotas, no global cap, requests Google refuses."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

QUOTAS_DOC = "https://cloud.google.com/docs/quotas/view-manage"
GPU_QUOTA_DOC = "https://cloud.google.com/compute/resource-usage#gpu_quota"

_UNREADABLE = (
    r"quota (?:information|info|data) for region '?(?P<region>[a-z]+-[a-z]+\d{1,2})'? is (?:temporarily )?"
    r"(?:unavailable|not available)",
    r"quota_?status_?warning\b.{0,200}?(?P<region>\b[a-z]+-[a-z]+\d{1,2}\b)?",
    r"could not read the quotas of (?P<region>[a-z]+-[a-z]+\d{1,2})",
)


@rule("quota-unreadable", priority=57)
def quota_unreadable(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """regions.get's quotaStatusWarning: compute could not read the quotas, which is not a zero."""
    m = next((found for pattern in _UNREADABLE if (found := p.search(pattern)) is not None), None)
    if m is None:
        return None
    region = v.group(m, "region") or v.region(p, ctx)
    project, _ = v.project(p, ctx)
    where = f"region {region}" if region else "this region"
    return Diagnosis(
        cause="quota-unreadable",
        title=f"Quotas of {where} could not be read right now",
        explanation=(
            f"Compute Engine answered without the quotas of {where} (a quota status warning). That is not a "
            "quota of zero: Google's quota service did not answer for that region this time. Check again in a "
            "few minutes, or read the values on the Console's Quotas page; plans in other regions are unaffected."
        ),
        facts=v.facts(region=region, project=project),
        fixes=(
            Fix(
                title=f"Read the quotas of {where} with gcloud",
                command=(
                    f"gcloud compute regions describe {q(v.or_placeholder(region, 'region'))}"
                    f" --project={q(v.or_placeholder(project, 'project'))} --format='yaml(quotas,quotaStatusWarning)'"
                ),
            ),
            Fix(title="Or open the Quotas page in the Console", url=console("iam-admin/quotas", project)),
        ),
    )


_NO_CAP = (
    r"\b(?:has|have|with) no '?GPUS_ALL_REGIONS'? quota\b",
    r"\bGPUS_ALL_REGIONS'? (?:quota )?(?:is )?(?:not listed|missing|absent|not present)\b",
    r"\bno global GPU (?:cap|quota)\b",
)


@rule("no-global-gpu-cap", priority=57)
def no_global_cap(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A project without GPUS_ALL_REGIONS: no project-wide cap, only the regional GPU quota counts."""
    if not any(p.search(pattern) for pattern in _NO_CAP):
        return None
    project, _ = v.project(p, ctx)
    gpu = v.gpu(p, ctx)
    region = v.region(p, ctx, v.zone(p, ctx))
    return Diagnosis(
        cause="no-global-gpu-cap",
        title=f"{v.project_words(project, capital=True)} has no project-wide GPU cap",
        explanation=(
            f"{v.project_words(project, capital=True)} lists no GPUS_ALL_REGIONS quota, so there is no "
            "project-wide limit on GPUs. Only the regional quota for the GPU type counts; nothing global needs "
            "to be requested. If a GPU machine is still refused, read the exact quota named in the error."
        ),
        facts=v.facts(project=project, gpu=gpu, region=region),
        fixes=(
            Fix(
                title="List the project's global quotas",
                command=(
                    f"gcloud compute project-info describe --project={q(v.or_placeholder(project, 'project'))}"
                    " --format='yaml(quotas)'"
                ),
            ),
            Fix(title="Read how GPU quotas work", url=GPU_QUOTA_DOC),
        ),
    )


_INELIGIBLE_WORDS = {
    "NO_VALID_BILLING_ACCOUNT": (
        "the project has no valid paid billing account. Free Trial accounts get no GPUs at all; upgrade the "
        "billing account (the remaining credit is kept) or link a paid one, then ask again"
    ),
    "NOT_ENOUGH_USAGE_HISTORY": (
        "the project has too little usage history for Google to grant more yet. Use the project for a while, "
        "or ask from an older project that already has some usage"
    ),
    "NOT_SUPPORTED": (
        "this quota cannot be raised through the Cloud Quotas API. Ask from the Console's Quotas page, or "
        "contact Google Cloud sales for it"
    ),
}


@rule("quota-increase-ineligible", priority=76)
def quota_increase_ineligible(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Cloud Quotas refuses to take a request at all (quota_increase_eligibility is false)."""
    m = p.search(
        r"not eligible (?:for|to request) (?:a |any )?quota increases?"
        r"(?:[:,.]? ?(?:reason:? ?)?(?P<reason>NO_VALID_BILLING_ACCOUNT|NOT_ENOUGH_USAGE_HISTORY|NOT_SUPPORTED|OTHER))?"
    )
    if m is None and not p.has_reason("QUOTA_INCREASE_INELIGIBLE"):
        return None
    reason = v.group(m, "reason") or p.metadata.get("ineligibilityReason")
    if reason is None:
        found = p.search(r"\b(NO_VALID_BILLING_ACCOUNT|NOT_ENOUGH_USAGE_HISTORY|NOT_SUPPORTED)\b")
        reason = found.group(1).upper() if found else None
    reason = reason.upper() if reason else None
    project, _ = v.project(p, ctx)
    why = _INELIGIBLE_WORDS.get(reason or "", "Google did not say why. The Console's Quotas page may tell more")
    fixes: list[Fix] = []
    if reason == "NO_VALID_BILLING_ACCOUNT":
        fixes.append(
            Fix(
                title="Upgrade or link a paid billing account",
                url=console("billing/linkedaccount", project),
            )
        )
    fixes.append(Fix(title="Open the Quotas page in the Console", url=console("iam-admin/quotas", project)))
    fixes.append(Fix(title="Read how quota increases are decided", url=QUOTAS_DOC))
    return Diagnosis(
        cause="quota-increase-ineligible",
        title=f"{v.project_words(project, capital=True)} may not ask for more quota yet",
        explanation=(
            f"Google will not take a quota increase request from {v.project_words(project)}: {why}. "
            "Nothing was filed, so there is nothing to wait for."
        ),
        facts=v.facts(project=project, reason=reason),
        fixes=tuple(fixes),
    )
