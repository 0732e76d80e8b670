"""A watch view's body: the `/` filter box over a virtual table of one model, with the view's own keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from kftui.core.sanitize import inert
from kftui.core.table import TableModel
from kftui.widgets.filterbox import FilterBox
from kftui.widgets.focus import focus_now
from kftui.widgets.table import VirtualTable


class TableView(Vertical):
    """Filter and table of one model; says when what it shows changed, so the screen can retitle the pane."""

    DEFAULT_CSS = """
    TableView { height: 1fr; }
    """

    class Changed(Message):
        """What the view shows changed (filter, rows): its title may have."""

        def __init__(self, view: TableView) -> None:
            super().__init__()
            self.view = view

        @property
        def control(self) -> TableView:
            """The view, for `@on(..., selector)`."""
            return self.view

    def __init__(self, model: TableModel[Any], *, noun: str, table_id: str, placeholder: str,
                 clock: Callable[[], datetime] | None = None, keys: Sequence[Binding] = (),
                 actions: Mapping[str, Callable[[TableView], None]] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.noun = noun
        self.table_id = table_id
        self.placeholder = placeholder
        self.clock = clock
        self.keys = tuple(keys)
        self.actions = dict(actions or {})

    def compose(self) -> ComposeResult:
        """The (hidden) filter box, then the table."""
        yield FilterBox(placeholder=self.placeholder, id=f"{self.table_id}-filter")
        yield VirtualTable(self.model, clock=self.clock, id=self.table_id)

    def on_mount(self) -> None:
        """Sort keys from the columns (shift+letter, k9s), then the view's own keys; the footer lists them."""
        self.box.back_to = self.table
        for column in self.model.columns:
            if column.sort_key:
                self._bindings.bind(column.sort_key, f"sort('{column.key}')", f"Sort {column.label.lower()}",
                                    show=False)
        for binding in self.keys:
            self._bindings.bind(binding.key, binding.action, binding.description, show=binding.show)

    def action_sort(self, column: str) -> None:
        """Sort by a column (again: reverse), the cursor staying on its row."""
        self.table.action_sort(column)
        self.post_message(self.Changed(self))

    def action_view(self, name: str) -> None:
        """A view's own key: `view('NAME')` calls the view's action NAME with this widget."""
        handler = self.actions.get(name)
        if handler is not None:
            handler(self)

    @property
    def table(self) -> VirtualTable:
        """The table."""
        return self.query_one(f"#{self.table_id}", VirtualTable)

    @property
    def box(self) -> FilterBox:
        """The filter box."""
        return self.query_one(f"#{self.table_id}-filter", FilterBox)

    # ---- filter ----------------------------------------------------------------------------------

    def open_filter(self) -> None:
        """`/`: show the box with what is there selected, so typing replaces it."""
        box = self.box
        box.add_class("visible")
        focus_now(box)
        box.call_later(box.select_all)  # after the keys the box already has queued: the next keys replace them

    def clear_filter(self) -> None:
        """Esc: no filter, box hidden, focus back on the table."""
        box = self.box
        with self.prevent(Input.Changed):
            box.value = ""
        box.remove_class("visible")
        self.set_filter("")
        focus_now(self.table)

    def set_filter(self, text: str) -> None:
        """One pass over the model; the cursor stays on its row if still shown."""
        self.model.set_filter(text)
        self.table.sync()
        self.post_message(self.Changed(self))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    @on(FilterBox.Cleared)
    def _cleared(self, event: FilterBox.Cleared) -> None:
        event.stop()
        self.clear_filter()

    # ---- rows ------------------------------------------------------------------------------------

    def synced(self) -> None:
        """The model took a batch: redraw, keep the cursor, say so."""
        self.table.sync()
        self.post_message(self.Changed(self))

    def title(self, scope: str) -> Text:
        """noun · scope · count (shown/total when filtered) · the filter: a Text, never markup."""
        out = Text.assemble(self.noun, " · ", inert(scope), " · ")
        if self.model.filter_text:
            out.append(f"{self.model.shown}/{len(self.model)} · filter /")
            out.append(inert(self.model.filter_text), style="bold")
            out.append("/")
        else:
            out.append(str(len(self.model)))
        return out
