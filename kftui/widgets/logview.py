"""A log pane that stays fast at a million lines: it keeps plain strings and draws only what is visible."""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kftui.core.sanitize import inert

CHUNK_LINES = 2048
"""Lines per sealed chunk: small enough that dropping whole chunks keeps memory near the limit."""
PREFIX_COLOURS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "bright_green")


_ASCII_CONTROLS = tuple(chr(c) for c in (*range(0x20), 0x7F))
SMALL_BATCH = 256
"""Batches smaller than this join the ring's open tail instead of becoming a chunk of their own."""


def _clean(text: str) -> bool:
    """Whether joined text needs no escaping: one memchr per control character for ASCII (the usual case)."""
    if text.isascii():
        return not any(ch in text for ch in _ASCII_CONTROLS)
    return text.isprintable()  # no C0/C1 controls, no bidi overrides (category Cf), no tab or newline


class _Joined:
    """Many lines as one string plus start offsets: a line costs its characters and 4 bytes."""

    __slots__ = ("offs", "text", "widest")

    def __init__(self, lines: list[str], text: str | None = None) -> None:
        self.text = "".join(lines) if text is None else text
        self.offs = array("I", accumulate(map(len, lines), initial=0))
        self.widest = max(lines, key=len) if lines else ""
        """The longest stored line (its shown width is measured when the view knows whether lines are stamped)."""

    def __len__(self) -> int:
        return len(self.offs) - 1

    def __getitem__(self, j: int) -> str:
        offs = self.offs
        return self.text[offs[j] : offs[j + 1]]

    def slice(self, a: int, b: int) -> list[str]:
        """Lines a..b-1."""
        text, offs = self.text, self.offs
        return [text[offs[j] : offs[j + 1]] for j in range(a, b)]

    def nbytes(self) -> int:
        """Memory held (string and offsets)."""
        return sys.getsizeof(self.text) + sys.getsizeof(self.offs) + sys.getsizeof(self)


Chunk = _Joined | list[str]


def prepare(raw: list[str]) -> list[Chunk]:
    """A batch made inert and cut into storable chunks; safe to call on a reader thread, so the UI only appends.

    Clean batches (the usual case) cost a join, a few memchr scans and the offsets; only chunks that contain a
    control character are escaped line by line. ASCII chunks are stored joined; others keep one str per line,
    so a single wide character never widens its neighbours.
    """
    if len(raw) < SMALL_BATCH:
        return [raw if _clean("".join(raw)) else [inert(line) for line in raw]] if raw else []
    pieces: list[Chunk] = []
    for i in range(0, len(raw), CHUNK_LINES):
        part = raw[i : i + CHUNK_LINES]
        text = "".join(part)
        if not _clean(text):
            part = [inert(line) for line in part]
            text = "".join(part)
        pieces.append(_Joined(part, text) if text.isascii() else part)
    return pieces


