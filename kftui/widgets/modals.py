"""Modal screens shared by both modes, and the error-to-diagnosis bridge."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kftui.core.diagnosis import Diagnosis
from kftui.core.sanitize import inert, inert_lines


def explain_error(error: BaseException) -> Diagnosis:
    """Every error the UI shows goes through the diagnosis engine; fall back to its text if that fails."""
    try:
        from kftui.diagnose import diagnose_exception

        return diagnose_exception(error)
    except Exception:  # the engine itself must never turn one error into two
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Diagnosis(cause="unknown", title="Something failed", explanation=text)


def diagnosis_text(diagnosis: Diagnosis) -> Text:
    """A Diagnosis as terminal text: title, explanation, then each fix with its exact command."""
    out = Text()
    out.append(inert(diagnosis.title) + "\n", style="bold")
    out.append(inert_lines(diagnosis.explanation) + "\n")
    for fix in diagnosis.fixes:
        out.append("\n→ ", style="bold cyan")
        out.append(inert(fix.title) + "\n")
        if fix.command:
            out.append("  $ ", style="dim")
            out.append(inert_lines(fix.command) + "\n", style="bold")
        if fix.url:
            out.append("  " + inert(fix.url) + "\n", style="underline")
    return out


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing anything on the user's behalf, showing the exact equivalent command."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, do it"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, command: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.command = command

    def compose(self) -> ComposeResult:
        """Question, command, two buttons."""
        with Vertical(id="confirm-box", classes="modal-box"):
            yield Static(Text(inert_lines(self.question), style="bold"))
            if self.command:
                yield Static(Text("Equivalent command:", style="dim"))
                yield Static(Text("$ " + inert_lines(self.command)), classes="command")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Buttons mirror the y/n keys."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Close with the user's answer."""
        self.dismiss(yes)


class MessageScreen(ModalScreen[None]):
    """A read-only explanation (a Diagnosis or help text), closed with Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter", "dismiss_message", "Close")]

    def __init__(self, body: Text | str, title: str = "") -> None:
        super().__init__()
        self.body = body
        self.title_text = title

    def compose(self) -> ComposeResult:
        """Title and body."""
        with Vertical(classes="modal-box"):
            if self.title_text:
                yield Static(Text(inert(self.title_text), style="bold"))
            yield Static(Text(inert_lines(self.body)) if isinstance(self.body, str) else self.body)

    def action_dismiss_message(self) -> None:
        """Close the message."""
        self.dismiss(None)

    def on_click(self, _event: Any) -> None:
        """A click anywhere also closes it."""
        self.dismiss(None)


class ChooseScreen(ModalScreen[int | None]):
    """Pick one of several options (e.g. which fix to apply); returns its index or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[Text]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        """Title and the list."""
        with Vertical(classes="modal-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield OptionList(*[Option(o, id=str(i)) for i, o in enumerate(self.options)], id="choices")

    def on_mount(self) -> None:
        """Keyboard first: the list has focus."""
        self.query_one("#choices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter picks."""
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        """Esc backs out."""
        self.dismiss(None)
