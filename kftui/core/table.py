"""Table models for watch mode: rows by key, folded in batches, sorted and filtered as views (no Textual here).

A model owns every row of one resource (pods, events ...), the inert text of each cell, an ordered index for the
sort column and the set of rows the filter lets through. The widget asks it for the visible keys and for the cells
of the few rows on screen; nothing is done per row outside a batch, and nothing per widget.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from kftui.core.kube import WatchKind
from kftui.core.sanitize import inert

R = TypeVar("R")
Prepared = tuple[str, R, tuple[str, ...], str]
"""(key, row, inert cells, lower-cased searchable text): what a model files for a row."""


def _inert(text: str) -> str:
    """inert(), skipping the common case of printable ASCII (which it would return unchanged)."""
    return text if text.isascii() and text.isprintable() else inert(text)


_LITERAL = re.compile(r"^[\w\-/: ]*$")
FULL_RESORT_SHARE = 8
"""A batch touching more than 1/8 of the rows re-sorts from scratch (cheaper than that many inserts)."""


def _zero(_row: Any, _now: datetime | None) -> str:
    return ""


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column: its label, how a row shows in it, how it sorts, how wide it may be."""

    key: str
    label: str
    cell: Callable[[R, datetime | None], str] = _zero
    """The raw text (made inert by the model); `now` is given for clock-dependent columns (age)."""
    min_width: int = 3
    max_width: int = 0
    """0: as wide as the widest cell."""
    grow: bool = False
    """Takes the room left over (and gives it back first when the terminal is narrow): the name column."""
    right: bool = False
    """Right-aligned (numbers)."""
    sort: Callable[[R], Any] | None = None
    """Sort value; None sorts by the cell text. Values of one column must compare with each other."""
    sort_key: str = ""
    """The letter that sorts by this column (pressed with shift, as in k9s)."""
    style: Callable[[R], str] | None = None
    """A Rich style name for the cell (computed from the row, never from markup)."""
    clock: bool = False
    """The cell depends on the time (age): computed when drawn, not cached."""
    cut_middle: bool = False
    """Too long for its width, the cell keeps its head and its tail (a pod's name: replicas differ at the end)."""


