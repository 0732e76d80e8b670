"""Project step against the fake Resource Manager: state, parent, hidden/absent projects, creation."""

from __future__ import annotations

from typing import Any

import pytest

from kftui.core.findings import Finding, Status
from kftui.gcp.errors import GcpApiError
from kftui.steps import all_steps
from kftui.steps.base import StepContext
from kftui.steps.project import STEP
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]


def run(**answers: Any) -> dict[str, Finding]:
    """The step's findings keyed by id."""
    return {f.id: f for f in STEP.run(StepContext(answers=answers, services=None))}


def test_steps_are_discovered_in_wizard_order_with_requirements() -> None:
    steps = {s.id: s for s in all_steps()}
    assert [s for s in steps if s in {"project", "billing", "apis", "iam", "oauth"}] == [
        "project",
        "billing",
        "apis",
        "iam",
        "oauth",
    ]
    assert steps["project"].order == 20 and steps["project"].requires == ()
    for sid, order in (("billing", 30), ("apis", 40), ("iam", 50), ("oauth", 60)):
        assert steps[sid].order == order and steps[sid].requires == ("project",)


def test_demo_project_is_active_without_organization(gcp_env: GcpSandbox) -> None:
    found = run(project="robot-ml-demo")
    access = found["project.access"]
    assert access.status is Status.PASS
    assert "123456789012" in access.message and "ACTIVE" in access.message
    assert dict(access.learned) == {"project": "robot-ml-demo"}
    parent = found["project.parent"]
    assert parent.status is Status.PASS and parent.title == "No organization"
    assert "OAuth" in parent.message


def test_project_number_is_learned_as_its_id(gcp_env: GcpSandbox) -> None:
    assert run(project="123456789012")["project.access"].learned["project"] == "robot-ml-demo"


def test_hidden_or_absent_project_fails_and_offers_creation(gcp_env: GcpSandbox) -> None:
    found = run(project="acme-prod-ml")
    access = found["project.access"]
    assert access.status is Status.FAIL
    assert "does not exist or you cannot see it" in access.title
    create = access.fixes[0]
    assert create.action == "create-project:acme-prod-ml"
    assert create.command == "gcloud projects create acme-prod-ml"
    assert access.diagnosis is not None and access.diagnosis.cause == "permission-denied"
    assert "403" not in access.message and "Traceback" not in access.message
    assert found["project.parent"].status is Status.SKIP


def test_404_says_the_project_does_not_exist() -> None:
    err = GcpApiError("Project not found", status=404, raw_text="404 Requested entity was not found.")
    finding = STEP._unreachable("brand-new-project", err)
    assert finding.status is Status.FAIL and finding.title == "Project brand-new-project does not exist"
    assert finding.fixes[0].action == "create-project:brand-new-project"


def test_no_project_and_invalid_project_fail_with_plain_words() -> None:
    none = run()["project.access"]
    assert none.status is Status.FAIL and none.title == "No project chosen"
    assert any(f.command == "gcloud config set project PROJECT_ID" for f in none.fixes)
    bad = run(project="Bad_Project")["project.access"]
    assert bad.status is Status.FAIL and "lowercase letters, digits and hyphens" in bad.message


def test_field_validates_and_suggests(gcp_env: GcpSandbox) -> None:
    field = STEP.fields[0]
    assert field.name == "project" and field.kind == "choice"
    assert field.validate is not None and field.validate("ab") is not None and field.validate("robot-ml-demo") is None
    assert field.suggest is not None
    values = [value for value, _label in field.suggest(StepContext(answers={}, services=None), "robot")]
    assert values == ["robot-ml-demo", "robot-ml-sandbox"]


def test_apply_creates_the_project_with_progress_then_it_passes(gcp_env: GcpSandbox) -> None:
    lines: list[str] = []
    ctx = StepContext(answers={"project": "kubeflow-fresh-1"}, services=None)
    assert run(project="kubeflow-fresh-1")["project.access"].status is Status.FAIL
    summary = STEP.apply("create-project:kubeflow-fresh-1", ctx, lines.append)
    assert "Created project kubeflow-fresh-1" in summary
    assert lines[0] == "$ gcloud projects create kubeflow-fresh-1"
    assert lines[-1] == "project kubeflow-fresh-1 created"
    assert "kubeflow-fresh-1" in gcp_env.world.scenario["projects"]
    assert run(project="kubeflow-fresh-1")["project.access"].status is Status.PASS


def test_apply_refused_by_google_raises_a_diagnosable_error(gcp_env: GcpSandbox) -> None:
    gcp_env.world.scenario["can_create_projects"] = False
    ctx = StepContext(answers={}, services=None)
    with pytest.raises(GcpApiError) as caught:
        STEP.apply("create-project:kubeflow-fresh-2", ctx, lambda _line: None)
    assert caught.value.status == 403
    assert caught.value.metadata.get("permission") == "resourcemanager.projects.create"


def test_project_waits_for_account_which_may_learn_gcloud_project() -> None:
    """The setup screen starts Project only once Account is done, so "No project chosen" is never shown early."""
    from kftui.steps import after_steps, all_steps

    ids = [s.id for s in all_steps()]
    project = next(s for s in all_steps() if s.id == "project")
    assert after_steps(project) == ("account",) and ids.index("account") < ids.index("project")
