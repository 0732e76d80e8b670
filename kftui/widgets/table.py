"""A table that draws only the rows on screen, straight from a TableModel (Line API, no widget per row or cell).

The cursor belongs to a row key, not a position: a batch that re-sorts or filters keeps it on its object. Column
widths follow the terminal: the growing column (the name) takes the spare room and gives it back first; when
the columns still do not fit, the table scrolls sideways and the header shows « » where columns are cut off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kftui.core.table import TableModel

GAP = 1
"""Spaces between columns."""
MORE_LEFT, MORE_RIGHT = "«", "»"
SORT_MARK = {False: "↑", True: "↓"}
TAIL = 6
"""Cells a middle cut keeps of a text's end: a pod's `-` and its five-character suffix, which tell replicas apart."""


def fit(text: str, width: int, right: bool = False, middle: bool = False) -> str:
    """A cell cut or padded to exactly `width` cells; a cut shows as … (inert text in, inert text out), at the end,
    or with `middle` before the text's last TAIL cells (the head keeps the app's name, the tail the replica's)."""
    if width <= 0:
        return ""
    if text.isascii():
        if len(text) > width:
            if middle and width > 2 * TAIL:
                return text[:width - 1 - TAIL] + "…" + text[len(text) - TAIL:]
            return text[: width - 1] + "…"
        return text.rjust(width) if right else text.ljust(width)
    size = cell_len(text)
    if size > width:
        if middle and width > 2 * TAIL:
            return set_cell_size(text, width - 1 - TAIL) + "…" + _tail(text, TAIL)
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - size)
    return pad + text if right else text + pad


def _tail(text: str, cells: int) -> str:
    """The end of `text` that fills at most `cells` cells, padded on the left to exactly that many."""
    taken, used = len(text), 0
    while taken > 0 and used + cell_len(text[taken - 1]) <= cells:
        taken -= 1
        used += cell_len(text[taken])
    return " " * (cells - used) + text[taken:]


def layout(natural: list[int], grow: list[bool], min_widths: list[int], width: int) -> list[int]:
    """Column widths for a terminal `width`: the growing column (the name) gets room up to its widest cell as the
    terminal widens, and is the first to give room back when it narrows; the rest stays at natural width."""
    widths = list(natural)
    total = sum(widths) + GAP * (len(widths) - 1)
    growers = [i for i, g in enumerate(grow) if g]
    if not growers:
        return widths
    if total > width:
        excess = total - width
        for i in growers:
            give = min(excess, widths[i] - min_widths[i])
            if give > 0:
                widths[i] -= give
                excess -= give
    return widths


