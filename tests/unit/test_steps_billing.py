"""Billing step against the fake Cloud Billing: enabled, not linked, closed account, API off."""

from __future__ import annotations

from kftui.core.findings import Finding, Status
from kftui.steps.base import StepContext
from kftui.steps.billing import STEP
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]


def check(project: str | None) -> Finding:
    """The step's one finding."""
    answers = {"project": project} if project else {}
    (finding,) = list(STEP.run(StepContext(answers=answers, services=None)))
    assert finding.id == "billing.enabled"
    return finding


def test_demo_billing_is_enabled_and_names_the_account(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-demo")
    assert finding.status is Status.PASS
    assert "01A2B3-C4D5E6-F7A8B9" in finding.title
    assert "Ada's billing account" in finding.message
    assert "Free Trial" in finding.message and "GPU" in finding.message


def test_billing_disabled_fails_with_console_link_and_gcloud_command(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-sandbox")
    assert finding.status is Status.FAIL
    assert finding.title == "Billing is not enabled on robot-ml-sandbox"
    urls = [f.url for f in finding.fixes if f.url]
    commands = [f.command for f in finding.fixes if f.command]
    assert "https://console.cloud.google.com/billing/linkedaccount?project=robot-ml-sandbox" in urls
    assert "gcloud billing projects link robot-ml-sandbox --billing-account=ACCOUNT_ID" in commands
    assert "Free Trial" in finding.message


def test_closed_billing_account_fails(gcp_env: GcpSandbox) -> None:
    gcp_env.project("robot-ml-demo")["billing"]["open"] = False
    finding = check("robot-ml-demo")
    assert finding.status is Status.FAIL and "closed" in finding.title


def test_billing_api_disabled_becomes_a_diagnosis_not_a_raw_error(gcp_env: GcpSandbox) -> None:
    gcp_env.project("robot-ml-demo")["services"]["cloudbilling.googleapis.com"] = "DISABLED"
    finding = check("robot-ml-demo")
    assert finding.status is Status.FAIL
    assert finding.diagnosis is not None and finding.diagnosis.cause == "api-disabled"
    assert finding.message.startswith("Could not read the billing state of robot-ml-demo.")
    assert "cloudbilling.googleapis.com" in " ".join(f.command or "" for f in finding.diagnosis.fixes)


def test_no_project_is_a_skip_with_the_reason() -> None:
    finding = check(None)
    assert finding.status is Status.SKIP and "no project" in finding.message
