"""`kftui doctor`: every setup check that needs no input, headless, as one table or one JSON object."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from kftui.errors import UsageError

if TYPE_CHECKING:
    from kftui.core.findings import Finding
    from kftui.steps.base import Step, StepContext

KNOWN_CHECKS: dict[str, tuple[str, ...]] = {
    "account": ("account.gcloud", "account.adc", "account.match", "account.quota-project", "account.auth-plugin"),
}
"""Check ids of steps that do not list their own (`checks`), so a step that cannot run still reports them."""

GPU_LATER = "kftui: GPU checks (--gpu, --gpu-count, --zone) arrive with the gpu step; they are not checked yet."

GPU_ALONE = "kftui: --gpu-count and --zone plan a GPU pool only together with --gpu TYPE; ignored without it."

DOCTOR_SUPPLIED = frozenset({"project"})
"""Inputs doctor settles itself (--project, the remembered answer, gcloud); the step reports when none is known."""


@dataclass(frozen=True)
class GpuArgs:
    """`--gpu TYPE --gpu-count N --zone Z`, handed to a step that offers `doctor_checks`."""

    gpu: str
    count: int
    zone: str | None


ICONS = {"pass": ("✔", "green"), "warn": ("▲", "yellow"), "fail": ("✖", "red"), "skip": ("–", "dim")}


@dataclass
class StepResult:
    """One step's findings in doctor's run, in the order they came."""

    step: Step
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether any finding of this step failed (steps that require it are then skipped)."""
        return any(str(f.status) == "fail" for f in self.findings)


def known_checks(step: Step) -> tuple[str, ...]:
    """The ids a step always reports: its own `checks`, else the table above, else `<step>.check`."""
    own = getattr(step, "checks", None)
    if isinstance(own, tuple) and own:
        return tuple(str(c) for c in own)
    return KNOWN_CHECKS.get(step.id, (f"{step.id}.check",))


def skipped(step: Step, reason: str) -> list[Finding]:
    """Every known check of a step that cannot run, as `skip` with the reason."""
    from kftui.core.findings import Finding, Status

    return [
        Finding(check, Status.SKIP, f"Not checked: {reason}", f"Skipped because {reason}.")
        for check in known_checks(step)
    ]


def run_step(step: Step, ctx: StepContext) -> list[Finding]:
    """All findings of one step; a crash becomes a diagnosed failure, and unreported known checks become skips."""
    from kftui.core.findings import Finding, Status
    from kftui.diagnose import diagnose_exception

    found: list[Finding] = []
    try:
        found.extend(step.run(ctx))
    except Exception as exc:
        project = ctx.answer("project")
        diagnosis = diagnose_exception(exc, **({"project": str(project)} if project else {}))
        found.append(
            Finding(f"{step.id}.error", Status.FAIL, diagnosis.title, diagnosis.explanation, diagnosis=diagnosis)
        )
    return padded(step, found)


def padded(step: Step, found: list[Finding], reason: str | None = None) -> list[Finding]:
    """Add every known check a step did not report, as `skip` with the reason, so no id goes missing."""
    seen = {f.id for f in found}
    if reason is None:
        failed = any(str(f.status) == "fail" for f in found)
        reason = "an earlier check in this step failed" if failed else "it is not needed in this case"
    return found + [f for f in skipped(step, reason) if f.id not in seen]


def doctor_hook(step: Step) -> Callable[..., list[Finding]] | None:
    """A step module's `doctor_checks(ctx, gpu, count, zone)`, for the checks only command-line flags can drive."""
    module = sys.modules.get(type(step).__module__)
    hook = getattr(module, "doctor_checks", None)
    return hook if callable(hook) else None


def run_gpu_checks(step: Step, ctx: StepContext, args: GpuArgs) -> list[Finding]:
    """The GPU step's doctor checks for the flags; a usage problem in them stays a usage error."""
    from kftui.core.findings import Finding, Status
    from kftui.diagnose import diagnose_exception

    hook = doctor_hook(step)
    assert hook is not None
    try:
        found = list(hook(ctx, args.gpu, args.count, args.zone))
    except UsageError:
        raise
    except Exception as exc:
        diagnosis = diagnose_exception(exc)
        found = [Finding(f"{step.id}.error", Status.FAIL, diagnosis.title, diagnosis.explanation, diagnosis=diagnosis)]
    return padded(step, found, "it is not part of the --gpu checks (run `kftui setup` for the whole plan)")


