"""The log pane of watch mode: a status line that always says what the stream is doing, filters, search, the view."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from kftui.core.kube import LogState, LogStatus, PodRow
from kftui.core.sanitize import inert_lines, sanitize
from kftui.widgets.focus import focus_now, typed_into_a_box
from kftui.widgets.logview import Chunk, LogView, prepare

FLUSH_SECONDS = 0.05
ALL = "all"


@dataclass(frozen=True, slots=True)
class Window:
    """How much history to ask for when a follow starts."""

    label: str
    tail_lines: int | None = None
    since_seconds: int | None = None


WINDOWS: tuple[Window, ...] = (
    Window("tail 1000", tail_lines=1000),
    Window("all"),
    Window("since 5m", since_seconds=300),
    Window("since 1h", since_seconds=3600),
    Window("tail 100", tail_lines=100),
)
_DURATION = re.compile(r"^(\d{1,7})([smhd])$")


def parse_window(text: str) -> Window:
    """A history window as typed: `all`, `tail 500` or `500`, `since 10m` or `10m` (s, m, h, d); ValueError says how."""
    words = text.strip().lower().split()
    if words[:1] in (["tail"], ["since"]):
        kind, words = words[0], words[1:]
    else:
        kind = ""
    if words == ["all"] and not kind:
        return Window("all")
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and kind in ("", "tail"):
        lines = int(words[0])
        if not 1 <= lines <= 10_000_000:
            raise ValueError("tail: from 1 to 10000000 lines")
        return Window(f"tail {lines}", tail_lines=lines)
    match = _DURATION.match(words[0]) if len(words) == 1 and kind in ("", "since") else None
    if match is None:
        raise ValueError("window: all, tail N (or N lines), since 10m (or 90s, 2h, 1d)")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return Window(f"since {match.group(1)}{match.group(2)}", since_seconds=seconds)


STATE_STYLE = {
    LogState.CONNECTING: "bold yellow",
    LogState.STREAMING: "bold green",
    LogState.WAITING: "bold yellow",
    LogState.NOT_STARTED: "bold yellow",
    LogState.RECONNECTING: "bold yellow",
    LogState.RESTARTED: "bold cyan",
    LogState.ENDED: "bold magenta",
    LogState.ERROR: "bold red",
}


def compile_pattern(text: str) -> re.Pattern[str]:
    """A user's regex, case-insensitive unless it has a capital letter (smart case, as in less and k9s)."""
    return re.compile(text, 0 if any(ch.isupper() for ch in text) else re.IGNORECASE)


def save_dir() -> Path:
    """Saved logs go to the XDG data directory (kftui/logs), like k9s's dumps: never into the current directory."""
    from kftui.paths import data_dir

    return data_dir() / "logs"


class LogStream(Protocol):
    """One open log stream (kftui.cluster.logs.LogFollower, as the screen's feed starts it)."""

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""

    def stop(self) -> None:
        """End the stream at once."""


class LogSource(Protocol):
    """What the screen hands the pane to follow a pod (kftui.screens.feeds.PodLogFeed): the reader thread is its."""

    def open(self, namespace: str, pod: str, container: str | None, *, all_containers: bool, previous: bool,
             tail_lines: int | None, since_seconds: int | None, on_lines: Callable[[str, list[str]], None],
             on_status: Callable[[LogStatus], None]) -> LogStream:
        """Start following (lines and states come from the reader thread); returns the stream to stop."""


