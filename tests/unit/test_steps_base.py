"""The steps' typed seams: optional step capabilities are Protocols, and steps reach the world only via services."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding
from kftui.factory import Services
from kftui.steps import all_steps
from kftui.steps.base import (
    AsksBeforeAction,
    EnvServices,
    Field,
    Progress,
    ReadsOtherSteps,
    RendersAction,
    StepContext,
    action_command,
    action_form,
    after_steps,
    services_of,
)

STEPS = Path(__file__).resolve().parents[2] / "kftui" / "steps"


class Plain:
    """A step with none of the optional capabilities."""

    id = "plain"
    title = "Plain"
    order = 1
    requires: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        yield from ()

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        return action


class Rich(Plain):
    """A step that asks before acting, renders its command and reads other steps."""

    after: tuple[str, ...] = ("plain",)

    def action_fields(self, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
        return (Field("n", "N"),), {"n": "1"}

    def action_command(self, action: str, ctx: StepContext) -> str | None:
        return f"do {action} {ctx.answer('n')}"


def test_optional_capabilities_are_protocols_not_attribute_lookups() -> None:
    ctx = StepContext(answers={}, services=None)
    fix = Fix("Do it", command="do it", action="go")
    plain, rich = Plain(), Rich()
    assert not isinstance(plain, AsksBeforeAction | RendersAction | ReadsOtherSteps)
    assert action_form(plain, "go", ctx) == ((), {}) and after_steps(plain) == ()
    assert action_command(plain, fix, ctx, {"n": "2"}) == "do it"
    fields, defaults = action_form(rich, "go", ctx)
    assert [f.name for f in fields] == ["n"] and defaults == {"n": "1"}
    assert action_command(rich, fix, ctx, {"n": "2"}) == "do go 2"
    assert action_command(rich, fix, ctx, {}) == "do it"  # nothing typed: the Fix's own command
    assert after_steps(rich) == ("plain",)
    deploy = next(s for s in all_steps() if s.id == "deploy")
    assert "gpu" in after_steps(deploy)


def test_the_services_give_the_clock_and_the_context_switch_they_declare() -> None:
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    services = Services(now=lambda: fixed)
    assert services_of(StepContext(answers={}, services=services)).now() == fixed
    assert isinstance(services_of(StepContext(answers={}, services=None)), EnvServices)
    services.use_context("gke_p_z_kubeflow")
    assert services.options.context == "gke_p_z_kubeflow"


def test_no_step_reaches_an_adapter_or_a_service_by_name() -> None:
    """getattr/hasattr seams are what the typed StepServices replaced; adapters come from the services."""
    for path in sorted(STEPS.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert not {"getattr", "hasattr"} & set(calls), path.name
        if path.name != "base.py":  # EnvServices, the headless default, is where adapters are built
            assert not {"Compute", "Quotas", "Projects", "Billing"} & set(calls), path.name
