"""A form for any step's fields: validated as typed, secrets masked, suggestions searched as you type."""

from __future__ import annotations

import re
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from kftui.steps.base import Field, StepContext

_STAND_IN = re.compile(r"^\(|example|…|\.\.\.|^(?:my|your?)\b", re.IGNORECASE)
"""Placeholders that describe or illustrate ("(pick one)", "you@example.com", "my-project"), never a value to save."""


def placeholder_default(field: Field) -> str:
    """The value an empty required field is saved with: its placeholder, when that is a real, valid answer."""
    hint = field.placeholder.strip()
    if not field.required or field.kind == "secret" or not hint or _STAND_IN.search(hint):
        return ""
    if field.validate is not None and field.validate(hint) is not None:
        return ""
    return hint


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Collect a step's inputs; returns the values, or None when the user backs out."""

    # Keys that move focus are priority bindings: Textual forwards each key to the widget focused when the app
    # reads it, and checks ordinary bindings only after the key has bubbled back up, so a non-priority Tab moved
    # focus too late and keys typed right after it (tmux send-keys, fast typists) landed in the old field.
    # Priority bindings run as the app reads the key and move focus at once (screen.set_focus, not widget.focus,
    # which is deferred). Focus moved from a message handler (picking a suggestion, the last field's Enter) is
    # still deferred: keys already read before it stay with the old widget, a Textual limitation.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
        Binding("tab", "next_field", "Next", show=False, priority=True),
        Binding("shift+tab", "previous_field", "Previous", show=False, priority=True),
        Binding("enter", "enter", "Next", show=False, priority=True),
        Binding("down", "to_suggestions", "Suggestions", show=False, priority=True),
    ]

    def __init__(self, title: str, fields: tuple[Field, ...], values: dict[str, str], ctx: StepContext) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values
        self.ctx = ctx
        self.defaults = {field.name: placeholder_default(field) for field in fields}

    def compose(self) -> ComposeResult:
        """One labelled input per field, its help, its error line, and suggestions for choices."""
        with VerticalScroll(classes="modal-box", id="form-box"):  # long forms scroll to the focused field
            yield Static(Text(self.form_title, style="bold"))
            for field in self.fields:
                default = self.defaults[field.name]
                note = " (optional)" if not field.required else f" (default {default})" if default else ""
                yield Static(Text(field.label + note, style="bold"))
                if field.help:
                    yield Static(Text(field.help, style="dim"))
                yield Input(
                    value="" if field.kind == "secret" else self.values.get(field.name, ""),
                    placeholder=field.placeholder,
                    password=field.kind == "secret",
                    id=f"field-{field.name}",
                )
                yield Static("", id=f"error-{field.name}", classes="field-error")
                if field.suggest is not None:
                    yield OptionList(id=f"suggest-{field.name}", classes="suggestions")
            yield Static(Text("Enter: next/save · Ctrl+S: save · Esc: cancel", style="dim"))
            yield Button("Save (Ctrl+S)", id="save", variant="primary")

    def on_mount(self) -> None:
        """Focus the first field and offer suggestions for what is already there."""
        first = self.fields[0]
        self.query_one(f"#field-{first.name}", Input).focus()
        for field in self.fields:
            if field.suggest is not None:
                self._suggest(field, self.values.get(field.name, ""))

    def _field(self, input_id: str | None) -> Field | None:
        name = (input_id or "").removeprefix("field-")
        return next((f for f in self.fields if f.name == name), None)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        field = self._field(event.input.id)
        if field is None:
            return
        self._show_error(field, self._check(field, event.value) if event.value else None)
        if field.suggest is not None:
            self._suggest(field, event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self.action_submit()

    def _focus_order(self) -> list[Widget]:
        """Fields then Save: the suggestion lists stay out of Tab's way, so Tab always reaches the next field."""
        return [*self.query(Input), self.query_one("#save", Button)]

    def _move(self, step: int) -> None:
        """Move focus now, so the next key typed lands in the field it was meant for."""
        order = self._focus_order()
        focused = self.focused
        if isinstance(focused, OptionList):  # from suggestions: count from the field they belong to
            focused = self.query_one(f"#field-{(focused.id or '').removeprefix('suggest-')}", Input)
        index = order.index(focused) if focused in order else -1
        self.set_focus(order[(index + step) % len(order)])

    def action_next_field(self) -> None:
        """Tab goes to the next field, past the suggestions (Down reaches those)."""
        self._move(1)

    def action_previous_field(self) -> None:
        """Shift+Tab goes back a field."""
        self._move(-1)

    def action_enter(self) -> None:
        """Enter in a field moves to the next at once; elsewhere (and in the last field, to save) it acts as usual."""
        inputs = list(self.query(Input))
        if not isinstance(self.focused, Input) or self.focused not in inputs or self.focused is inputs[-1]:
            raise SkipAction  # the last field saves via Input.Submitted, after the keys typed before Enter
        self._move(1)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        name = (event.option_list.id or "").removeprefix("suggest-")
        box = self.query_one(f"#field-{name}", Input)
        box.value = event.option.id or ""
        box.focus()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_submit()

    def action_to_suggestions(self) -> None:
        """Down arrow from a choice field moves into its suggestions at once; elsewhere Down does what it did."""
        field = self._field(self.focused.id if isinstance(self.focused, Input) else None)
        if field is None or field.suggest is None:
            raise SkipAction
        options = self.query_one(f"#suggest-{field.name}", OptionList)
        if not options.display or not options.option_count:
            raise SkipAction
        if options.highlighted is None:
            options.highlighted = 0  # Enter right after Down picks the first match
        self.set_focus(options)

    @work(thread=True, exclusive=True, group="suggest", description="searching", exit_on_error=False)
    def _suggest(self, field: Field, text: str) -> None:
        """Ask the step for matches in a worker; only the newest answer is shown."""
        assert field.suggest is not None
        try:
            found = field.suggest(self.ctx, text)
        except Exception as exc:
            from kftui.widgets.modals import explain_error

            found = []
            self.app.call_from_thread(self._show_error, field, explain_error(exc).title)
        if get_current_worker().is_cancelled:
            return
        self.app.call_from_thread(self._show_suggestions, field, found)

    def _show_suggestions(self, field: Field, found: list[tuple[str, str]]) -> None:
        options = self.query_one(f"#suggest-{field.name}", OptionList)
        options.clear_options()
        options.add_options([Option(Text(label), id=value) for value, label in found[:8]])
        options.display = bool(found)

    def _value(self, field: Field, typed: str) -> str:
        """What a field saves: what was typed, else its placeholder when that is a valid default."""
        return typed.strip() or self.defaults[field.name]

    def _check(self, field: Field, typed: str) -> str | None:
        value = self._value(field, typed)
        if not value:
            return f"{field.label} is required" if field.required else None
        return field.validate(value) if field.validate else None

    def _show_error(self, field: Field, message: str | None) -> None:
        self.query_one(f"#error-{field.name}", Static).update(Text(message or "", style="bold red"))

    def action_submit(self) -> None:
        """Validate every field; stay open and name the problem when one is wrong."""
        result: dict[str, str] = {}
        first_bad: Input | None = None
        for field in self.fields:
            box = self.query_one(f"#field-{field.name}", Input)
            error = self._check(field, box.value)
            self._show_error(field, error)
            if error and first_bad is None:
                first_bad = box
            value = self._value(field, box.value)
            if value:
                result[field.name] = value
        if first_bad is not None:
            first_bad.focus()
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        """Back out without changing anything."""
        self.dismiss(None)
