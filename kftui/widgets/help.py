"""`?`: the keys of the screen underneath, read from its live bindings, so the help can never drift from them."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

_KEY_NAMES = {"escape": "Esc", "enter": "Enter", "question_mark": "?", "slash": "/", "colon": ":", "tab": "Tab",
              "shift+tab": "Shift+Tab", "plus": "+", "minus": "-", "end": "End", "home": "Home", "up": "↑",
              "down": "↓", "left": "←", "right": "→", "pageup": "PgUp", "pagedown": "PgDn", "space": "Space"}


def key_label(key: str) -> str:
    """How a key is written on the help screen (`ctrl+d`, `F`, `Esc`)."""
    parts = key.split("+")
    if len(parts) > 1 and parts[0] == "shift" and len(parts[-1]) == 1:
        return parts[-1].upper()
    return _KEY_NAMES.get(key, key)


_NAVIGATION = {"scroll_up", "scroll_down", "scroll_left", "scroll_right", "scroll_home", "scroll_end", "page_up",
               "page_down", "page_left", "page_right", "cursor_up", "cursor_down", "cursor_left", "cursor_right",
               "focus_next", "focus_previous", "select_cursor", "cursor", "page", "edge", "pan", "choose", "copy_text"}
"""Widgets' own movement keys: listed last, so the keys that do something come first on a small terminal."""


def _where(owner: str) -> str:
    """A node's class as a place on screen (WatchScreen -> watch, VirtualTable -> table, KftuiApp -> everywhere)."""
    if owner.endswith("App"):
        return "everywhere"
    name = owner.removesuffix("Screen").removesuffix("View").removeprefix("Virtual") or owner
    return name.lower()


def key_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every described binding active on a screen: the screen's own keys first, then the
    focused view's, then what works everywhere, then the widgets' movement keys."""
    rows: dict[tuple[int, str, str], list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description:
            continue
        owner = type(active.node).__name__
        if binding.action.split("(")[0].rsplit(".", 1)[-1] in _NAVIGATION:
            rank = 3
        elif owner.endswith("App"):
            rank = 2
        else:
            rank = 0 if active.node is screen else 1
        rows.setdefault((rank, _where(owner), binding.description), []).append(key_label(key))
    ordered = sorted(rows.items(), key=lambda item: item[0][0])
    return [(where, " ".join(dict.fromkeys(keys)), what) for (_rank, where, what), keys in ordered]


HELP_BINDING = Binding("question_mark", "keys", "Help")
"""`?` on every screen: an app-level key, so a screen cannot forget it (its action is `show_keys`)."""


def show_keys(app: App[Any]) -> None:
    """Open the keys of the screen the user is on (a help screen already open stays the only one)."""
    screen = app.screen
    if isinstance(screen, HelpScreen):
        return
    app.push_screen(HelpScreen(type(screen).__name__.removesuffix("Screen"), key_rows(screen)))


class HelpScreen(ModalScreen[None]):
    """A list of keys, grouped by where they act; Esc or `?` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close", show=True)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100%; height: 100%; border: round $accent; background: $surface;
                                  padding: 0 1; }
    """

    def __init__(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        """Rows come from key_rows() of the screen the user was on."""
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        """One table per group of keys."""
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("keys", style="bold cyan", no_wrap=True)
        table.add_column("what it does")
        last = ""
        for where, keys, what in self.rows:
            table.add_row(Text(where if where != last else ""), Text(keys), Text(what))
            last = where
        with VerticalScroll(id="help-body") as body:
            body.border_title = Text(f"Keys: {self.title_text}")
            body.border_subtitle = Text("Esc or ? closes")
            yield Static(table)

    def action_close(self) -> None:
        """Back to where the user was."""
        self.dismiss(None)
