"""The `/` filter box: an Input whose Esc clears the filter (the k9s habit), even while it has focus, and whose Enter
and Esc give the focus back as they arrive, so keys typed after them reach the table (see widgets/focus.py)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from kftui.widgets.focus import focus_now


class FilterBox(Input):
    """Typing filters live; Enter keeps the filter; Esc clears it and gives the focus back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", show=False, priority=True),
        Binding("enter", "keep", "Keep filter", show=False, priority=True),
    ]
    back_to: Widget | None = None
    """Where Enter and Esc give the focus (the table the box filters)."""

    class Cleared(Message):
        """Esc in the box: the screen drops the filter."""

        def __init__(self, box: FilterBox) -> None:
            super().__init__()
            self.box = box

        @property
        def control(self) -> FilterBox:
            """The box, for `@on(..., selector)`."""
            return self.box

    def action_clear(self) -> None:
        """Give the focus back now; the clearing itself is a message, handled after the keys already typed."""
        self._give_back()
        self.post_message(self.Cleared(self))

    def action_keep(self) -> None:
        """Enter: the filter stays as typed (each key applied it); the focus goes back now."""
        self._give_back()

    def _give_back(self) -> None:
        if self.back_to is not None:
            focus_now(self.back_to)
