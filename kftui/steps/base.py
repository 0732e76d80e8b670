"""What a wizard step is: an id, a title, what it needs, and a run that yields findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding

if TYPE_CHECKING:
    from kftui.settings import StateStore


@dataclass
class StepContext:
    """Everything a step may use; built once by the factory so tests and the sandbox swap it whole."""

    answers: Mapping[str, Any]
    """Remembered answers (project, zone, gpu ...) the step may read."""
    services: Any
    """The adapters (a `kftui.factory.Services`); typed loosely so steps stay testable with stand-ins."""
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


def action_form(step: Step, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
    """Fields (with prefilled values) a step wants filled before it applies an action; optional, usually none."""
    ask = getattr(step, "action_fields", None)
    if ask is None:
        return (), {}
    fields, defaults = ask(action, ctx)
    return tuple(fields), dict(defaults)


def action_command(step: Step, fix: Fix, ctx: StepContext, values: Mapping[str, str]) -> str | None:
    """The command a confirm dialog shows: the step's own rendering with what the user typed, else the Fix's."""
    render = getattr(step, "action_command", None)
    if render is None or not values:
        return fix.command
    filled = replace(ctx, answers={**ctx.answers, **values})
    return str(render(fix.action or "", filled) or fix.command)


def after_steps(step: Step) -> tuple[str, ...]:
    """Step ids whose outcome this step reads (through `ctx.passed`); optional, so most steps omit it."""
    return tuple(getattr(step, "after", ()))


def store_of(ctx: Any) -> StateStore:
    """The state store the context's services own (the app's), else the process's one for state.json."""
    store = getattr(getattr(ctx, "services", None), "state", None)
    if store is not None:
        return cast("StateStore", store)
    from kftui.settings import default_store

    return default_store()


def missing_requirements(step: Step, ctx: StepContext) -> list[str]:
    """Names of answers a step is still waiting for."""
    return [name for name in step.requires if not ctx.answer(name)]