class Filter:
    """What the user typed after `/`: a case-insensitive regex, or plain text when it is not a valid regex."""

    __slots__ = ("invert", "literal", "pattern", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        body = text
        self.invert = body.startswith("!") and len(body) > 1
        """A leading `!` keeps the rows that do NOT match (k9s's inverse filter)."""
        if self.invert:
            body = body[1:]
        self.literal: str | None = body.lower() if _LITERAL.match(body) else None
        """Text with no regex meaning is searched as a substring (faster, and typing more only narrows it)."""
        try:
            self.pattern: re.Pattern[str] = re.compile(body, re.IGNORECASE)
        except re.error:
            self.pattern = re.compile(re.escape(body), re.IGNORECASE)
            self.literal = body.lower()

    def matches(self, haystack: str) -> bool:
        """Whether a row's searchable text (lower-cased) passes."""
        if self.literal is not None:
            return (self.literal in haystack) is not self.invert
        return (self.pattern.search(haystack) is None) is self.invert

    def narrows(self, before: Filter | None) -> bool:
        """Whether every row this filter keeps was kept by `before` (so only those need testing)."""
        return (before is not None and not self.invert and not before.invert and self.literal is not None
                and before.literal is not None and before.literal in self.literal)


class TableModel(Generic[R]):
    """Every row of one resource by key, with an ordered index for sorting and a match set for filtering."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        key: Callable[[R], str],
        haystack: Callable[[R], str],
        sort: str = "",
        reverse: bool = False,
        tie: Callable[[R], Any] | None = None,
    ) -> None:
        self.columns = tuple(columns)
        self._by_key = {c.key: i for i, c in enumerate(self.columns)}
        self._key = key
        self._haystack = haystack
        self._tie = tie
        self.rows: dict[str, R] = {}
        self._cells: dict[str, tuple[str, ...]] = {}
        self._hay: dict[str, str] = {}
        self._sortval: dict[str, Any] = {}
        self._order: list[tuple[Any, str]] = []
        self._filter: Filter | None = None
        self._matching: set[str] = set()
        self.sort_column = sort or self.columns[0].key
        self.reverse = reverse
        self.version = 0
        """Bumped by every change that can alter what is shown."""
        self.layout_version = 0
        """Bumped when rows can move on screen: rows added or gone, the order, the filter's verdicts, a column's
        width; a change that leaves it alone only rewrote the cells of the keys take_touched() returns."""
        self._touched: set[str] = set()
        self._visible: list[str] | None = None
        self._index: dict[str, int] | None = None
        self._lengths: list[dict[int, int]] | None = None
        """Per column, how many cells have each length (None: not measured since the last full list), so a change
        knows at once whether it moved a column's widest cell, and with it every row on screen."""
        self._widest: list[int] = []

    # ---- changes -------------------------------------------------------------------------------

    def key_of(self, row: R) -> str:
        """The key a row is stored under."""
        return self._key(row)

    def _sort_value(self, row: R, key: str) -> Any:
        column = self.columns[self._by_key[self.sort_column]]
        value = column.sort(row) if column.sort is not None else self._cells[key][self._by_key[column.key]].lower()
        return (value, self._tie(row) if self._tie is not None else key)

    def prepare(self, row: R) -> Prepared[R]:
        """A row's key, inert cells and searchable text, computed once; safe on the watch thread (pure)."""
        cells = tuple(_inert(c.cell(row, None)) if not c.clock else "" for c in self.columns)
        return self._key(row), row, cells, self._haystack(row).lower()

    def _store(self, key: str, row: R, prepared: Prepared[R] | None = None) -> bool:
        """File one row; True when that can move rows on screen (a new key, a column width, the filter's verdict)."""
        if prepared is None:
            prepared = self.prepare(row)
        _, _, cells, hay = prepared
        moved = key not in self.rows
        self.rows[key] = row
        old = self._cells.get(key)
        self._cells[key] = cells
        if self._lengths is not None and old != cells:
            moved = self._count(cells, 1) or moved
            if old is not None:
                moved = self._count(old, -1) or moved
        self._hay[key] = hay
        if self._filter is not None:
            was = key in self._matching
            if self._filter.matches(hay):
                self._matching.add(key)
            else:
                self._matching.discard(key)
            moved = moved or was != (key in self._matching)
        return moved

    def _count(self, cells: tuple[str, ...], sign: int) -> bool:
        """Count a row's cell lengths in (1) or out (-1); True when a column's widest cell changed with it."""
        assert self._lengths is not None
        changed = False
        for i, text in enumerate(cells):
            size, counts, widest = len(text), self._lengths[i], self._widest[i]
            left = counts.get(size, 0) + sign
            if left:
                counts[size] = left
            else:
                del counts[size]
            if sign > 0 and size > widest:
                self._widest[i] = size
                changed = True
            elif not left and size == widest:
                self._widest[i] = max(counts, default=0)
                changed = changed or self._widest[i] != widest
        return changed

    def _forget(self, key: str) -> None:
        self.rows.pop(key, None)
        old = self._cells.pop(key, None)
        if old is not None and self._lengths is not None:
            self._count(old, -1)
        self._hay.pop(key, None)
        self._matching.discard(key)

    def _resort(self) -> None:
        self._sortval = {k: self._sort_value(r, k) for k, r in self.rows.items()}
        self._order = sorted((v, k) for k, v in self._sortval.items())

    def _unindex(self, key: str) -> None:
        old = self._sortval.pop(key, None)
        if old is None:
            return
        i = bisect_left(self._order, (old, key))
        if i < len(self._order) and self._order[i][1] == key:
            del self._order[i]

    def replace(self, rows: Iterable[R]) -> None:
        """A full list (first sync or re-list after 410): exactly these rows, nothing kept from before."""
        self.replace_prepared([self.prepare(row) for row in rows])

    def replace_prepared(self, rows: Iterable[Prepared[R]]) -> None:
        """replace() with rows prepared on another thread (the UI thread only files them)."""
        self.rows, self._cells, self._hay, self._matching = {}, {}, {}, set()
        self._lengths = None
        for prepared in rows:
            self._store(prepared[0], prepared[1], prepared)
        self._resort()
        self._changed()

    def apply(self, changes: Mapping[str, R | None]) -> bool:
        """Fold a batch (key -> latest row, or None for deleted); returns whether anything changed."""
        return self.apply_prepared({k: None if r is None else self.prepare(r) for k, r in changes.items()})

    def apply_prepared(self, changes: Mapping[str, Prepared[R] | None]) -> bool:
        """apply() with rows prepared on another thread."""
        if not changes:
            return False
        full = len(changes) * FULL_RESORT_SHARE > max(len(self.rows), 1)
        moved = full
        touched = self._touched
        for key, prepared in changes.items():
            if prepared is None:
                if key in self.rows:
                    self._forget(key)
                    moved = True
                    if not full:
                        self._unindex(key)
                continue
            row = prepared[1]
            moved = self._store(key, row, prepared) or moved
            touched.add(key)
            if not full:
                value = self._sort_value(row, key)
                if self._sortval.get(key) != value:
                    self._unindex(key)
                    self._sortval[key] = value
                    insort(self._order, (value, key))
                    moved = True
        if full:
            self._resort()
        self._changed(moved)
        return True

    def _changed(self, moved: bool = True) -> None:
        self.version += 1
        if moved:
            self.layout_version += 1
            self._touched.clear()
            self._visible = None
            self._index = None

    def take_touched(self) -> set[str]:
        """The keys whose cells changed in place since the last call: with layout_version unchanged, only the
        screen lines of these rows need drawing again (at 200 updates a second most of them are off screen)."""
        touched, self._touched = self._touched, set()
        return touched

    # ---- views ---------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        """The filter in force ("" for none)."""
        return self._filter.text if self._filter is not None else ""

    def set_filter(self, text: str) -> None:
        """Keep only rows whose searchable text matches (one pass over the cached texts)."""
        if text == self.filter_text:
            return
        before, self._filter = self._filter, Filter(text) if text else None
        if self._filter is not None:
            matches, hay = self._filter.matches, self._hay
            if self._filter.narrows(before):
                self._matching = {k for k in self._matching if matches(hay[k])}
            else:
                self._matching = {k for k, h in hay.items() if matches(h)}
        else:
            self._matching = set()
        self._changed()

    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column; the same column again flips the direction (k9s)."""
        if column not in self._by_key:
            raise KeyError(column)
        if reverse is None:
            reverse = not self.reverse if column == self.sort_column else False
        same = column == self.sort_column
        self.sort_column, self.reverse = column, reverse
        if not same:
            self._resort()
        self._changed()

    def visible(self) -> list[str]:
        """Keys passing the filter, in sort order (cached until the next change)."""
        if self._visible is None:
            if self._filter is None:
                keys = [k for _, k in self._order]
            else:
                matching = self._matching
                keys = [k for _, k in self._order if k in matching]
            if self.reverse:
                keys.reverse()
            self._visible = keys
        return self._visible

    def index_of(self, key: str | None) -> int | None:
        """Where a key is among the visible rows (None: filtered out or gone)."""
        if key is None:
            return None
        if self._filter is None and self._index is None:  # every row shown: find it in the sorted index
            value = self._sortval.get(key)
            if value is None:
                return None
            i = bisect_left(self._order, (value, key))
            return len(self._order) - 1 - i if self.reverse else i
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.visible())}
        return self._index.get(key)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shown(self) -> int:
        """How many rows pass the filter."""
        return len(self.visible())

    def cells(self, key: str, now: datetime | None = None) -> tuple[str, ...]:
        """The inert text of every column of one row; clock columns computed now."""
        cached = self._cells[key]
        if not any(c.clock for c in self.columns):
            return cached
        row = self.rows[key]
        return tuple(inert(c.cell(row, now)) if c.clock else cached[i] for i, c in enumerate(self.columns))

    def cell(self, key: str, column: str, now: datetime | None = None) -> str:
        """One cell's shown text."""
        return self.cells(key, now)[self._by_key[column]]

    def styles(self, key: str) -> tuple[str, ...]:
        """Each cell's style name ("" for the default)."""
        row = self.rows[key]
        return tuple(c.style(row) if c.style is not None else "" for c in self.columns)

    def widths(self) -> list[int]:
        """Each column's natural width: its widest cell or label, within its bounds (over all rows)."""
        if self._lengths is None:  # counted a column at a time (C loops: 5,000 rows in about 1 ms)
            columns = list(zip(*self._cells.values(), strict=True)) or [() for _ in self.columns]
            self._lengths = [dict(Counter(map(len, cells))) for cells in columns]
            self._widest = [max(counts, default=0) for counts in self._lengths]
        out: list[int] = []
        for c, widest in zip(self.columns, self._widest, strict=True):
            width = max(len(c.label) + 1, c.min_width, widest)
            out.append(min(width, c.max_width) if c.max_width else width)
        return out


class Inbox(Generic[R]):
    """Where a watch thread drops changes between frames: latest state wins per key, a re-list replaces all.

    Rows are prepared (cells made inert, search text lowered) here, on the watch thread, so the UI thread only
    files them.
    """

    def __init__(self, prepare: Callable[[R], Prepared[R]]) -> None:
        self._prepare = prepare
        self._lock = threading.Lock()
        self._pending: dict[str, Prepared[R] | None] = {}
        self._snapshot: list[Prepared[R]] | None = None
        self.received = 0
        """Changes put since the start (for the bench and the status line)."""

    def put(self, key: str, row: R | None) -> bool:
        """A change from the watch thread; True when the inbox was empty (so the UI should be woken once)."""
        prepared = None if row is None else self._prepare(row)
        with self._lock:
            empty = not self._pending and self._snapshot is None
            self._pending[key] = prepared
            self.received += 1
            return empty

    def reset(self, rows: Iterable[R]) -> bool:
        """A full list from the watch thread: drops every pending change; True when the UI should be woken."""
        snapshot = [self._prepare(row) for row in rows]
        with self._lock:
            empty = not self._pending and self._snapshot is None
            self._snapshot = snapshot
            self._pending = {}
            return empty

    @property
    def has_snapshot(self) -> bool:
        """Whether a full list waits (the next take replaces every row)."""
        return self._snapshot is not None

    def take(self) -> tuple[list[Prepared[R]] | None, dict[str, Prepared[R] | None]]:
        """Everything since the last take (on the UI thread, once per frame)."""
        with self._lock:
            snapshot, pending = self._snapshot, self._pending
            self._snapshot, self._pending = None, {}
        return snapshot, pending

    def drain_into(self, model: TableModel[R]) -> bool:
        """Fold what arrived into a model; returns whether it changed."""
        snapshot, pending = self.take()
        changed = False
        if snapshot is not None:
            model.replace_prepared(snapshot)
            changed = True
        return model.apply_prepared(pending) or changed


@dataclass(frozen=True, slots=True)
class WatchSpec(Generic[R]):
    """What a view watches: one API collection, and the pure function that makes a row of each object."""

    resource: str
    row: Callable[[Mapping[str, Any]], R]
    group: str = ""
    """"" for the core group (/api/v1), else e.g. "kubeflow.org"."""
    version: str = "v1"


@dataclass(frozen=True, slots=True)
class Change(Generic[R]):
    """One item from a watch: a change to one row, a full snapshot, or an error to say."""

    kind: WatchKind
    row: R | None = None
    snapshot: tuple[R, ...] = ()
    message: str = ""
