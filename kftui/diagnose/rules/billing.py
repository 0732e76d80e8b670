"""Billing refusals: a trial account that may not use GPUs, or no live billing account at all."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import CONSOLE, billing_link, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule


@rule("billing-free-tier", priority=75)
def free_tier(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The $300 trial forbids GPUs outright, whatever the quota says; only an upgrade helps."""
    if not (
        p.search(r"free (?:tier|trial)\b.{0,80}\b(?:accelerators?|gpus?)\b.{0,40}\bnot (?:available|allowed)")
        or p.search(
            r"\b(?:accelerators?|gpus?)\b.{0,60}\bnot (?:available|allowed|supported)\b.{0,40}free (?:tier|trial)"
        )
    ):
        return None
    project, _ = v.project(p, ctx)
    proj = v.or_placeholder(project, "project")
    return Diagnosis(
        cause="billing-free-tier",
        title="Free Trial billing accounts cannot use GPUs",
        explanation=(
            f"Google Cloud refused the GPU because the billing account of {v.project_words(project)} "
            "is still a Free Trial account, and trial accounts may not use GPUs (non-TPU accelerators) at all. "
            "This is not a quota, so a quota request will not help. Upgrade the billing account to a paid "
            "account in the Console: the remaining trial credit stays and is spent first; then request the "
            "GPU quota, which starts at 0."
        ),
        facts=v.facts(project=project),
        fixes=(
            Fix(
                title="Upgrade the billing account (Billing > Overview > Upgrade)",
                url=f"{CONSOLE}/billing?project={proj}",
            ),
            Fix(
                title="See which billing account the project uses",
                command=f"gcloud billing projects describe {q(proj)}",
            ),
        ),
    )


_DISABLED = (
    r"requires billing to be enabled",
    r"billing account for (?:the )?project '?[\w-]+'? is not found",
    r"billing must be enabled",
    r"\bin an? inactive billing state\b",
    r"billing account for the owning project is disabled",
    r"\bbilling (?:is|has been) (?:disabled|not enabled)\b",
    r"\bbilling account [\w-]* ?is (?:closed|disabled|not open)\b",
    r"\bproject [\w-]+ has no billing account\b",
    r"\bhas billing disabled\b",
    r"\bproject to be billed (?:has not configured billing|is associated with an absent billing account)\b",
    r"\bbilling account for the owning project is disabled in state\b",
    r"\bbilling is not enabled for project\b",
)


@rule("billing-disabled", priority=74)
def billing_disabled(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """No open billing account on the project: everything that costs money is refused."""
    if not (
        p.has_reason("BILLING_DISABLED", "UREQ_PROJECT_BILLING_NOT_FOUND", "ACCOUNTDISABLED")
        or any(p.search(pattern) for pattern in _DISABLED)
    ):
        return None
    project, number = v.project(p, ctx)
    if project is None:
        project = (
            v.group(p.search(r"billing account for (?:the )?project '?([\w-]+)'? is not found"))
            or v.group(p.search(r"\bproject ([\w-]+) cannot accept requests"))
            or v.group(p.search(r"\bproject ([a-z][a-z0-9-]{4,28}[a-z0-9]) \(#\d+\) has billing disabled"))
        )
    service = p.metadata.get("service") or v.group(p.search(r"activation of service\(s\) '([\w.,-]+)'"))
    proj = v.project_words(project)
    return Diagnosis(
        cause="billing-disabled",
        title=f"Billing is not enabled on {proj}",
        explanation=(
            f"Google Cloud refused the request because {proj} has no active billing account (never "
            "linked, or the account was closed or suspended). Anything that costs money, including Compute "
            "Engine, GKE and turning on their APIs, needs one. Link an open billing account to the project; "
            "it takes effect within a few minutes."
        ),
        facts=v.facts(project=project, project_number=number, service=service),
        fixes=(
            billing_link(project),
            Fix(title="List the billing accounts you can use", command="gcloud billing accounts list"),
        ),
    )