def _blocked_by(
    step: Step, answers: Mapping[str, Any], results: Mapping[str, StepResult], flags: bool = False
) -> str | None:
    """Why a step cannot run: a missing answer, a failed step it requires, or an input only a person can
    give (unless command-line flags drive the step); None when it can run."""
    missing = [name for name in step.requires if not answers.get(name)]
    if missing:
        return f"waiting for: {', '.join(missing)}"
    failed = [name for name in step.requires if name in results and results[name].failed]
    if failed:
        return f"the {', '.join(failed)} check failed"
    needs = [f.name for f in step.fields if f.required and f.name not in DOCTOR_SUPPLIED and not answers.get(f.name)]
    if needs and not flags:
        hint = " (give --gpu TYPE)" if doctor_hook(step) is not None else ""
        return f"it needs input: {', '.join(needs)}{hint}"
    return None


DEADLINE = 38.0
"""Seconds every check together may take: doctor ends within 45 s however many APIs hang (startup and output
included), naming each API that did not answer."""


def process_age() -> float:
    """Seconds since this process started (Linux /proc; 0 elsewhere), so the deadline counts the startup too."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def _spawn(owner: str, fn: Callable[..., list[Finding]], *args: Any) -> Future[list[Finding]]:
    """Run one step on a daemon thread whose Google calls are owned by the step: a hung call never holds exit."""
    from kftui.gcp.calls import owned_by

    future: Future[list[Finding]] = Future()

    def body() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            with owned_by(owner):
                future.set_result(fn(*args))
        except BaseException as exc:  # the step runner turns errors into findings; anything else is kept
            future.set_exception(exc)

    threading.Thread(target=body, name=f"doctor-{owner}", daemon=True).start()
    return future


def unanswered(step: Step, waited: float) -> list[Finding]:
    """The step's finding when the deadline passed: each Google API still silent, and where it was reached."""
    from kftui.core.findings import Finding, Status
    from kftui.diagnose import diagnose_exception
    from kftui.gcp.calls import api_title, inflight
    from kftui.gcp.errors import GcpApiError

    calls = inflight(step.id)
    seconds = f"{waited:.0f} s"
    if not calls:
        message = f"The {step.id} checks did not finish within {seconds} (no Google call was waiting: a local tool?)."
        return [Finding(f"{step.id}.error", Status.FAIL, f"No answer within {seconds}", message)]
    apis = list(dict.fromkeys((c.api, c.url) for c in calls))
    names = ", ".join(f"the {api_title(api)} at {url}" for api, url in apis)
    message = f"kftui stopped waiting after {seconds}. No answer from {names}."
    api, url = apis[0]
    problem = GcpApiError(
        f"The {api_title(api)} at {url} could not be reached: it did not answer in time.",
        status=504,
        metadata={"api": api, "url": url, "transport": "timeout"},
        service=f"{api}.googleapis.com",
        kind="timeout",
    )
    diagnosis = diagnose_exception(problem)
    title = "No answer from " + ", ".join(api_title(a) for a, _ in apis)
    return [Finding(f"{step.id}.error", Status.FAIL, title, message, diagnosis=diagnosis)]


def run_checks(
    answers: dict[str, Any],
    services: Any,
    pinned: frozenset[str] = frozenset(),
    gpu: GpuArgs | None = None,
    deadline: float = DEADLINE,
) -> list[StepResult]:
    """Run the steps in order; steps without requirements run one by one (they may learn answers),
    steps with requirements run side by side once what they require has finished; all within `deadline`."""
    from kftui.steps import StepContext, all_steps

    results: dict[str, StepResult] = {}
    running: dict[str, Future[list[Finding]]] = {}
    order: list[str] = []
    started = time.monotonic()
    ends = started + deadline

    def learn(result: StepResult) -> None:
        for finding in result.findings:
            for key, value in finding.learned.items():
                if key not in pinned and (key not in answers or key == result.step.id):
                    answers[key] = value

    def settle(step_id: str) -> None:
        future = running.pop(step_id, None)
        if future is None:
            return
        try:
            results[step_id].findings = future.result(timeout=max(0.0, ends - time.monotonic()))
        except FutureTimeout:
            results[step_id].findings = padded(results[step_id].step, unanswered(results[step_id].step, deadline))
            return
        learn(results[step_id])

    for step in all_steps():
        order.append(step.id)
        results[step.id] = StepResult(step)
        if not step.requires:
            for step_id in list(running):
                settle(step_id)
        for name in step.requires:
            settle(name)
        if time.monotonic() >= ends:
            results[step.id].findings = skipped(step, f"doctor's {deadline:.0f} s deadline passed")
            continue
        flagged = gpu is not None and doctor_hook(step) is not None
        reason = _blocked_by(step, answers, results, flags=flagged)
        if reason is not None:
            results[step.id].findings = skipped(step, reason)
            continue
        ctx = StepContext(answers=dict(answers), services=services)
        if flagged and gpu is not None:
            running[step.id] = _spawn(step.id, run_gpu_checks, step, ctx, gpu)
        else:
            running[step.id] = _spawn(step.id, run_step, step, ctx)
            if not step.requires:
                settle(step.id)
    for step_id in list(running):
        settle(step_id)
    return [results[step_id] for step_id in order]


