"""APIs step against the fake Service Usage: the one required list, the batch enable, the re-check."""

from __future__ import annotations

from kftui.core.findings import Finding, Status
from kftui.core.requirements import required_service_names
from kftui.steps.apis import STEP
from kftui.steps.base import StepContext
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]


def check(project: str) -> Finding:
    """The step's one finding."""
    (finding,) = list(STEP.run(StepContext(answers={"project": project}, services=None)))
    assert finding.id == "apis.enabled"
    return finding


def test_required_list_is_the_documented_one() -> None:
    assert set(required_service_names()) == {
        f"{api}.googleapis.com"
        for api in (
            "compute",
            "container",
            "iam",
            "cloudresourcemanager",
            "serviceusage",
            "cloudquotas",
            "cloudbilling",
        )
    }


def test_demo_names_container_as_disabled_in_message_and_command(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-demo")
    assert finding.status is Status.FAIL
    assert "container.googleapis.com" in finding.title and "container.googleapis.com" in finding.message
    (fix,) = finding.fixes
    assert fix.action == "enable-apis"
    assert fix.command == "gcloud services enable container.googleapis.com --project robot-ml-demo"


def test_several_disabled_apis_are_all_named(gcp_env: GcpSandbox) -> None:
    finding = check("robot-ml-sandbox")
    assert finding.status is Status.FAIL
    command = finding.fixes[0].command or ""
    for api in ("compute", "container", "iam", "cloudquotas"):
        assert f"{api}.googleapis.com" in finding.message and f"{api}.googleapis.com" in command
    assert "cloudbilling.googleapis.com " not in command  # enabled in that project


def test_apply_enables_missing_in_one_batch_with_progress_then_passes(gcp_env: GcpSandbox) -> None:
    lines: list[str] = []
    ctx = StepContext(answers={"project": "robot-ml-demo"}, services=None)
    summary = STEP.apply("enable-apis", ctx, lines.append)
    assert summary == "Enabled container.googleapis.com in robot-ml-demo."
    assert lines[0] == "$ gcloud services enable container.googleapis.com --project robot-ml-demo"
    assert any("finished" in line for line in lines)
    assert lines[-1].startswith("re-checked")
    batches = gcp_env.world.sent("POST", ":batchEnable")
    assert len(batches) == 1 and batches[0].body["serviceIds"] == ["container.googleapis.com"]
    assert check("robot-ml-demo").status is Status.PASS


def test_apply_when_nothing_is_missing_changes_nothing(gcp_env: GcpSandbox) -> None:
    gcp_env.project("robot-ml-demo")["services"]["container.googleapis.com"] = "ENABLED"
    ctx = StepContext(answers={"project": "robot-ml-demo"}, services=None)
    assert "already enabled" in STEP.apply("enable-apis", ctx, lambda _line: None)
    assert gcp_env.world.sent("POST", ":batchEnable") == []
