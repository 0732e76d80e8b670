"""A full-screen look at one object (`y` YAML, `d` describe): scrollable, searchable by eye, saved where asked.

The text is outside text, so it is sanitized before anything else; YAML is highlighted by Pygments through
Rich's Syntax (a lexer, not markup), so no byte of the object is ever read as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import yaml
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from kftui.core.sanitize import inert_lines
from kftui.widgets.focus import focus_now

HIDDEN = ("managedFields",)
"""What `kubectl get -o yaml` leaves out by default (since 1.21), and so do we."""


def object_yaml(obj: dict[str, Any]) -> str:
    """An API object as kubectl prints it with -o yaml (managed fields dropped), made inert."""
    shown = dict(obj)
    meta = dict(shown.get("metadata") or {})
    for key in HIDDEN:
        meta.pop(key, None)
    if meta:
        shown["metadata"] = meta
    return inert_lines(yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, width=4096).rstrip("\n"))


def save_text(text: str, target: str) -> Path:
    """Write the text where the user said (creating folders), refusing to overwrite a directory."""
    path = Path(target.strip()).expanduser()
    if not target.strip():
        raise ValueError("path: give a file name")
    if path.is_dir():
        raise ValueError(f"path: {path} is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


class TextScreen(ModalScreen[None]):
    """One object's YAML or describe text; Esc goes back, ctrl+s asks where to save it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("w", "wrap", "Wrap"),
    ]
    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical { width: 100%; height: 100%; border: round $accent; background: $surface; }
    TextScreen #text-content { width: auto; }
    TextScreen #text-save { display: none; dock: bottom; }
    TextScreen #text-save.asking { display: block; }
    """

    def __init__(self, title: str, text: str, language: str | None = None, default_path: str = "") -> None:
        """`text` is outside text (made inert here); `language` 'yaml' highlights it."""
        super().__init__()
        self.title_text = title
        self.text = inert_lines(text)
        self.language = language
        self.default_path = default_path
        self.wrap = False

    def _renderable(self) -> Syntax | Text:
        """Highlighted when a lexer applies, else plain text."""
        if self.language:
            return Syntax(self.text, self.language, theme="ansi_dark", word_wrap=self.wrap, background_color="default")
        return Text(self.text, no_wrap=not self.wrap)

    def compose(self) -> ComposeResult:
        """The text, and a hidden path prompt for ctrl+s."""
        with Vertical():
            with ScrollableContainer(id="text-body") as body:
                body.border_title = Text(self.title_text)
                yield Static(self._renderable(), id="text-content")
            yield Input(value=self.default_path, placeholder="save to (Enter saves, Esc cancels)", id="text-save")

    def on_mount(self) -> None:
        """Keys scroll the text at once."""
        self.query_one("#text-body").focus()

    def action_back(self) -> None:
        """Close the prompt if open, else go back one level."""
        prompt = self.query_one("#text-save", Input)
        if prompt.has_class("asking"):
            prompt.remove_class("asking")
            self.query_one("#text-body").focus()
            return
        self.dismiss(None)

    def action_wrap(self) -> None:
        """Long lines wrap or scroll sideways."""
        self.wrap = not self.wrap
        self.query_one("#text-content", Static).update(self._renderable())

    def action_save(self) -> None:
        """Ask where to save (prefilled), never writing anywhere the user did not confirm."""
        prompt = self.query_one("#text-save", Input)
        prompt.add_class("asking")
        focus_now(prompt)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Save in a worker, then say where (or why not)."""
        event.stop()
        self._save(event.value)

    @work(thread=True, exclusive=True, group="text-save", description="saving text")
    def _save(self, target: str) -> None:
        """File I/O off the UI thread."""
        try:
            path = save_text(self.text, target)
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self.notify, inert_lines(str(exc)), severity="error", markup=False)
            return
        self.app.call_from_thread(self._saved, path)

    def _saved(self, path: Path) -> None:
        """Close the prompt and say where the file is."""
        self.query_one("#text-save", Input).remove_class("asking")
        self.query_one("#text-body").focus()
        self.notify(inert_lines(f"saved {path}"), markup=False)