class LineRing:
    """The newest `limit` lines, addressed by absolute number since clear(); the oldest fall off in chunks.

    Sealed chunks cover [starts[0], tail_start) without gaps, the open tail (small batches) covers
    [tail_start, end). Lines must already be inert (see prepare()).
    """

    __slots__ = ("_chunks", "_starts", "_tail", "_tail_start", "end", "first", "limit")

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = limit
        self._chunks: list[Chunk] = []
        self._starts: list[int] = []
        self._tail: list[str] = []
        self._tail_start = 0
        self.first = 0
        """Absolute number of the oldest retained line (== lines dropped since clear)."""
        self.end = 0
        """Absolute number one past the newest line (== lines ever added since clear)."""

    @property
    def dropped(self) -> int:
        """Lines that fell off the front since clear()."""
        return self.first

    def __len__(self) -> int:
        return self.end - self.first

    def __getitem__(self, index: int) -> str:
        """Line by position among the retained ones (0 = oldest; negative counts from the newest)."""
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self.line(self.first + index)

    def line(self, number: int) -> str:
        """Line by absolute number (must be retained)."""
        if number >= self._tail_start:
            return self._tail[number - self._tail_start]
        k = bisect_right(self._starts, number) - 1
        return self._chunks[k][number - self._starts[k]]

    def extend(self, lines: list[str]) -> None:
        """Append a batch of inert lines (prepared here, on the caller's thread)."""
        self.extend_chunks(prepare(lines))

    def extend_chunks(self, pieces: list[Chunk]) -> None:
        """Append prepared chunks: O(chunks), so a UI tick stays short however many lines arrived."""
        new_end = self.end + sum(map(len, pieces))
        new_first = max(self.first, new_end - self.limit)
        pos = self.end
        for piece in pieces:
            n = len(piece)
            if pos + n <= new_first:  # wholly dropped on arrival, and so is everything before it
                self._chunks.clear()
                self._starts.clear()
                self._tail = []
                pos += n
                self._tail_start = pos
                continue
            if isinstance(piece, list) and n < SMALL_BATCH:
                self._tail.extend(piece)
                if len(self._tail) >= CHUNK_LINES:
                    self._seal_tail(pos + n)
            else:
                self._seal_tail(pos)
                self._chunks.append(piece)
                self._starts.append(pos)
                self._tail_start = pos + n
            pos += n
        self.end = new_end
        self.first = new_first
        self._trim()

    def _seal_tail(self, end: int) -> None:
        """Turn the open tail (lines up to `end`) into a chunk."""
        if self._tail:
            tail = self._tail
            joined = _Joined(tail)
            self._chunks.append(joined if joined.text.isascii() else tail)
            self._starts.append(self._tail_start)
            self._tail = []
        self._tail_start = end

    def _trim(self) -> None:
        """Free chunks whose every line has been dropped."""
        k = 0
        starts = self._starts
        while k < len(starts) and (starts[k + 1] if k + 1 < len(starts) else self._tail_start) <= self.first:
            k += 1
        if k:
            del self._chunks[:k]
            del starts[:k]

    def clear(self) -> None:
        """Forget every line (a new pod or container was chosen)."""
        self._chunks.clear()
        self._starts.clear()
        self._tail = []
        self._tail_start = self.first = self.end = 0

    def iter_range(self, a: int, b: int) -> Iterator[str]:
        """Lines with absolute numbers a..b-1 (clamped to what is retained), oldest first."""
        a, b = max(a, self.first), min(b, self.end)
        pos = a
        while pos < b and pos < self._tail_start:
            k = bisect_right(self._starts, pos) - 1
            start = self._starts[k]
            chunk = self._chunks[k]
            stop = min(b, start + len(chunk))
            yield from (chunk.slice(pos - start, stop - start) if isinstance(chunk, _Joined)
                        else chunk[pos - start : stop - start])
            pos = stop
        if pos < b:
            yield from self._tail[pos - self._tail_start : b - self._tail_start]

    def __iter__(self) -> Iterator[str]:
        return self.iter_range(self.first, self.end)

    def tail(self, count: int) -> list[str]:
        """The newest `count` lines, oldest first."""
        return list(self.iter_range(self.end - max(0, count), self.end))

    def nbytes(self) -> int:
        """Memory held by the stored lines (strings, offsets, lists), for the bench."""
        total = sys.getsizeof(self._chunks) + sys.getsizeof(self._starts) + sys.getsizeof(self._tail)
        for chunk in self._chunks:
            total += chunk.nbytes() if isinstance(chunk, _Joined) else sys.getsizeof(chunk) + sum(
                map(sys.getsizeof, chunk))
        return total + sum(map(sys.getsizeof, self._tail))


class RetainedText:
    """A read-only view of a LogView's retained lines without their API timestamps."""

    __slots__ = ("_view",)

    def __init__(self, view: LogView) -> None:
        self._view = view

    def __len__(self) -> int:
        return len(self._view.ring)

    def __getitem__(self, index: int) -> str:
        return self._view.body(self._view.ring[index])

    def __iter__(self) -> Iterator[str]:
        return map(self._view.body, self._view.ring)

    @property
    def dropped(self) -> int:
        """Lines that fell off the front."""
        return self._view.ring.dropped


def split_stamp(line: str) -> tuple[str, str]:
    """("timestamp", "rest") of a line the API sent with timestamps=true."""
    stamp, _, rest = line.partition(" ")
    return stamp, rest


def prefix_colour(name: str) -> str:
    """A stable colour per container name (crc32, so it is the same in every run)."""
    return PREFIX_COLOURS[zlib.crc32(name.encode()) % len(PREFIX_COLOURS)]


