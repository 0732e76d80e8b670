"""The billing step: a project without an open billing account can create nothing that costs money."""

from __future__ import annotations

from collections.abc import Iterator

from kftui.core.cloud import BillingInfo
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.steps.base import CONSOLE, Field, Progress, StepContext, error_finding, project_of, services_of

TRIAL_NOTE = (
    "Note: Free Trial billing accounts cannot use GPUs at all (not a quota: an upgrade to a paid account "
    "is the only way; the remaining credit is kept)."
)


def _link_fixes(project: str) -> tuple[Fix, ...]:
    """How to link a billing account: the Console page, or gcloud with the account's id."""
    return (
        Fix("Link a billing account in the Console", url=f"{CONSOLE}/billing/linkedaccount?project={project}"),
        Fix(
            "Or link one with gcloud",
            command=f"gcloud billing projects link {project} --billing-account=ACCOUNT_ID",
        ),
        Fix("List the billing accounts you can use (ACCOUNT_ID)", command="gcloud billing accounts list"),
    )


class BillingStep:
    """Checks billingInfo so the APIs, the cluster and GPU quota requests are not refused later."""

    id = "billing"
    title = "Billing"
    order = 30
    requires: tuple[str, ...] = ("project",)
    checks: tuple[str, ...] = ("billing.enabled",)
    fields: tuple[Field, ...] = ()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """One billingInfo read, judged in plain words."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding("billing.enabled", Status.SKIP, "Billing not checked", "Not checked: no project chosen.")
            return
        try:
            info: BillingInfo = services_of(ctx).billing().info(project)
        except GcpApiError as exc:
            yield error_finding("billing.enabled", exc, project, f"read the billing state of {project}")
            return
        yield self._judge(project, info)

    def _judge(self, project: str, info: BillingInfo) -> Finding:
        account_id = (info.account or "").removeprefix("billingAccounts/")
        named = f"{info.account_display_name} ({account_id})" if info.account_display_name else account_id
        if info.account_open is False:  # Google keeps a closed account linked, with billingEnabled false
            return Finding(
                "billing.enabled",
                Status.FAIL,
                f"The billing account of {project} is closed",
                f"{project} is linked to {named}, which is closed; charges will be refused. Link an open account.",
                fixes=_link_fixes(project),
            )
        if not info.enabled:
            return Finding(
                "billing.enabled",
                Status.FAIL,
                f"Billing is not enabled on {project}",
                f"{project} has no active billing account, so Google refuses GKE, Compute Engine and turning on "
                f"their APIs. Link an open billing account; it takes effect within minutes. {TRIAL_NOTE}",
                fixes=_link_fixes(project),
            )
        return Finding(
            "billing.enabled",
            Status.PASS,
            f"Billing is enabled (account {account_id})" if account_id else "Billing is enabled",
            f"{project} can spend money" + (f" on {named}." if named else ".") + f" {TRIAL_NOTE}",
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Billing is linked by a person (it needs a billing account admin); kftui offers no action."""
        raise ValueError(f"the billing step has no action {action!r}")


STEP = BillingStep()
