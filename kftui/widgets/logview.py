"""A log pane that stays fast at a million lines: it keeps plain strings and draws only what is visible."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kftui.core.logbuffer import sanitize


class LineRing:
    """A bounded list of lines with O(1) indexing; the oldest lines fall off past `limit`."""

    __slots__ = ("_lines", "_start", "dropped", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lines: list[str] = []
        self._start = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._lines) - self._start

    def __getitem__(self, index: int) -> str:
        return self._lines[self._start + index]

    def extend(self, lines: list[str]) -> None:
        """Append a batch; compaction is amortised so appends stay O(1)."""
        self._lines.extend(lines)
        excess = len(self) - self.limit
        if excess > 0:
            self._start += excess
            self.dropped += excess
            if self._start > self.limit:
                del self._lines[: self._start]
                self._start = 0

    def clear(self) -> None:
        """Forget every line (a new pod or container was chosen)."""
        self._lines.clear()
        self._start = 0
        self.dropped = 0

    def tail(self, count: int) -> list[str]:
        """The last `count` lines, for saving or tests."""
        return self._lines[max(self._start, len(self._lines) - count) :]


class LogView(ScrollView, can_focus=True):
    """Virtual log pane: writes are batched by the caller, rendering touches only the visible rows."""

    DEFAULT_CSS = """
    LogView { background: $surface; color: $foreground; scrollbar-gutter: stable; }
    """

    follow: reactive[bool] = reactive(True)
    """Stick to the bottom as lines arrive; turned off when the user scrolls up."""

    class Followed(Message):
        """Autoscroll was paused or resumed, so the status line can say so."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, max_lines: int = 100_000, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.lines = LineRing(max_lines)
        self._width = 0
        self._highlight: re.Pattern[str] | None = None
        self._match_style = Style(reverse=True, bold=True)

    @property
    def line_count(self) -> int:
        """How many lines are retained now."""
        return len(self.lines)

    def write_lines(self, raw: Iterable[str]) -> None:
        """Append a batch in one refresh; lines are made inert here, once, so rendering never re-checks."""
        batch = [sanitize(line) for line in raw]
        if not batch:
            return
        self.lines.extend(batch)
        widest = max(map(len, batch))
        self._width = max(self._width, widest)
        self.virtual_size = Size(self._width, len(self.lines))
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def clear(self) -> None:
        """Empty the pane for a new source."""
        self.lines.clear()
        self._width = 0
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def set_highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Mark search matches on screen."""
        self._highlight = pattern
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """Draw one row: slice the stored string to the viewport, no per-line objects kept."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        text = self.lines[index][scroll_x : scroll_x + width]
        base = self.rich_style
        segments = [Segment(text, base)] if self._highlight is None else self._highlighted(text, base)
        return Strip(segments).adjust_cell_length(width, base)

    def _highlighted(self, text: str, base: Style) -> list[Segment]:
        assert self._highlight is not None
        segments: list[Segment] = []
        pos = 0
        hit = base + self._match_style
        for match in self._highlight.finditer(text):
            if match.start() == match.end():
                continue
            segments.append(Segment(text[pos : match.start()], base))
            segments.append(Segment(match.group(), hit))
            pos = match.end()
        segments.append(Segment(text[pos:], base))
        return segments

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling up pauses autoscroll; reaching the bottom resumes it (the stern/k9s habit)."""
        super().watch_scroll_y(old, new)
        at_end = new >= self.max_scroll_y
        if new < old and not at_end and self.follow:
            self.follow = False
            self.post_message(self.Followed(False))
        elif at_end and not self.follow:
            self.follow = True
            self.post_message(self.Followed(True))
