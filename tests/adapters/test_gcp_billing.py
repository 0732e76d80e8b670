"""Billing adapter against the fake Cloud Billing API."""

from __future__ import annotations

import pytest

from kftui.gcp.billing import Billing
from kftui.gcp.errors import GcpApiError
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]


def test_demo_project_is_billed_on_a_named_account(gcp_env: GcpSandbox) -> None:
    info = Billing().info("robot-ml-demo")
    assert info.enabled
    assert info.account == "billingAccounts/01A2B3-C4D5E6-F7A8B9"
    assert info.account_display_name == "Ada's billing account"
    assert info.account_open is True


def test_unbilled_project_has_no_account(gcp_env: GcpSandbox) -> None:
    info = Billing().info("robot-ml-sandbox")
    assert (info.project_id, info.enabled, info.account) == ("robot-ml-sandbox", False, None)


def test_hidden_project_is_403(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Billing().info("acme-prod-ml")
    assert caught.value.status == 403
