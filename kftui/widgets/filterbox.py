"""The `/` filter box: an Input whose Esc clears the filter (the k9s habit), even while it has focus."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterBox(Input):
    """Typing filters live; Enter keeps the filter; Esc clears it and gives the focus back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear filter", show=False)]

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
        """Tell the screen; it owns what the filter applies to."""
        self.post_message(self.Cleared(self))