class LogView(ScrollView, can_focus=True):
    """Virtual log pane: writes are batched by the caller, rendering touches only the visible rows.

    Lines may carry the API timestamp as their first word (`stamped`) and a `[container] ` prefix after it
    (`prefixed`); both are cut and coloured only when a row is drawn. Filters and search see the text
    after the timestamp, prefix included.
    """

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
        self.ring = LineRing(max_lines)
        """Every retained line as stored (API timestamp first when `stamped`)."""
        self.stamped = False
        """Lines start with the API timestamp (hidden unless show_timestamps)."""
        self.prefixed = False
        """Lines (after the timestamp) start with `[container] `, coloured per container."""
        self.show_timestamps = False
        self.wrap = False
        self._width = 0
        self._highlight: re.Pattern[str] | None = None
        self._include: re.Pattern[str] | None = None
        self._exclude: re.Pattern[str] | None = None
        self._shown: array[int] | None = None  # absolute numbers passing the filters (None: no filter)
        self._shown_head = 0
        self.current: int | None = None
        """Absolute number of the line the last search jump landed on."""
        self._match_style = Style(reverse=True, bold=True)
        self._current_style = Style(underline=True, bold=True)
        self._stamp_style = Style(dim=True)
        self._jumping = False
        self._end_pending = False
        self._frame: tuple[Style, int] | None = None
        self._wrap_cache: tuple[tuple[object, ...], list[tuple[int, int]]] | None = None

    # ---- content ---------------------------------------------------------------------------------

    @property
    def lines(self) -> RetainedText:
        """The retained lines as text, without API timestamps (what callers and tests usually want)."""
        return RetainedText(self)

    @property
    def line_count(self) -> int:
        """How many lines are retained now."""
        return len(self.ring)

    @property
    def row_count(self) -> int:
        """How many lines pass the filters (the rows one can scroll through)."""
        if self._shown is None:
            return len(self.ring)
        return len(self._shown) - self._shown_head

    def row_line(self, row: int) -> int:
        """Absolute line number of a row."""
        if self._shown is None:
            return self.ring.first + row
        return self._shown[self._shown_head + row]

    def line_row(self, number: int) -> int | None:
        """Row of an absolute line number, None when filtered out or dropped."""
        if number < self.ring.first or number >= self.ring.end:
            return None
        if self._shown is None:
            return number - self.ring.first
        i = bisect_left(self._shown, number, self._shown_head)
        if i < len(self._shown) and self._shown[i] == number:
            return i - self._shown_head
        return None

    def write_lines(self, raw: Iterable[str]) -> None:
        """Append a batch in one refresh; lines are made inert here, once, so rendering never re-checks."""
        self.write_chunks(prepare(raw if isinstance(raw, list) else list(raw)))

    def write_chunks(self, pieces: list[Chunk]) -> None:
        """Append batches already prepared (on a reader thread) with prepare(): one refresh, O(chunks) work."""
        if not pieces:
            return
        ring = self.ring
        start = ring.end
        ring.extend_chunks(pieces)
        if self._shown is not None:
            first_new = max(start, ring.first)
            new = ring.iter_range(first_new, ring.end)
            self._shown.extend(n for n, line in zip(range(first_new, ring.end), new, strict=True) if self._passes(line))
            self._drop_filtered_head()
        widest = max(self._shown_width(p.widest) if isinstance(p, _Joined) else
                     max(map(self._shown_width, p), default=0) for p in pieces)
        self._width = max(self._width, widest)
        self._resize()
        if self.follow:
            self._to_end()
        self.refresh()

    def _to_end(self) -> None:
        """Scroll to the last row now. Forced: the scrollbar of a view that was empty is only shown at the next
        layout, and until then Textual ignores a plain scroll, so a stream read in one batch (a finished pod's
        tail) would stay at its first row. Once more after the layout: a horizontal scrollbar that appears with
        wide lines takes a row, and the last line would sit under it."""
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if not self._end_pending:
            self._end_pending = True
            self.call_after_refresh(self._to_end_after_layout)

    def _to_end_after_layout(self) -> None:
        self._end_pending = False
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def _resize(self) -> None:
        width = self.scrollable_content_region.width if self.wrap else self._width + (34 if self.show_timestamps
                                                                                       else 0)
        self.virtual_size = Size(width, self.row_count)

    def clear(self) -> None:
        """Empty the pane for a new source."""
        self.ring.clear()
        if self._shown is not None:
            self._shown = array("q")
            self._shown_head = 0
        self.current = None
        self._width = 0
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _shown_width(self, line: str) -> int:
        """Columns a stored line takes without its API timestamp: the timestamp column is added on its own, and
        the API's RFC 3339 nanoseconds drop trailing zeros, so counting it made the width wander by a column."""
        return len(line) - line.find(" ") - 1 if self.stamped else len(line)

    def body(self, line: str) -> str:
        """The searchable part of a stored line: without the timestamp, with the container prefix."""
        return line.partition(" ")[2] if self.stamped else line

    def shown_text(self, line: str) -> str:
        """A stored line as the user sees it (and as saving writes it)."""
        return line if self.show_timestamps or not self.stamped else line.partition(" ")[2]

    def shown_lines(self) -> Iterator[str]:
        """Every line passing the filters, as displayed (for saving)."""
        if self._shown is None:
            yield from map(self.shown_text, self.ring)
            return
        line = self.ring.line
        for i in range(self._shown_head, len(self._shown)):
            yield self.shown_text(line(self._shown[i]))

    # ---- filters and search ------------------------------------------------------------------------

    def _passes(self, line: str) -> bool:
        text = self.body(line)
        if self._include is not None and self._include.search(text) is None:
            return False
        return self._exclude is None or self._exclude.search(text) is None

    def _drop_filtered_head(self) -> None:
        assert self._shown is not None
        head = bisect_left(self._shown, self.ring.first, self._shown_head)
        if head > 4096 and head * 2 > len(self._shown):
            del self._shown[:head]
            head = 0
        self._shown_head = head

    def set_filters(self, include: re.Pattern[str] | None, exclude: re.Pattern[str] | None) -> None:
        """Show only lines matching `include` and not matching `exclude` (None: no such filter)."""
        self._include, self._exclude = include, exclude
        if include is None and exclude is None:
            self._shown = None
        else:
            first = self.ring.first
            self._shown = array("q", (first + j for j, line in enumerate(self.ring) if self._passes(line)))
        self._shown_head = 0
        self._resize()
        if self.follow:
            self._to_end()
        self.refresh()

    @property
    def filters(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        """(include, exclude) now in force."""
        return self._include, self._exclude

    def set_highlight(self, pattern: re.Pattern[str] | None) -> None:
        """Mark search matches on screen."""
        self._highlight = pattern
        self.refresh()

    @property
    def highlight(self) -> re.Pattern[str] | None:
        """The search pattern being highlighted."""
        return self._highlight

    def find(self, pattern: re.Pattern[str], backwards: bool = False) -> int | None:
        """Row of the next (or previous) line matching `pattern`, from the last jump or the top of the screen."""
        rows = self.row_count
        if not rows:
            return None
        here = self.line_row(self.current) if self.current is not None else None
        if here is None:  # start from the screen: the top row forwards, the bottom row backwards
            top = int(self.scroll_y)
            here = min(rows, top + self.scrollable_content_region.height) if backwards else top - 1
        spans = ((range(here - 1, -1, -1), range(rows - 1, max(here - 1, -1), -1)) if backwards
                 else (range(here + 1, rows), range(0, min(here + 1, rows))))
        for span in spans:
            for row in span:
                if pattern.search(self.body(self.ring.line(self.row_line(row)))):
                    return row
        return None

    def jump_to_row(self, row: int) -> None:
        """Put a row in the middle of the screen, mark it current, and pause autoscroll so it stays."""
        self.current = self.row_line(row)
        if self.follow:
            self.follow = False
            self.post_message(self.Followed(False))
        self._jumping = True
        try:
            self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2), animate=False, immediate=True)
        finally:
            self._jumping = False
        self.refresh()

    # ---- rendering -------------------------------------------------------------------------------

    def _segments(self, line: str, number: int, base: Style) -> list[Segment]:
        """Stamp (dim), container prefix (coloured), then the text with search matches marked."""
        segments: list[Segment] = []
        text = line
        if self.stamped:
            stamp, text = split_stamp(line)
            if self.show_timestamps:
                segments.append(Segment(stamp + " ", base + self._stamp_style))
        style = base + self._current_style if number == self.current else base
        if self.prefixed and text.startswith("["):
            end = text.find("] ")
            if end > 0:
                segments.append(Segment(text[: end + 2], style + Style(color=prefix_colour(text[1:end]), bold=True)))
                text = text[end + 2 :]
        if self._highlight is None:
            segments.append(Segment(text, style))
            return segments
        pos = 0
        hit = style + self._match_style
        for match in self._highlight.finditer(text):
            if match.start() == match.end():
                continue
            segments.append(Segment(text[pos : match.start()], style))
            segments.append(Segment(match.group(), hit))
            pos = match.end()
        segments.append(Segment(text[pos:], style))
        return segments

    def render_lines(self, crop: Region) -> list[Strip]:
        """Resolve the style and width once per refresh: rich_style walks every ancestor, far too slow per row."""
        self._frame = (self.rich_style, self.scrollable_content_region.width)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Draw one row from the stored string; nothing is kept per line between frames."""
        base, width = self._frame if self._frame is not None else (self.rich_style,
                                                                   self.scrollable_content_region.width)
        if self.wrap:
            return self._render_wrapped(y, width, base)
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        if row >= self.row_count or width <= 0:
            return Strip.blank(width, base)
        number = self.row_line(row)
        line = self.ring.line(number)
        if not (self.stamped or self.prefixed or self._highlight is not None or number == self.current):
            text = line[scroll_x : scroll_x + width]
            if text.isascii():  # one cell per character: pad here and build a single Strip
                return Strip([Segment(text + " " * (width - len(text)), base)], width)
            return Strip([Segment(text, base)]).adjust_cell_length(width, base)
        strip = Strip(self._segments(line, number, base))
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, base)

    def _wrapped_rows(self, width: int, height: int) -> list[tuple[int, int]]:
        """(row, piece) pairs filling the screen, computed only for visible lines: bottom-up at the end."""
        rows = self.row_count
        at_end = self.follow or self.scroll_y >= self.max_scroll_y
        key = (int(self.scroll_y), width, height, rows, self.ring.end, at_end, self.show_timestamps,
               self._shown_head)
        if self._wrap_cache is not None and self._wrap_cache[0] == key:
            return self._wrap_cache[1]

        def pieces(row: int) -> int:
            return max(1, -(-cell_len(self.shown_text(self.ring.line(self.row_line(row)))) // width))

        out: list[tuple[int, int]] = []
        if at_end:
            row = rows - 1
            while row >= 0 and len(out) < height:
                out[:0] = [(row, k) for k in range(pieces(row))]
                row -= 1
            out = out[-height:]
        else:
            row = int(self.scroll_y)
            while row < rows and len(out) < height:
                out.extend((row, k) for k in range(pieces(row)))
                row += 1
        self._wrap_cache = (key, out)
        return out

    def _render_wrapped(self, y: int, width: int, base: Style) -> Strip:
        if width <= 0:
            return Strip.blank(width, base)
        layout = self._wrapped_rows(width, self.scrollable_content_region.height)
        if y >= len(layout):
            return Strip.blank(width, base)
        row, piece = layout[y]
        number = self.row_line(row)
        strip = Strip(self._segments(self.ring.line(number), number, base))
        return strip.crop(piece * width, (piece + 1) * width).adjust_cell_length(width, base)

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines (only the rows on screen are ever wrapped) or scroll sideways."""
        self.wrap = wrap
        self._wrap_cache = None
        if wrap:
            self.scroll_to(x=0, animate=False, immediate=True)
        self._resize()
        self.refresh()

    def set_timestamps(self, show: bool) -> None:
        """Show or hide the API timestamp in front of each line."""
        self.show_timestamps = show
        self._resize()
        self.refresh()

    def on_resize(self) -> None:
        """The wrap width follows the pane's width; a following view stays at the bottom."""
        if self.wrap:
            self._resize()
        if self.follow:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def action_scroll_end(self) -> None:
        """End: back to the newest line, autoscroll on (no animation to wait for)."""
        self.current = None
        if not self.follow:
            self.follow = True
            self.post_message(self.Followed(True))
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling up pauses autoscroll; reaching the bottom resumes it (the stern/k9s habit)."""
        super().watch_scroll_y(old, new)
        at_end = new >= self.max_scroll_y
        if new < old and not at_end and self.follow:
            self.follow = False
            self.post_message(self.Followed(False))
        elif at_end and not self.follow and new > old and not self._jumping:
            self.follow = True
            self.post_message(self.Followed(True))
