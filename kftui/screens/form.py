"""A form for any step's fields: validated as typed, secrets masked, suggestions searched as you type."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from kftui.steps.base import Field, StepContext


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Collect a step's inputs; returns the values, or None when the user backs out."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
        Binding("down", "to_suggestions", "Suggestions", show=False),
    ]

    def __init__(self, title: str, fields: tuple[Field, ...], values: dict[str, str], ctx: StepContext) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values
        self.ctx = ctx

    def compose(self) -> ComposeResult:
        """One labelled input per field, its help, its error line, and suggestions for choices."""
        with VerticalScroll(classes="modal-box", id="form-box"):  # long forms scroll to the focused field
            yield Static(Text(self.form_title, style="bold"))
            for field in self.fields:
                yield Static(Text(field.label + ("" if field.required else " (optional)"), style="bold"))
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
        """Down arrow from a choice field moves into its suggestions."""
        field = self._field(self.focused.id if self.focused else None)
        if field is not None and field.suggest is not None:
            self.query_one(f"#suggest-{field.name}", OptionList).focus()

    @work(thread=True, exclusive=True, group="suggest", description="searching", exit_on_error=False)
    def _suggest(self, field: Field, text: str) -> None:
        """Ask the step for matches in a worker; only the newest answer is shown."""
        assert field.suggest is not None
        try:
            found = field.suggest(self.ctx, text)
        except Exception as exc:
            from kftui.screens.modals import explain_error

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

    @staticmethod
    def _check(field: Field, value: str) -> str | None:
        if not value.strip():
            return f"{field.label} is required" if field.required else None
        return field.validate(value.strip()) if field.validate else None

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
            if box.value.strip():
                result[field.name] = box.value.strip()
        if first_bad is not None:
            first_bad.focus()
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        """Back out without changing anything."""
        self.dismiss(None)
