"""Setup mode: the wizard's steps on the left, the selected step's findings and fixes on the right."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.core.findings import Finding, Status, Table, worst
from kftui.core.progress import fold
from kftui.core.sanitize import inert, inert_lines
from kftui.steps import Step, StepContext, after_steps, all_steps, missing_requirements
from kftui.steps.base import action_command, action_form
from kftui.widgets.footer import KeysFooter

ICONS = {
    "pass": ("✔", "green"),
    "warn": ("▲", "yellow"),
    "fail": ("✖", "red"),
    "skip": ("–", "dim"),
    "running": ("…", "cyan"),
    "pending": ("○", "dim"),
    "waiting": ("◌", "dim"),
}


@dataclass
class StepView:
    """What the screen knows of one step right now."""

    step: Step
    phase: str = "pending"
    findings: list[Finding] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)
    """Lines from a fix being applied, one per subject (see core.progress.fold)."""
    last_fix: list[str] = field(default_factory=list)
    """The finished fix's lines, its outcome last: kept on screen until the next fix, so nothing scrolls away."""
    last_ok: bool = True
    generation: int = 0
    """Bumped on every (re)start; messages from an older run of the step are ignored."""

    @property
    def badge(self) -> str:
        """Key into ICONS: the worst finding once done, else the phase."""
        if self.phase == "done":
            return str(worst(self.findings))
        return self.phase


class StepFinding(Message):
    """A finding arrived from a step's worker thread."""

    def __init__(self, step_id: str, finding: Finding, generation: int) -> None:
        super().__init__()
        self.step_id = step_id
        self.finding = finding
        self.generation = generation


class FixProgress(Message):
    """A line of progress from a fix being applied in a worker."""

    def __init__(self, step_id: str, line: str, finished: bool = False, ok: bool = True) -> None:
        super().__init__()
        self.step_id = step_id
        self.line = line
        self.finished = finished
        self.ok = ok


class StepDone(Message):
    """A step's worker finished (its findings already arrived)."""

    def __init__(self, step_id: str, generation: int) -> None:
        super().__init__()
        self.step_id = step_id
        self.generation = generation


_COLOURS = {Status.PASS: "green", Status.FAIL: "red", Status.WARN: "yellow"}
_PROSE_MIN = 16
"""Columns a narrow pane must still leave for the one column of sentences (the planner's `feasible`)."""


class FitTable:
    """A finding's table that fits its pane: columns when they fit, else one short block per row.

    One-word cells (a zone, a number) never break inside; when they alone leave too little room for the
    sentence column, each row becomes its first cells in bold and `column: value` pairs beneath, so an
    80-column terminal reads the GPU planner instead of a grid of four-letter fragments.
    """

    def __init__(self, table: Table) -> None:
        """Cells are outside text: they are made inert here, once."""
        self.columns = [inert(c) for c in table.columns]
        self.rows = [[inert(c) for c in row] for row in table.rows]
        self.styles = [_COLOURS.get(table.row_status[i], "") if i < len(table.row_status) else ""
                       for i in range(len(self.rows))]
        self.words = [bool(cells) and all(len(c) <= 20 and not any(ch.isspace() for ch in c) for c in cells)
                      for cells in ([row[i] for row in self.rows if i < len(row)] for i in range(len(self.columns)))]

    def grid(self) -> RichTable:
        """The table as columns; one-word columns stay whole and the others wrap."""
        out = RichTable(box=None, padding=(0, 1), show_edge=False, header_style="bold", pad_edge=False)
        for index, column in enumerate(self.columns):
            if self.words[index]:
                width = max([len(row[index]) for row in self.rows if index < len(row)] + [1])
                out.add_column(column, no_wrap=True, min_width=width)
            else:
                out.add_column(column, overflow="fold", ratio=1)
        for row, style in zip(self.rows, self.styles, strict=True):
            out.add_row(*(Text(cell) for cell in row), style=style)
        return out

    def fixed_width(self) -> int:
        """Columns the one-word cells need, with the gaps between columns."""
        widths = [max([len(row[i]) for row in self.rows if i < len(row)] + [len(self.columns[i])])
                  for i, words in enumerate(self.words) if words]
        return sum(widths) + 2 * len(self.columns)

    def blocks(self) -> Group:
        """Each row as a short block: the first two cells, then the rest as `column: value`, indented."""
        parts: list[RenderableType] = []
        lead = min(2, len(self.columns))
        for row, style in zip(self.rows, self.styles, strict=True):
            parts.append(Text("  ".join(row[:lead]), style=f"bold {style}".strip()))
            rest = [f"{self.columns[i]}: {row[i]}" for i in range(lead, min(len(row), len(self.columns)))]
            if rest:
                parts.append(Padding(Text("; ".join(rest), style=style), (0, 0, 0, 2)))
        return Group(*parts)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Columns if the one-word cells leave the sentences room; blocks otherwise."""
        prose = not all(self.words)
        if self.fixed_width() + (_PROSE_MIN if prose else 0) <= options.max_width:
            yield self.grid()
        else:
            yield self.blocks()


def table_renderable(table: Table) -> FitTable:
    """A finding's table; rows take their status colour, and it fits any pane width."""
    return FitTable(table)