class VirtualTable(ScrollView, can_focus=True):
    """Rows of a TableModel, drawn on demand; keyed cursor, sort keys, horizontal scroll."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "Top", show=False),
        Binding("end,G", "edge(1)", "Bottom", show=False),
        Binding("left,h", "pan(-8)", "Scroll left", show=False),
        Binding("right", "pan(8)", "Scroll right", show=False),
        Binding("enter", "choose", "Select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"vtable--header", "vtable--cursor", "vtable--more"}
    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        & > .vtable--header { text-style: bold; background: $panel; color: $foreground; }
        & > .vtable--more { text-style: bold; color: $accent; background: $panel; }
        & > .vtable--cursor { background: $block-cursor-blurred-background; }
        &:focus > .vtable--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor is on another row (moved by the user, or its row vanished)."""

        def __init__(self, table: VirtualTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            """The table, for `@on(..., selector)`."""
            return self.table

    class Chosen(Message):
        """Enter on a row."""

        def __init__(self, table: VirtualTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            """The table, for `@on(..., selector)`."""
            return self.table

    def __init__(self, model: TableModel[Any], clock: Callable[[], datetime] | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.model = model
        self.clock = clock
        self.cursor = 0
        self.cursor_key: str | None = None
        self.hscroll = 0
        self._seen_version = -1
        self._seen_layout = -1
        self.on_painted: Callable[[], None] | None = None
        """Called once, right after the first frame that drew rows (work that would slow that frame waits)."""
        self._frame: tuple[Any, ...] | None = None
        self._style_cache: dict[str, Style] = {}

    # ---- model -> screen -------------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """The visible row keys, top to bottom."""
        return self.model.visible()

    @property
    def row_count(self) -> int:
        """Rows passing the filter."""
        return self.model.shown

    def sync(self) -> None:
        """The model changed: keep the cursor on its row, resize the scroll area, redraw (one call per batch)."""
        if self.model.version == self._seen_version:
            return
        self._seen_version = self.model.version
        touched = self.model.take_touched()
        if self.model.layout_version == self._seen_layout:
            self._redraw_rows(touched)
            return
        self._seen_layout = self.model.layout_version
        keys = self.model.visible()
        index = self.model.index_of(self.cursor_key)
        if index is None:  # its row is gone or filtered out: stay at the same height, on whatever is there now
            index = min(self.cursor, len(keys) - 1) if keys else 0
        self.cursor = max(0, index)
        self.virtual_size = Size(self.size.width, len(keys) + 1)
        self._keep_cursor_visible()
        self.refresh()
        new_key = keys[self.cursor] if keys else None
        if new_key != self.cursor_key:
            self.cursor_key = new_key
            self.post_message(self.Highlighted(self, new_key))

    def _redraw_rows(self, keys: set[str]) -> None:
        """Rows rewritten in place: draw again only the screen lines they are on, if any."""
        top, height, width = int(self.scroll_y), self.size.height - 1, self.size.width
        for key in keys:
            index = self.model.index_of(key)
            if index is not None and top <= index < top + height:
                self.refresh(Region(0, index - top + 1, width, 1))

    def move_to(self, key: str) -> bool:
        """Put the cursor on a row by key (False when that row is not shown)."""
        self.sync()
        index = self.model.index_of(key)
        if index is None:
            return False
        self._set_cursor(index)
        return True

    def _set_cursor(self, index: int) -> None:
        keys = self.model.visible()
        if not keys:
            return
        self.cursor = max(0, min(index, len(keys) - 1))
        self._keep_cursor_visible()
        self.refresh()
        key = keys[self.cursor]
        if key != self.cursor_key:
            self.cursor_key = key
            self.post_message(self.Highlighted(self, key))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_cursor_visible(self) -> None:
        self._scroll_to_cursor()
        self.call_after_refresh(self._scroll_to_cursor)  # again once laid out: a new height changes the limits

    def _scroll_to_cursor(self) -> None:
        page = self._page()
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    # ---- keys ------------------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        """Move the cursor by rows."""
        self._set_cursor(self.cursor + step)

    def action_page(self, pages: int) -> None:
        """Move the cursor by screens."""
        self._set_cursor(self.cursor + pages * self._page())

    def action_edge(self, end: int) -> None:
        """First or last row."""
        self._set_cursor(self.model.shown - 1 if end else 0)

    def action_pan(self, cells: int) -> None:
        """Scroll sideways to see the columns that do not fit."""
        total = sum(self._widths()) + GAP * (len(self.model.columns) - 1)
        self.hscroll = max(0, min(self.hscroll + cells, total - self.scrollable_content_region.width))
        self.refresh()

    def action_sort(self, column: str) -> None:
        """Sort by a column (again: reverse), keeping the cursor on its row."""
        self.model.set_sort(column)
        self.sync()
        index = self.model.index_of(self.cursor_key)
        if index is not None:
            self._set_cursor(index)
            self.scroll_to(y=max(0, index - self._page() // 2), animate=False, immediate=True)

    def action_choose(self) -> None:
        """Enter: tell the screen."""
        if self.cursor_key is not None:
            self.post_message(self.Chosen(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column; on a row, selects it."""
        if event.y == 0:
            x = event.x + self.hscroll
            for column, (start, width) in zip(self.model.columns, self._spans(), strict=True):
                if start <= x < start + width:
                    self.action_sort(column.key)
                    return
            return
        self._set_cursor(int(self.scroll_y) + event.y - 1)

    def on_resize(self) -> None:
        """Widths follow the terminal."""
        self.virtual_size = Size(self.size.width, self.model.shown + 1)
        self._keep_cursor_visible()

    # ---- drawing ---------------------------------------------------------------------------------

    def _widths(self) -> list[int]:
        columns = self.model.columns
        return layout(self.model.widths(), [c.grow for c in columns], [c.min_width for c in columns],
                      self.scrollable_content_region.width)

    def _spans(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        x = 0
        for width in self._widths():
            out.append((x, width))
            x += width + GAP
        return out

    def _style(self, name: str) -> Style:
        style = self._style_cache.get(name)
        if style is None:
            style = Style.parse(name) if name else Style()
            self._style_cache[name] = style
        return style

    def render_lines(self, crop: Any) -> list[Strip]:
        """Resolve widths and styles once per frame, not once per row."""
        self.sync()
        self._frame = (
            self.rich_style,
            self.get_component_rich_style("vtable--header"),
            self.get_component_rich_style("vtable--cursor"),
            self.get_component_rich_style("vtable--more"),
            self._widths(),
            self.scrollable_content_region.width,
            self.clock() if self.clock is not None else None,
        )
        lines = super().render_lines(crop)
        if self.on_painted is not None and self.model.shown:
            hook, self.on_painted = self.on_painted, None
            self.call_later(hook)  # after this frame is out, not inside it
        return lines

    def _crop(self, segments: list[Segment], width: int, base: Style) -> Strip:
        return Strip(segments).crop(self.hscroll, self.hscroll + width).adjust_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        """The header on the first line, then the rows under the scroll position."""
        if self._frame is None:
            return Strip.blank(self.size.width)
        base, header, cursor, more, widths, width, now = self._frame
        if width <= 0:
            return Strip.blank(width, base)
        columns = self.model.columns
        if y == 0:
            return self._header(widths, width, base + header, base + more)
        keys = self.model.visible()
        row = int(self.scroll_y) + y - 1
        if row >= len(keys):
            return Strip.blank(width, base)
        key = keys[row]
        cells = self.model.cells(key, now)
        styles = self.model.styles(key)
        row_style = base + cursor if row == self.cursor else base
        segments: list[Segment] = []
        for i, column in enumerate(columns):
            if i:
                segments.append(Segment(" " * GAP, row_style))
            style = row_style + self._style(styles[i]) if styles[i] and row != self.cursor else row_style
            segments.append(Segment(fit(cells[i], widths[i], column.right, column.cut_middle), style))
        return self._crop(segments, width, row_style)

    def _header(self, widths: list[int], width: int, style: Style, more: Style) -> Strip:
        segments: list[Segment] = []
        for i, column in enumerate(self.model.columns):
            if i:
                segments.append(Segment(" " * GAP, style))
            label = column.label
            if column.key == self.model.sort_column:
                label += SORT_MARK[self.model.reverse]
            segments.append(Segment(fit(label, widths[i], column.right), style))
        strip = self._crop(segments, width, style)
        total = sum(widths) + GAP * (len(widths) - 1)
        left, right = self.hscroll > 0, self.hscroll + width < total
        if not (left or right):
            return strip
        inner = strip.crop(1 if left else 0, width - 1 if right else width)
        parts = ([Segment(MORE_LEFT, more)] if left else []) + list(inner) + (
            [Segment(MORE_RIGHT, more)] if right else [])
        return Strip(parts).adjust_cell_length(width, style)

    def cell_text(self, key: str, column: str) -> str:
        """What a cell shows (for tests and copy)."""
        return self.model.cell(key, column, self.clock() if self.clock is not None else None)
