"""Fixes several families share, written once so every command and URL reads the same everywhere."""

from __future__ import annotations

import shlex

from kftui.core.diagnosis import Fix
from kftui.diagnose.values import or_placeholder

CONSOLE = "https://console.cloud.google.com"


def q(value: str) -> str:
    """Shell-quote a user value only when it needs it, so commands stay copyable and readable."""
    return shlex.quote(value)


def console(path: str, project: str | None) -> str:
    """A Console URL opened on the user's project."""
    return f"{CONSOLE}/{path}?project={or_placeholder(project, 'project')}"


def quota_fixes(
    *,
    project: str | None,
    metric: str | None,
    quota_id: str,
    region: str | None,
    regional: bool,
    gpu: str | None,
    wanted: int,
    email: str | None,
) -> tuple[Fix, ...]:
    """kftui's own request, the gcloud request and the Console page, in that order."""
    proj = or_placeholder(project, "project")
    fixes: list[Fix] = []
    if metric and "GPU" in metric.upper():
        # The project-wide GPU cap is not regional: kftui files it with --region global.
        request_region = q(or_placeholder(region, "region")) if regional else "global"
        fixes.append(
            Fix(
                title=f"Let kftui file the quota request ({wanted} GPU{'s' if wanted != 1 else ''})",
                command=(
                    f"kftui quota request --project {q(proj)} --gpu {q(or_placeholder(gpu, 'gpu'))}"
                    f" --region {request_region} --count {wanted}"
                    f" --email {q(or_placeholder(email, 'email'))}"
                ),
                action="quota.request",
            )
        )
    dims = f" --dimensions=region={q(or_placeholder(region, 'region'))}" if regional else ""
    fixes.append(
        Fix(
            title=f"Or request it with gcloud (quota {quota_id})",
            command=(
                "gcloud beta quotas preferences create --service=compute.googleapis.com"
                f" --quota-id={quota_id}{dims} --preferred-value={wanted} --project={q(proj)}"
                f" --email={q(or_placeholder(email, 'email'))}"
                " --justification='Kubeflow notebooks and pipelines that need a GPU'"
            ),
        )
    )
    fixes.append(Fix(title="Or open the Quotas page in the Console", url=console("iam-admin/quotas", project)))
    return tuple(fixes)


def enable_api(service: str, project: str | None) -> Fix:
    """The command that turns a Google API on."""
    return Fix(
        title=f"Enable {service}",
        command=f"gcloud services enable {service} --project={q(or_placeholder(project, 'project'))}",
        url=f"{CONSOLE}/apis/library/{service}?project={or_placeholder(project, 'project')}",
        action="services.enable",
    )


def billing_link(project: str | None) -> Fix:
    """Linking a billing account is a Console task for most people (the account id is not at hand)."""
    proj = or_placeholder(project, "project")
    return Fix(
        title="Link an active billing account to the project",
        command=f"gcloud billing projects link {q(proj)} --billing-account=BILLING_ACCOUNT_ID",
        url=f"{CONSOLE}/billing/linkedaccount?project={proj}",
    )
