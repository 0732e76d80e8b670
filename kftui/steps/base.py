"""What a wizard step is: an id, a title, what it needs, and a run that yields findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding

if TYPE_CHECKING:
    from datetime import datetime

    from kftui.gcp.billing import Billing
    from kftui.gcp.compute import Compute
    from kftui.gcp.projects import Projects
    from kftui.gcp.quotas import Quotas
    from kftui.gcp.services import Services as ServiceUsage
    from kftui.settings import StateStore


class StepServices(Protocol):
    """What a step may use of the outside world; `kftui.factory.Services` is the real one, `EnvServices` the default."""

    @property
    def state(self) -> StateStore:
        """The one owner of state.json (the app's store, so its copy never overwrites a step's change)."""
        ...

    def now(self) -> datetime:
        """The clock progress and ages are told against."""
        ...

    def projects(self) -> Projects:
        """Resource Manager."""
        ...

    def service_usage(self) -> ServiceUsage:
        """Service Usage."""
        ...

    def billing(self) -> Billing:
        """Cloud Billing."""
        ...

    def compute(self, project: str) -> Compute:
        """Compute Engine for one project."""
        ...

    def quotas(self, project: str) -> Quotas:
        """Cloud Quotas for one project."""
        ...

    def use_context(self, context: str) -> None:
        """Point the cluster views at a context a deploy just made."""
        ...


class EnvServices:
    """Adapters built from the environment (endpoints, ADC), for steps run without the app (doctor, tests)."""

    @property
    def state(self) -> StateStore:
        """The process's store for state.json."""
        from kftui.settings import default_store

        return default_store()

    def now(self) -> datetime:
        """Wall-clock time."""
        from datetime import UTC, datetime

        return datetime.now(UTC)

    def projects(self) -> Projects:
        """A fresh Resource Manager adapter."""
        from kftui.gcp.projects import Projects

        return Projects()

    def service_usage(self) -> ServiceUsage:
        """A fresh Service Usage adapter."""
        from kftui.gcp.services import Services

        return Services()

    def billing(self) -> Billing:
        """A fresh Cloud Billing adapter."""
        from kftui.gcp.billing import Billing

        return Billing()

    def compute(self, project: str) -> Compute:
        """A fresh Compute adapter."""
        from kftui.gcp.compute import Compute

        return Compute(project)

    def quotas(self, project: str) -> Quotas:
        """A fresh Cloud Quotas adapter."""
        from kftui.gcp.quotas import Quotas

        return Quotas(project)

    def use_context(self, context: str) -> None:
        """Nothing to repoint without the app."""


@dataclass
class StepContext:
    """Everything a step may use; built once by the factory so tests and the sandbox swap it whole."""

    answers: Mapping[str, Any]
    """Remembered answers (project, zone, gpu ...) the step may read."""
    services: StepServices | None
    """The adapters (a `kftui.factory.Services`); None means "build them from the environment" (`EnvServices`)."""
    passed: frozenset[str] = field(default_factory=frozenset)
    """Ids of steps that have passed in this session (for `requires`)."""
    cancelled: Callable[[], bool] = lambda: False
    """Polled between slow calls so a step stops when the user moves on."""

    def answer(self, name: str) -> Any:
        """A remembered answer or None."""
        return self.answers.get(name)


@dataclass(frozen=True)
class Field:
    """An input a step asks for; the setup screen renders any field without knowing the step."""

    name: str
    """Answer key the value is remembered under (e.g. "project")."""
    label: str
    kind: str = "text"
    """text | secret | choice. Secrets are never written to the state file or shown again."""
    placeholder: str = ""
    help: str = ""
    validate: Callable[[str], str | None] | None = None
    """Returns None when valid, else a message naming the field and the rule it breaks."""
    suggest: Callable[[StepContext, str], list[tuple[str, str]]] | None = None
    """Search-as-you-type: (value, label) pairs for what the user typed so far; runs in a worker."""
    required: bool = True


Progress = Callable[[str], None]
"""Called with one line of progress text while a fix is being applied."""


@runtime_checkable
class Step(Protocol):
    """A wizard step; the setup screen and `kftui doctor` render any step without knowing which."""

    id: str
    title: str
    order: int
    requires: tuple[str, ...]
    """Answer names (e.g. "project") the step cannot run without; the UI shows "waiting for: ..."."""

    fields: tuple[Field, ...]
    """Inputs the step asks for (empty for steps that only check)."""

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """Yield findings as each check completes, so the UI can show them one by one."""
        ...

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Carry out a Fix whose `action` this step offered (only after the user confirmed); returns a summary."""
        ...


@runtime_checkable
class AsksBeforeAction(Protocol):
    """A step that wants fields filled before it applies an action (the quota request's value and email)."""

    def action_fields(self, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
        """The fields and their prefilled values."""
        ...


@runtime_checkable
class RendersAction(Protocol):
    """A step whose confirm dialog shows the command with what the user typed."""

    def action_command(self, action: str, ctx: StepContext) -> str | None:
        """The command line, or None for the Fix's own."""
        ...


@runtime_checkable
class ReadsOtherSteps(Protocol):
    """A step that reads other steps' outcomes (through `ctx.passed`), so it runs after them."""

    after: tuple[str, ...]


def action_form(step: Step, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
    """Fields (with prefilled values) a step wants filled before it applies an action; optional, usually none."""
    if not isinstance(step, AsksBeforeAction):
        return (), {}
    fields, defaults = step.action_fields(action, ctx)
    return tuple(fields), dict(defaults)


def action_command(step: Step, fix: Fix, ctx: StepContext, values: Mapping[str, str]) -> str | None:
    """The command a confirm dialog shows: the step's own rendering with what the user typed, else the Fix's."""
    if not isinstance(step, RendersAction) or not values:
        return fix.command
    filled = replace(ctx, answers={**ctx.answers, **values})
    return step.action_command(fix.action or "", filled) or fix.command


def after_steps(step: Step) -> tuple[str, ...]:
    """Step ids whose outcome this step reads (through `ctx.passed`); optional, so most steps omit it."""
    return tuple(step.after) if isinstance(step, ReadsOtherSteps) else ()


CONSOLE = "https://console.cloud.google.com"


def project_of(ctx: StepContext) -> str | None:
    """The chosen project id (stripped), or None."""
    value = ctx.answer("project")
    text = str(value).strip() if value else ""
    return text or None


def error_finding(check: str, exc: BaseException, project: str | None, doing: str) -> Finding:
    """A failing finding carrying the diagnosis engine's plain words for an API error, never the raw text."""
    from kftui.core.findings import Status
    from kftui.diagnose import diagnose_exception

    diagnosis = diagnose_exception(exc, **({"project": project} if project else {}))
    return Finding(check, Status.FAIL, diagnosis.title, f"Could not {doing}. {diagnosis.explanation}",
                   diagnosis=diagnosis)


def services_of(ctx: StepContext) -> StepServices:
    """The context's services, else adapters from the environment."""
    return ctx.services if ctx.services is not None else EnvServices()


def store_of(ctx: StepContext) -> StateStore:
    """The state store the context's services own (the app's), else the process's one for state.json."""
    return services_of(ctx).state


def missing_requirements(step: Step, ctx: StepContext) -> list[str]:
    """Names of answers a step is still waiting for."""
    return [name for name in step.requires if not ctx.answer(name)]