def finding_renderables(finding: Finding) -> list[RenderableType]:
    """One finding with its fixes; untrusted strings are never parsed as markup."""
    icon, colour = ICONS[str(finding.status)]
    head = Text()
    head.append(f"{icon} ", style=f"bold {colour}")
    head.append(inert(finding.title) + "\n", style="bold")
    head.append(inert_lines(finding.message))
    if finding.diagnosis and finding.diagnosis.explanation and finding.diagnosis.explanation not in finding.message:
        head.append("\n" + inert_lines(finding.diagnosis.explanation), style="italic")
    parts: list[RenderableType] = [head]
    if finding.table is not None:
        parts.append(table_renderable(finding.table))
    fixes = finding.fixes or (finding.diagnosis.fixes if finding.diagnosis else ())
    tail = Text()
    for fix in fixes:
        tail.append("  → ", style="bold cyan")
        tail.append(inert(fix.title) + "\n")
        if fix.command:
            tail.append("    $ ", style="dim")
            tail.append(inert_lines(fix.command) + "\n", style="bold")
        if fix.url:
            tail.append("    " + inert(fix.url) + "\n", style="underline")
    if tail:
        parts.append(tail)
    return parts


class SetupScreen(Screen[None]):
    """The wizard; it renders any step without knowing which one it is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "answer", "Answer"),
        Binding("f", "fix", "Apply fix"),
        Binding("r", "rerun", "Re-check step"),
        Binding("R", "rerun_all", "Re-check all"),
        Binding("tab", "app.focus_next", "Steps/Details"),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="setup")
        self.views: dict[str, StepView] = {}
        self._leaving = threading.Event()
        """Set when the screen goes away (the app quits): a running fix stops at its next wait."""

    def on_unmount(self) -> None:
        """Quitting must not wait for a long fix (a deploy) to finish: ask it to stop where it is."""
        self._leaving.set()

    def compose(self) -> ComposeResult:
        """Step list | detail pane, with header and the key bindings in the footer."""
        yield Header()
        with Horizontal(id="setup-body"):
            yield OptionList(id="steps")
            with VerticalScroll(id="step-detail"):
                yield Static(id="detail-title")
                yield Static(id="detail-body")
        yield KeysFooter()

    def on_mount(self) -> None:
        """Discover the steps and start every one whose inputs are known."""
        self.sub_title = "setup"
        self.views = {step.id: StepView(step) for step in all_steps()}
        steps = self.query_one("#steps", OptionList)
        steps.add_options([Option(self._label(v), id=v.step.id) for v in self.views.values()])
        steps.highlighted = 0
        steps.focus()
        self.call_after_refresh(self.run_ready)  # draw the list first; the checks' imports can wait a frame

    # -- running ---------------------------------------------------------------------------------
    def context(self) -> StepContext:
        """A fresh context: remembered answers plus what steps learned this session."""
        app: Any = self.app
        passed = frozenset(sid for sid, v in self.views.items() if v.phase == "done" and v.badge == "pass")
        return StepContext(answers=dict(app.state.answers), services=app.services, passed=passed)

    def run_ready(self, force: set[str] | None = None) -> None:
        """Start steps that are pending (or forced) and no longer waiting for an answer."""
        ctx = self.context()
        for view in self.views.values():
            forced = bool(force and view.step.id in force)
            if not forced and view.phase not in ("pending", "waiting"):
                continue
            view.waiting_for = missing_requirements(view.step, ctx) + [
                f"{self.views[sid].step.title.lower()} step"
                for sid in after_steps(view.step)
                if sid in self.views and self.views[sid].phase != "done"
            ]
            if view.waiting_for:
                view.phase = "waiting"
            else:
                self._start(view, ctx)
            self._refresh_step(view.step.id)

    def _start(self, view: StepView, ctx: StepContext) -> None:
        view.phase = "running"
        view.findings = []
        view.generation += 1
        step = view.step
        generation = view.generation
        self.run_worker(
            lambda: self._run_step(step, ctx, generation),
            thread=True,
            exclusive=True,
            group=f"step-{step.id}",
            exit_on_error=False,
            name=f"step-{step.id}",
            description=f"checking {step.title.lower()}",
        )

    def _run_step(self, step: Step, ctx: StepContext, generation: int) -> None:
        """Worker body: stream findings to the screen; a crash in a step becomes a failing finding."""
        try:
            for finding in step.run(ctx):
                self.post_message(StepFinding(step.id, finding, generation))
        except Exception as exc:
            from kftui.widgets.modals import explain_error

            diagnosis: Diagnosis = explain_error(exc)
            self.post_message(
                StepFinding(
                    step.id,
                    Finding(
                        f"{step.id}.error", Status.FAIL, diagnosis.title, diagnosis.explanation, diagnosis=diagnosis
                    ),
                    generation,
                )
            )
        finally:
            self.post_message(StepDone(step.id, generation))

    def on_step_finding(self, message: StepFinding) -> None:
        """Show a finding as soon as it exists; a newly learned answer re-checks every later step."""
        view = self.views[message.step_id]
        if message.generation != view.generation:
            return
        view.findings.append(message.finding)
        self._refresh_step(message.step_id)
        if message.finding.learned:
            app: Any = self.app
            # What a check learns (gcloud's project, a feasible zone) fills a gap; it never overrides the user's choice.
            changed = {k: v for k, v in message.finding.learned.items() if not app.state.answers.get(k)}
            if changed:
                app.remember(**changed)
                self._rerun_with_dependents(message.step_id, include_self=False)

    def on_step_done(self, message: StepDone) -> None:
        """A finished step may unblock the ones waiting for its answers."""
        view = self.views[message.step_id]
        if message.generation != view.generation:
            return
        view.phase = "done"
        self._refresh_step(message.step_id)
        readers = {sid for sid, v in self.views.items() if message.step_id in after_steps(v.step) and v.phase == "done"}
        self.run_ready(force=readers or None)
        if all(v.phase == "done" and v.badge in ("pass", "skip") for v in self.views.values()):
            app: Any = self.app
            if not app.state.setup_passed:
                app.state.setup_passed = True
                app.save_state()

    # -- rendering -------------------------------------------------------------------------------
    def _label(self, view: StepView) -> RenderableType:
        icon, colour = ICONS[view.badge]
        label = Text()
        label.append(f" {icon} ", style=f"bold {colour}")
        label.append(view.step.title)
        if view.phase == "waiting" and view.waiting_for:
            # indented as a block, so on a narrow list the wrapped names stay under "waiting for"
            waiting = Text(f"waiting for: {', '.join(view.waiting_for)}", style="dim")
            return Group(label, Padding(waiting, (0, 0, 0, 4), expand=False))
        return label

    def _refresh_step(self, step_id: str) -> None:
        steps = self.query_one("#steps", OptionList)
        index = steps.get_option_index(step_id)
        steps.replace_option_prompt_at_index(index, self._label(self.views[step_id]))
        if steps.highlighted == index:
            self._show_detail(step_id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Moving through the list shows each step's findings."""
        if event.option.id:
            self._show_detail(event.option.id)

    def _show_detail(self, step_id: str) -> None:
        view = self.views[step_id]
        icon, colour = ICONS[view.badge]
        title = Text()
        title.append(f"{icon} ", style=f"bold {colour}")
        title.append(view.step.title, style="bold")
        self.query_one("#detail-title", Static).update(title)
        body = Text()
        if view.phase == "waiting":
            body.append(f"waiting for: {', '.join(view.waiting_for)}\n", style="dim")
            body.append("This step runs as soon as an earlier step provides that answer.\n", style="dim")
        elif view.phase == "running" and not view.findings:
            body.append("checking…\n", style="dim")
        for i, line in enumerate(view.progress):
            last = i == len(view.progress) - 1
            body.append(("⟳ " if last else "· ") + inert(line) + "\n", style="bold cyan" if last else "cyan")
        if view.progress:
            body.append("\n")
        if view.last_fix and not view.progress:
            *lines, outcome = view.last_fix
            body.append("last fix:\n", style="bold")
            for line in lines:
                body.append("· " + inert(line) + "\n", style="dim")
            body.append(("✓ " if view.last_ok else "✗ ") + inert(outcome) + "\n\n",
                        style="bold green" if view.last_ok else "bold red")
        if view.step.fields:
            shown = self._answers_text(view)
            if shown:
                body.append(shown)
        parts: list[RenderableType] = [body] if body else []
        for finding in view.findings:
            parts.extend(finding_renderables(finding))
            parts.append(Text(""))
        self.query_one("#detail-body", Static).update(Group(*parts))

    def _answers_text(self, view: StepView) -> Text:
        app: Any = self.app
        out = Text()
        defaults: list[str] = []
        for f in view.step.fields:
            value = app.state.answers.get(f.name)
            if f.kind == "secret":
                continue
            if not value and not f.required:  # optional and unset: summed up below rather than warned about
                defaults.append(f.label)
                continue
            out.append(f"{f.label}: ", style="dim")
            if value:
                out.append(f"{value}\n", style="bold")
            else:
                out.append("not set (press e)\n", style="yellow")
        if defaults:
            shown = ", ".join(defaults[:3]) + (f" and {len(defaults) - 3} more" if len(defaults) > 3 else "")
            out.append(f"At their defaults: {shown} (press e to change).\n", style="dim")
        if out:
            out.append("\n")
        return out

    @property
    def selected(self) -> str | None:
        """The highlighted step's id."""
        steps = self.query_one("#steps", OptionList)
        if steps.highlighted is None:
            return None
        return steps.get_option_at_index(steps.highlighted).id

    # -- actions ---------------------------------------------------------------------------------
    def action_rerun(self) -> None:
        """Run the highlighted step again (e.g. after fixing something outside kftui)."""
        if self.selected:
            self.run_ready(force={self.selected})

    def action_rerun_all(self) -> None:
        """Run every step again."""
        for view in self.views.values():
            if view.phase != "running":
                view.phase = "pending"
        self.run_ready()

    def action_answer(self) -> None:
        """Open the form for the highlighted step's inputs (project, OAuth client ...)."""
        view = self.views.get(self.selected or "")
        if view is None or not view.step.fields:
            self.notify("This step asks for nothing; it only checks.", timeout=3)
            return
        from kftui.widgets.form import FormScreen

        app: Any = self.app
        values = {f.name: str(app.state.answers.get(f.name, "")) for f in view.step.fields}
        self.app.push_screen(
            FormScreen(view.step.title, view.step.fields, values, self.context()),
            lambda result: self._answered(view, result),
        )

    def _answered(self, view: StepView, result: dict[str, str] | None) -> None:
        if result is None:
            return
        from kftui import secrets

        app: Any = self.app
        view.last_fix = []  # new answers: the last fix's outcome no longer describes this step
        plain = {}
        for f in view.step.fields:
            if f.name not in result:
                continue
            if f.kind == "secret":
                where = secrets.default_store().put(f.name, result[f.name])
                place = "in the OS keyring" if where == secrets.KEYRING else "in memory only, for this session"
                self.notify(inert(f"{f.label} kept {place}; it will not be shown again."), timeout=5, markup=False)
            else:
                plain[f.name] = result[f.name]
        if plain:
            app.remember(**plain)
        self._rerun_with_dependents(view.step.id)

    def _rerun_with_dependents(self, step_id: str, include_self: bool = True) -> None:
        """An answer or a fix changes this step and possibly every later one; restart them (stale runs are ignored)."""
        order = self.views[step_id].step.order
        force = {sid for sid, v in self.views.items() if v.step.order > order or (include_self and sid == step_id)}
        self.run_ready(force=force)

    def action_fix(self) -> None:
        """Apply one of the highlighted step's fixes, after showing the exact command and asking."""
        view = self.views.get(self.selected or "")
        if view is None:
            return
        fixes = [
            fix
            for finding in view.findings
            for fix in (finding.fixes or (finding.diagnosis.fixes if finding.diagnosis else ()))
            if fix.action
        ]
        if not fixes:
            self.notify("Nothing here that kftui can fix for you; the commands shown are yours to run.", timeout=4)
            return
        from kftui.widgets.modals import ChooseScreen, ConfirmScreen

        def confirm(index: int | None) -> None:
            if index is None:
                return
            fix = fixes[index]
            fields, defaults = action_form(view.step, fix.action or "", self.context())
            if not fields:
                ask(fix, {})
                return
            from kftui.widgets.form import FormScreen

            self.app.push_screen(
                FormScreen(fix.title, fields, defaults, self.context()),
                lambda values: ask(fix, values) if values is not None else None,
            )

        def ask(fix: Fix, values: dict[str, str]) -> None:
            self.app.push_screen(
                ConfirmScreen(fix.title + "?", action_command(view.step, fix, self.context(), values)),
                lambda yes: self._apply(view, fix.action or "", values) if yes else None,
            )

        if len(fixes) == 1:
            confirm(0)
        else:
            self.app.push_screen(ChooseScreen("Which fix?", [Text(inert(f.title)) for f in fixes]), confirm)

    def _apply(self, view: StepView, action: str, values: dict[str, str] | None = None) -> None:
        view.progress = [f"applying: {action}"]
        view.last_fix = []
        self._refresh_step(view.step.id)
        ctx = self.context()
        ctx.cancelled = self._leaving.is_set
        if values:
            ctx.answers = {**ctx.answers, **values}  # what the user typed in the action's form, for this apply only
        step = view.step

        def progress(line: str) -> None:
            self.post_message(FixProgress(step.id, line))

        def body() -> None:
            try:
                summary = step.apply(action, ctx, progress)
                self.post_message(FixProgress(step.id, summary, finished=True))
            except Exception as exc:
                from kftui.widgets.modals import explain_error

                diagnosis = explain_error(exc)
                self.post_message(FixProgress(step.id, f"failed: {diagnosis.title}. {diagnosis.explanation}", True,
                                              ok=False))

        self.run_worker(
            body,
            thread=True,
            exclusive=True,
            group=f"fix-{step.id}",
            description=f"applying {action}",
            exit_on_error=False,
        )

    def on_fix_progress(self, message: FixProgress) -> None:
        """Show progress as it happens; when the fix is done, check again so the step shows the truth."""
        view = self.views[message.step_id]
        if message.finished:
            view.last_fix, view.last_ok = [*view.progress[1:], message.line], message.ok
            view.progress = []
            self._refresh_step(message.step_id)
            self.notify(inert(message.line), severity="information" if message.ok else "error", timeout=5, markup=False)
            self._rerun_with_dependents(message.step_id)
            return
        fold(view.progress, message.line)
        self._refresh_step(message.step_id)