def to_json(project: str | None, results: list[StepResult]) -> dict[str, Any]:
    """The documented `kftui doctor --json` object."""
    return {
        "project": project,
        "checks": [finding.to_json(result.step.id) for result in results for finding in result.findings],
    }


def _first_fix(finding: Finding) -> str:
    """The first fix's command (or its link) for the table's last column."""
    fixes = finding.fixes or (finding.diagnosis.fixes if finding.diagnosis else ())
    for fix in fixes:
        if fix.command or fix.url:
            return fix.command or fix.url or ""
    return ""


def render(project: str | None, results: list[StepResult], out: IO[str]) -> None:
    """A readable table: status icon, id, title, message and the first fix; text is never parsed as markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, emoji=False, soft_wrap=False)
    table = Table(title=Text(f"kftui doctor — project {project or '(none)'}"), show_lines=False, expand=True)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("check", overflow="fold")
    table.add_column("result", ratio=3, overflow="fold")
    table.add_column("first fix", ratio=2, overflow="fold")
    for result in results:
        for finding in result.findings:
            icon, colour = ICONS.get(str(finding.status), ("?", "white"))
            what = Text(finding.title, style="bold")
            what.append("\n" + finding.message, style="")
            table.add_row(Text(icon, style=f"bold {colour}"), Text(finding.id), what, Text(_first_fix(finding)))
    console.print(table)
    counts = dict.fromkeys(ICONS, 0)
    for result in results:
        for finding in result.findings:
            counts[str(finding.status)] = counts.get(str(finding.status), 0) + 1
    console.print(Text(", ".join(f"{n} {status}" for status, n in counts.items())))


def run_doctor(
    project: str | None,
    as_json: bool,
    gpu: str | None,
    gpu_count: int | None,
    zone: str | None,
    *,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    services: Any | None = None,
    max_gpu_nodes: int | None = None,
    deadline: float = DEADLINE,
) -> int:
    """Exit 0 when nothing fails, 1 when a check fails; an invalid --project is a usage error (exit 2).
    `max_gpu_nodes` is the pool maximum the GPU checks size the quota by (the wizard's "Maximum GPU nodes")."""
    from kftui.core import validate
    from kftui.settings import default_store
    from kftui.steps import all_steps

    target = out if out is not None else sys.stdout
    errors = err if err is not None else sys.stderr
    gpu_args: GpuArgs | None = None
    if gpu or gpu_count or zone:
        if not any(doctor_hook(step) is not None for step in all_steps()):
            print(GPU_LATER, file=errors)
        elif not gpu:
            print(GPU_ALONE, file=errors)
        else:
            gpu_args = GpuArgs(gpu.strip(), gpu_count or 1, (zone or "").strip() or None)
    pinned: frozenset[str] = frozenset()
    store = default_store()
    answers: dict[str, Any] = {k: v for k, v in store.read().answers.items() if v not in (None, "")}
    for line in store.take_problems():
        print(f"kftui: {line}", file=errors)
    from kftui.core.validate import validate_gpu_count

    if gpu_count is not None and (problem := validate_gpu_count(str(gpu_count))):
        raise UsageError(f"--gpu-count: {problem}")
    given = {"gpu_type": (gpu or "").strip(), "zone": (zone or "").strip(), "gpu_count": str(gpu_count or "")}
    answers.update({k: v for k, v in given.items() if v})  # flags are answers too: deploy.* checks read them
    pinned = frozenset(k for k, v in given.items() if v)
    if project is not None:
        problem = validate.project_id(project.strip())
        if problem:
            raise UsageError(f"--project: {problem}")
        answers["project"] = project.strip()
        pinned |= {"project"}
    if max_gpu_nodes is not None:
        answers["gpu_max_nodes"] = max_gpu_nodes
        pinned |= {"gpu_max_nodes"}
    if services is None:
        from kftui.factory import Options, Services

        services = Services(Options(project=answers.get("project")))
    age = process_age()  # a fresh `kftui doctor` counts its own startup (imports take seconds under load)
    budget = max(5.0, deadline - (age if age < deadline / 2 else 0.0))
    from kftui.gcp.calls import set_command_deadline

    set_command_deadline(time.monotonic() + budget)  # a hung call ends with its own words before the deadline
    try:
        results = run_checks(answers, services, pinned, gpu_args, deadline=budget + 1.0)
    finally:
        set_command_deadline(None)
    final_project = answers.get("project") or None
    if as_json:
        target.write(json.dumps(to_json(final_project, results)) + "\n")
    else:
        if hasattr(target, "reconfigure"):
            target.reconfigure(errors="replace")
        render(final_project, results, target)
    target.flush()
    failed = any(result.failed for result in results)
    return 1 if failed else 0