class LogPane(Vertical):
    """Status line, an input row for search and filters, and the LogView; owns the follower and the flush timer."""

    DEFAULT_CSS = """
    LogPane { height: 1fr; }
    LogPane > #log-status { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    LogPane > #log-input-row { display: none; height: auto; max-height: 3; }
    LogPane > #log-input-row.visible { display: block; }
    LogPane #log-input-kind { width: auto; padding: 0 1; background: $accent 30%; }
    LogPane #log-input { border: none; height: 1; width: 1fr; padding: 0 1; }
    LogPane #log-input-error { width: auto; max-width: 60%; height: auto; color: $error; padding: 0 1; }
    LogPane > LogView { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_input('search')", "Search", priority=True),  # priority: see widgets/focus.py
        Binding("n", "next_match", "Next"),
        Binding("N", "previous_match", "Prev"),
        Binding("i", "open_input('include')", "Include", priority=True),
        Binding("x", "open_input('exclude')", "Exclude", priority=True),
        Binding("f", "toggle_follow", "Follow"),
        Binding("end", "resume", "End: resume"),
        Binding("c", "cycle_container", "Container"),
        Binding("p", "toggle_previous", "Previous"),
        Binding("t", "open_input('window')", "Tail/since", priority=True),
        Binding("ctrl+t", "cycle_window", "Next window"),
        Binding("T", "toggle_timestamps", "Timestamps"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("s", "save", "Save", priority=True),
        Binding("escape", "close_input", "Close input"),
    ]

    class StatusChanged(Message):
        """A follower reported a state (posted from its thread; `generation` drops stale ones)."""

        def __init__(self, generation: int, status: LogStatus) -> None:
            super().__init__()
            self.generation = generation
            self.status = status

    class Saved(Message):
        """The shown lines were written to a file (or could not be)."""

        def __init__(self, path: Path | None, count: int, error: str = "") -> None:
            super().__init__()
            self.path = path
            self.count = count
            self.error = error

    def __init__(
        self,
        source: LogSource | None = None,
        *,
        max_lines: int = 100_000,
        flush_seconds: float = FLUSH_SECONDS,
        window: int = 0,
        timestamps: bool = False,
        wrap: bool = False,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        """`source` opens a pod's log stream (None: lines are fed by hand, as a local run's are)."""
        super().__init__(name=name, id=id)
        self.source = source
        self.max_lines = max_lines
        self._start_timestamps, self._start_wrap = timestamps, wrap
        self.flush_seconds = flush_seconds
        self.row: PodRow | None = None
        self.container: str | None = None
        """Chosen container; ALL interleaves every container; None lets the API pick the default."""
        self.previous = False
        self.window = window
        self.follower: LogStream | None = None
        self.statuses: dict[str, LogStatus] = {}
        self.received = 0
        """Lines received from the stream since the last follow()."""
        self.coalesced = 0
        """Lines dropped before display because the UI fell behind by more than the limit."""
        self.note = ""
        """A one-off message for the status line (saved file, invalid choice)."""
        self.search: re.Pattern[str] | None = None
        self._input_kind = "search"
        self._texts = {"search": "", "include": "", "exclude": "", "window": "", "save": ""}
        self.custom_window: Window | None = None
        """A window the user typed (t), in force instead of the cycle's."""
        self._matches: tuple[tuple[Any, ...], list[int]] | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._pending: deque[tuple[int, list[Chunk]]] = deque()
        self._pending_count = 0

    def compose(self) -> ComposeResult:
        """Status, the (hidden) input row, the view."""
        yield Static(id="log-status")
        with Horizontal(id="log-input-row"):
            yield Static("search", id="log-input-kind")
            yield Input(id="log-input", placeholder="regex; Enter applies, Esc closes, empty clears")
            yield Static("", id="log-input-error")
        yield LogView(self.max_lines, id="log")

    @property
    def view(self) -> LogView:
        """The LogView inside."""
        return self.query_one("#log", LogView)

    def on_mount(self) -> None:
        """Start the flush timer: every tick pours all pending batches into the view in one write."""
        self.set_interval(self.flush_seconds, self.flush)
        if self._start_timestamps:
            self.view.set_timestamps(True)
        if self._start_wrap:
            self.view.set_wrap(True)
        self.render_status()

    # ---- following -------------------------------------------------------------------------------

    def follow(self, row: PodRow) -> None:
        """Follow a pod (a different pod resets the container choice); the old stream stops at once."""
        if self.row is None or self.row.key != row.key:
            self.container = ALL if len(row.containers) > 1 else None
            self.previous = False
        self.row = row
        self.restart()

    def restart(self) -> None:
        """(Re)start following the current pod with the current options, from an empty view."""
        self.stop()
        self.view.clear()
        self.view.follow = True
        self.statuses = {}
        self.received = self.coalesced = 0
        self.note = ""
        row = self.row
        if row is None:
            self.render_status()
            return
        everything = self.container == ALL
        self.view.stamped = True
        self.view.prefixed = everything
        generation = self._generation
        self.statuses[""] = LogStatus(LogState.CONNECTING, "", f"{row.namespace}/{row.name}")
        self.render_status()
        if self.source is None:
            return
        win = self.custom_window or WINDOWS[self.window]
        self.follower = self.source.open(
            row.namespace,
            row.name,
            None if everything else self.container,
            all_containers=everything,
            previous=self.previous,
            tail_lines=win.tail_lines,
            since_seconds=win.since_seconds,
            on_lines=lambda _c, lines: self.feed_lines(lines, generation),
            on_status=lambda status: self._post_status(generation, status),
        )

    def _post_status(self, generation: int, status: LogStatus) -> None:
        """Runs on the reader's thread; post_message is thread-safe."""
        self.post_message(self.StatusChanged(generation, status))

    def stop(self) -> None:
        """Stop the stream at once and forget lines not yet shown (also called on unmount)."""
        with self._lock:
            self._generation += 1
            self._pending.clear()
            self._pending_count = 0
        if self.follower is not None:
            self.follower.stop()
            self.follower = None

    def attach(self, title: str) -> int:
        """Show a stream that is not a pod (a local pipeline run); returns the generation to feed lines with."""
        self.stop()
        self.row = None
        self.view.clear()
        self.view.follow = True
        self.view.stamped = False
        self.view.prefixed = False
        self.received = self.coalesced = 0
        self.note = ""
        self.statuses = {"": LogStatus(LogState.CONNECTING, "", title)}
        self.render_status()
        return self._generation

    def gone(self, note: str) -> None:
        """The pod cannot be followed (deleted, garbage-collected): stop, empty the view, and say why."""
        self.stop()
        self.view.clear()
        self.received = self.coalesced = 0
        self.statuses = {"": LogStatus(LogState.ENDED, "", note)}
        self.render_status()

    def on_unmount(self) -> None:
        """Leaving the screen or quitting stops the stream."""
        self.stop()

    # ---- lines and states in -----------------------------------------------------------------------

    def feed_lines(self, lines: list[str], generation: int | None = None) -> None:
        """Queue a batch from any thread, never blocking it: the lines are made inert and chunked here, on the
        reader's thread, so the UI tick only appends; if the UI falls behind, the oldest batches are coalesced away.
        """
        pieces = prepare(lines)
        count = len(lines)
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._pending.append((count, pieces))
            self._pending_count += count
            self.received += count
            while len(self._pending) > 1 and self._pending_count - self._pending[0][0] >= self.max_lines:
                gone, _ = self._pending.popleft()  # the view would drop these anyway: skip storing them
                self._pending_count -= gone
                self.coalesced += gone

    def feed_status(self, status: LogStatus) -> None:
        """Show a state (tests and snapshots drive the pane with this directly)."""
        self.statuses.pop("", None)
        self.statuses[status.container] = status
        self.render_status()

    def on_log_pane_status_changed(self, message: StatusChanged) -> None:
        """A state from the current follower (stale generations are ignored)."""
        message.stop()
        if message.generation == self._generation:
            self.feed_status(message.status)

    def flush(self) -> None:
        """Pour every batch read since the last tick into the view in one write."""
        with self._lock:
            if not self._pending:
                return
            batches = list(self._pending)
            self._pending.clear()
            self._pending_count = 0
        self.view.write_chunks(list(chain.from_iterable(pieces for _, pieces in batches)))
        self.render_status()

    @property
    def dropped(self) -> int:
        """Lines no longer held: coalesced before display plus dropped by the view's limit."""
        return self.coalesced + self.view.ring.dropped

    # ---- status line -------------------------------------------------------------------------------

    def state_text(self) -> Text:
        """The state part of the status line: what the stream is doing, and why, in words."""
        text = Text()
        if self.row is None and not self.statuses:
            text.append("no pod selected", style="dim")
            return text
        items = list(self.statuses.values()) or [LogStatus(LogState.CONNECTING)]
        for i, status in enumerate(items):
            if i:
                text.append(" │ ", style="dim")
            text.append(describe_state(status), style=STATE_STYLE.get(status.state, "bold"))
            detail = describe_detail(status)
            if status.container and len(items) > 1:
                detail = f"{status.container}" + (f": {detail}" if detail else "")
            elif status.container:
                detail = f"{status.container}" + (f" · {detail}" if detail else "")
            if detail:
                text.append(" · " + sanitize(detail))
        return text

    def render_status(self) -> None:
        """Redraw the status line: state, counts, follow, options, filters."""
        if not self.is_mounted:
            return
        view = self.view
        text = self.state_text()
        for kind, mark in (("include", "+"), ("exclude", "-"), ("search", "/")):  # first: they explain the counts
            if self._texts[kind]:
                text.append(f" {mark}{sanitize(self._texts[kind])}", style="bold cyan")
        if self.search is not None:
            rows = self._match_rows()
            current = self.view.line_row(self.view.current) if self.view.current is not None else None
            at = rows.index(current) + 1 if current in rows else 0
            text.append(f" match {at}/{len(rows)}" if at else f" {len(rows)} matches", style="bold yellow")
        text.append(f"  {view.row_count:,} shown / {view.line_count:,} kept / {self.dropped:,} dropped", style="dim")
        text.append(
            " · following" if view.follow else " · paused (End resumes)", style="dim" if view.follow else "bold yellow"
        )
        opts = [(self.custom_window or WINDOWS[self.window]).label]
        if self.previous:
            opts.append("previous run")
        if self.container == ALL:
            opts.append("all containers")
        if view.show_timestamps:
            opts.append("timestamps")
        if view.wrap:
            opts.append("wrap")
        text.append(" · " + ", ".join(opts), style="dim")
        if self.note:
            text.append(" · " + sanitize(self.note), style="italic")
        self.query_one("#log-status", Static).update(text)

    # ---- input row: search, include, exclude ---------------------------------------------------------

    def action_open_input(self, kind: str) -> None:
        """Open the input row for a search or a filter, prefilled with what is in force (in the box itself, the key
        is a character)."""
        typed_into_a_box(self)
        self._input_kind = kind
        self.query_one("#log-input-kind", Static).update(kind)
        box = self.query_one("#log-input", Input)
        box.value = self._texts[kind]
        box.placeholder = {"window": "all, tail N, since 10m; Enter refetches, Esc closes",
                           "save": "file to write; Enter saves, Esc closes"}.get(
            kind, "regex; Enter applies, Esc closes, empty clears")
        if kind == "window":
            box.value = (self.custom_window or WINDOWS[self.window]).label
        elif kind == "save":
            box.value = str(self.save_path())
        self.query_one("#log-input-error", Static).update("")
        self.query_one("#log-input-row").add_class("visible")
        focus_now(box)

    def action_close_input(self) -> None:
        """Hide the input row and go back to the log."""
        self.query_one("#log-input-row").remove_class("visible")
        self.view.focus()

    @on(Input.Changed, "#log-input")
    def _input_changed(self, event: Input.Changed) -> None:
        """Check the regex as it is typed; search highlights live."""
        event.stop()
        if self._input_kind in ("window", "save"):
            return
        valid, pattern = self._check(event.value)
        if valid and self._input_kind == "search":
            self.search = pattern
            self.view.set_highlight(pattern)

    @on(Input.Submitted, "#log-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        """Enter applies: search jumps to the first match, filters rebuild what is shown."""
        event.stop()
        if self._input_kind == "window":
            try:
                self.custom_window = parse_window(event.value)
            except ValueError as exc:
                self.query_one("#log-input-error", Static).update(Text(str(exc), style="bold"))
                return
            self.action_close_input()
            self.restart()
            return
        if self._input_kind == "save":
            if not event.value.strip():
                self.query_one("#log-input-error", Static).update(Text("path: give a file name", style="bold"))
                return
            self.action_close_input()
            self._save_to(Path(event.value.strip()).expanduser())
            return
        valid, pattern = self._check(event.value)
        if not valid:
            return  # the error stays next to the input; nothing changes
        self._texts[self._input_kind] = event.value
        if self._input_kind == "search":
            self.search = pattern
            self.view.set_highlight(pattern)
            self.view.current = None
            if pattern is not None:
                self._jump(backwards=False)
        else:
            include, exclude = self.view.filters
            if self._input_kind == "include":
                include = pattern
            else:
                exclude = pattern
            self.view.set_filters(include, exclude)
        self.action_close_input()
        self.render_status()

    def _check(self, value: str) -> tuple[bool, re.Pattern[str] | None]:
        """(valid, compiled pattern or None when empty); an invalid regex is reported next to the input."""
        error = self.query_one("#log-input-error", Static)
        if not value:
            error.update("")
            return True, None
        try:
            pattern = compile_pattern(value)
        except re.error as exc:
            error.update(Text(f"invalid regex: {exc}", style="bold"))
            return False, None
        error.update("")
        return True, pattern

    def _match_rows(self) -> list[int]:
        """Rows of the shown lines that match the search, counted again only when lines or filters changed."""
        view = self.view
        if self.search is None:
            return []
        stamp = (self.search.pattern, view.row_count, view.line_count, view.filters)
        if self._matches is None or self._matches[0] != stamp:
            pattern = self.search
            found = [row for row in range(view.row_count)
                     if pattern.search(view.body(view.ring.line(view.row_line(row))))]
            self._matches = (stamp, found)
        return self._matches[1]

    def _jump(self, backwards: bool) -> None:
        if self.search is None:
            self.note = "no search: press / first"
        else:
            row = self.view.find(self.search, backwards)
            self.note = "" if row is not None else f"no line matches /{self._texts['search']}/"
            if row is not None:
                self.view.jump_to_row(row)
        self.render_status()

    def action_next_match(self) -> None:
        """Jump to the next line matching the search."""
        self._jump(backwards=False)

    def action_previous_match(self) -> None:
        """Jump to the previous line matching the search."""
        self._jump(backwards=True)

    # ---- options -------------------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        """Pause or resume autoscroll."""
        view = self.view
        view.follow = not view.follow
        if view.follow:
            view.current = None
            view.scroll_end(animate=False, immediate=True, x_axis=False)
        self.render_status()

    def action_resume(self) -> None:
        """End: back to the newest line, autoscroll on."""
        self.view.follow = True
        self.view.current = None
        self.view.scroll_end(animate=False, immediate=True, x_axis=False)
        self.render_status()

    def on_log_view_followed(self, message: LogView.Followed) -> None:
        """Autoscroll paused or resumed by scrolling."""
        self.render_status()

    def action_cycle_container(self) -> None:
        """Next container; "all" interleaves them with a coloured prefix."""
        if self.row is None:
            return
        choices: list[str | None] = list(self.row.containers) or [None]
        if len(choices) > 1:
            choices.append(ALL)
        if len(choices) == 1:
            self.note = "this pod has one container"
            self.render_status()
            return
        index = choices.index(self.container) if self.container in choices else -1
        self.container = choices[(index + 1) % len(choices)]
        self.restart()

    def action_toggle_previous(self) -> None:
        """The previous (crashed or restarted) run of the container, or back to the live one."""
        if self.row is None:
            return
        self.previous = not self.previous
        if self.previous and self.container == ALL:
            self.container = self.row.containers[0] if self.row.containers else None
        self.restart()

    def action_cycle_window(self) -> None:
        """Next history window: tail 1000, all, since 5m, since 1h, tail 100."""
        self.custom_window = None
        self.window = (self.window + 1) % len(WINDOWS)
        self.restart()

    def action_toggle_timestamps(self) -> None:
        """Show or hide the API timestamp of each line (kept for every line, so no refetch)."""
        self.view.set_timestamps(not self.view.show_timestamps)
        self.render_status()

    def action_toggle_wrap(self) -> None:
        """Wrap long lines (only visible rows are wrapped) or scroll sideways."""
        self.view.set_wrap(not self.view.wrap)
        self.render_status()

    # ---- saving --------------------------------------------------------------------------------------

    def save_path(self) -> Path:
        """Where `s` writes: kftui-<namespace>-<pod>[-<container>]-<UTC time>.log in save_dir()."""
        row = self.row
        parts = ["kftui"]
        if row is not None:
            parts += [row.namespace, row.name]
        if self.container not in (None, ALL):
            parts.append(str(self.container))
        parts.append(datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
        return save_dir() / ("-".join(parts) + ".log")

    def action_save(self) -> None:
        """Ask where to write the lines shown (prefilled with a fresh name in the data directory)."""
        self.action_open_input("save")

    def _save_to(self, path: Path) -> None:
        """Write the lines shown (filters applied, timestamps as displayed) to a file; the status says where."""
        lines = list(self.view.shown_lines())
        if path.is_dir():
            self.notify(inert_lines(f"cannot save to {path}: it is a directory"), severity="error", markup=False)
            return
        self.note = f"saving {len(lines):,} lines…"
        self.render_status()
        self.run_worker(
            lambda: self._write(path, lines),
            thread=True,
            group="log-save",
            exit_on_error=False,
            description=f"saving log to {path}",
        )

    def _write(self, path: Path, lines: list[str]) -> None:
        from kftui.paths import atomic_write

        try:
            atomic_write(path, "".join(line + "\n" for line in lines), mode=0o644)
        except OSError as exc:
            self.post_message(self.Saved(None, len(lines), f"cannot save to {path}: {exc.strerror or exc}"))
            return
        self.post_message(self.Saved(path, len(lines)))

    def on_log_pane_saved(self, message: Saved) -> None:
        """Say where the file went (or why it did not)."""
        self.note = message.error or f"saved {message.count:,} lines to {message.path}"
        if message.error:
            self.notify(inert_lines(message.error), severity="error", markup=False)
        else:
            self.notify(inert_lines(self.note), title="log saved", markup=False)
        self.render_status()


def describe_state(status: LogStatus) -> str:
    """The state in a word (its stable name), with the attempt for reconnects."""
    if status.state == LogState.RECONNECTING and status.attempt:
        return f"reconnecting (attempt {status.attempt})"
    return str(status.state)


def describe_detail(status: LogStatus) -> str:
    """Why: the follower's detail, and since when for a silent container."""
    detail = status.detail
    if status.state == LogState.WAITING and status.since is not None:
        stamp = status.since.astimezone(UTC).strftime("%H:%M:%SZ")
        detail = f"{detail} (since {stamp})" if detail else f"since {stamp}"
    if status.state == LogState.CONNECTING and not detail:
        detail = "opening the log stream"
    return detail
