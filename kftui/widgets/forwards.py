"""Ask for the ports of a new forward (F), and list the running ones (`:pf`) with a key to stop each."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kftui.core.sanitize import inert


def parse_port(text: str, field: str, allow_zero: bool = False) -> int:
    """A port number from what was typed (ASCII digits only), or ValueError naming the field and the rule."""
    value = text.strip()
    low = 0 if allow_zero else 1
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= 65535:
        raise ValueError(f"{field}: a port from {low} to 65535" + (" (0 picks a free one)" if allow_zero else ""))
    return int(value)


class ForwardAsk(ModalScreen[tuple[int, int] | None]):
    """Two fields: the pod's port and the local one; Enter starts, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ForwardAsk { align: center middle; }
    ForwardAsk > Vertical { width: 64; height: auto; border: round $accent; background: $surface; padding: 0 1; }
    ForwardAsk #forward-error { color: $error; }
    """

    def __init__(self, what: str, remote: int) -> None:
        """Defaults: the object's port, and the same port locally."""
        super().__init__()
        self.what = what
        self.remote = remote

    def compose(self) -> ComposeResult:
        """The two ports and a line for what is wrong."""
        with Vertical() as box:
            box.border_title = Text(f"port-forward · {inert(self.what)}")
            yield Label("pod port")
            yield Input(str(self.remote), id="forward-remote")
            yield Label("local port (0: any free one)")
            yield Input(str(self.remote), id="forward-local")
            yield Static("", id="forward-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Check both; dismiss with them, or say which is wrong."""
        event.stop()
        try:
            remote = parse_port(self.query_one("#forward-remote", Input).value, "pod port")
            local = parse_port(self.query_one("#forward-local", Input).value, "local port", allow_zero=True)
        except ValueError as exc:
            self.query_one("#forward-error", Static).update(Text(str(exc)))
            return
        self.dismiss((remote, local))

    def action_cancel(self) -> None:
        """Nothing started."""
        self.dismiss(None)


class ForwardList(ModalScreen[int | None]):
    """The running forwards; Enter or ctrl+d stops the highlighted one, Esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+d", "stop", "Stop forward"),
    ]
    DEFAULT_CSS = """
    ForwardList { align: center middle; }
    ForwardList > Vertical { width: 90; height: auto; max-height: 80%; border: round $accent; background: $surface; }
    """

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        """(url, what) for each forward."""
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        """The list, or a line saying there is none."""
        with Vertical() as box:
            box.border_title = Text(f"port-forwards · {len(self.rows)}")
            if not self.rows:
                yield Static(Text("No port-forwards. Select a pod or notebook and press F."))
            else:
                yield OptionList(*[Option(Text(f"{url}  →  {inert(what)}")) for url, what in self.rows],
                                 id="forward-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter stops the chosen forward."""
        self.dismiss(event.option_index)

    def action_stop(self) -> None:
        """ctrl+d stops the highlighted forward."""
        lists = self.query(OptionList)
        self.dismiss(lists.first().highlighted if lists else None)

    def action_back(self) -> None:
        """Leave them running."""
        self.dismiss(None)
