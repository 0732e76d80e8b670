"""`a`: pick one of a diagnosis's fixes, and fill the values kftui could not know, before it is run."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kftui.core.diagnosis import Fix
from kftui.core.sanitize import inert


class FixPicker(ModalScreen[int | None]):
    """The fixes that have a command, each with it; Enter picks one, Esc backs out."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    FixPicker { align: center middle; }
    FixPicker > VerticalScroll { width: 100; height: auto; max-height: 80%; border: round $accent;
                                 background: $surface; }
    """

    def __init__(self, title: str, fixes: list[Fix]) -> None:
        """Only fixes with a command are offered: the rest are advice, shown in the details."""
        super().__init__()
        self.title_text = title
        self.fixes = fixes

    def compose(self) -> ComposeResult:
        """One option a fix: its title, then its command."""
        with VerticalScroll() as box:
            box.border_title = Text(f"apply a fix · {inert(self.title_text)}")
            options = []
            for fix in self.fixes:
                label = Text(inert(fix.title) + "\n", style="bold")
                label.append("  $ " + inert(fix.command or ""), style="cyan")
                options.append(Option(label))
            yield OptionList(*options, id="fix-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """That one."""
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        """None."""
        self.dismiss(None)


class ValuesForm(ModalScreen[dict[str, str] | None]):
    """One input per stand-in left in the command; Enter on the last runs the check, Esc backs out."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ValuesForm { align: center middle; }
    ValuesForm > VerticalScroll { width: 80; height: auto; border: round $accent; background: $surface;
                                  padding: 0 1; }
    ValuesForm #values-error { color: $error; }
    """

    def __init__(self, command: str, names: list[str], known: dict[str, str]) -> None:
        """`known` prefills what kftui has (the project from the context, ...)."""
        super().__init__()
        self.command = command
        self.names = names
        self.known = known

    def compose(self) -> ComposeResult:
        """The command, then the inputs."""
        with VerticalScroll() as box:
            box.border_title = Text("values the fix needs")
            yield Static(Text("$ " + inert(self.command), style="cyan"))
            for name in self.names:
                yield Label(name)
                yield Input(self.known.get(name, ""), id=f"value-{name}")
            yield Static("", id="values-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on; on the last input, every value must be given."""
        event.stop()
        if event.input.id != f"value-{self.names[-1]}":
            self.focus_next()
            return
        values = {n: self.query_one(f"#value-{n}", Input).value.strip() for n in self.names}
        missing = [n for n, v in values.items() if not v]
        if missing:
            self.query_one("#values-error", Static).update(Text(f"{missing[0]}: give a value"))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        """Nothing runs."""
        self.dismiss(None)
