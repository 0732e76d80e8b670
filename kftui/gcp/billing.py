"""Billing questions: can this project spend money, and on which account."""

from __future__ import annotations

from typing import Any

from kftui.core.cloud import BillingInfo
from kftui.gcp.calls import call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import GcpApiError, translated

API = "cloudbilling"


class Billing:
    """Cloud Billing v1, as the billing step asks it."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The CloudBillingClient, built on first use."""
        if self._client is None:
            from google.cloud import billing_v1

            with translated():
                self._client = billing_v1.CloudBillingClient(**client_kwargs(API))
        return self._client

    def info(self, project: str) -> BillingInfo:
        """Whether billing is enabled and the account's name (the name is best effort: it needs access)."""
        project_id = project.removeprefix("projects/")
        with translated():
            answer = self.client.get_project_billing_info(name=f"projects/{project_id}", **call_options(API))
        account = answer.billing_account_name or None
        display: str | None = None
        is_open: bool | None = None
        if account:
            try:
                with translated():
                    details = self.client.get_billing_account(name=account, **call_options(API))
                display, is_open = details.display_name or None, bool(details.open_)
            except GcpApiError as exc:
                if exc.status not in (403, 404):
                    raise
        return BillingInfo(
            project_id=answer.project_id or project_id,
            enabled=bool(answer.billing_enabled),
            account=account,
            account_display_name=display,
            account_open=is_open,
        )
