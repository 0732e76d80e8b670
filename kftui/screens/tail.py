"""`:logs REGEX [-l SELECTOR] [-c CONTAINER_REGEX]`: stern in the cockpit, every matching pod's log in one pane.

The engine is the one `kftui logs` runs (cluster.multilog: pods join as they start, lossless resume per container);
lines reach the screen in batches drained by a timer, each prefixed `[pod/container]` and coloured per prefix by
the log view, which keeps them inert. `/` searches with a match count, `n`/`N` jump, `f` follows, Esc goes back.
"""

from __future__ import annotations

import re
import shlex
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Static

from kftui.core.sanitize import inert
from kftui.widgets.focus import focus_now, typed_into_a_box
from kftui.widgets.footer import KeysFooter
from kftui.widgets.logview import LogView

DRAIN_SECONDS = 0.05
BACKLOG = 0.4
"""How long the first lines wait for the other pods' backlogs before the view starts."""
MAX_BATCH = 20_000
"""Lines moved to the view per tick at most, so a flood never holds the UI for long."""


@dataclass(frozen=True)
class TailQuery:
    """What `:logs` asked for, stern's way."""

    pod_regex: str
    namespace: str | None = None
    selector: str | None = None
    container_regex: str | None = None
    since_seconds: int | None = None
    tail: int | None = 200


def parse_query(text: str, namespace: str | None) -> TailQuery:
    """`REGEX [-l SEL] [-c REGEX] [-n NS|-A] [--since 10m] [--tail N]`; ValueError names the bad part."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f":logs: {exc}") from exc
    pod, sel, cont, since, tail, ns = "", None, None, None, 200, namespace
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        if word in ("-l", "--selector", "-c", "--container", "-n", "--namespace", "--since", "--tail"):
            if value is None:
                raise ValueError(f":logs: {word} needs a value")
            i += 1
            if word in ("-l", "--selector"):
                sel = value
            elif word in ("-c", "--container"):
                cont = value
            elif word in ("-n", "--namespace"):
                ns = value
            elif word == "--since":
                since = _duration(value)
            else:
                if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= 1_000_000:
                    raise ValueError(":logs: --tail takes a number of lines from 0 to 1000000")
                tail = int(value)
        elif word in ("-A", "--all-namespaces"):
            ns = None
        elif not pod:
            pod = word
        else:
            raise ValueError(f":logs: unexpected {word!r} (give one pod regex)")
        i += 1
    for label, pattern in (("pod regex", pod), ("-c", cont or "")):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f":logs: {label} {pattern!r} is not a regex ({exc})") from exc
    if not pod and not sel:
        raise ValueError(":logs: give a pod regex or -l SELECTOR (e.g. :logs ^ml-pipeline or :logs -l app=x)")
    return TailQuery(pod, ns, sel, cont, since, tail)


def _duration(text: str) -> int:
    """`90s`, `10m`, `2h` as seconds (kubectl's --since units)."""
    match = re.fullmatch(r"(\d{1,7})([smh])", text)
    if match is None:
        raise ValueError(f":logs: --since {text!r} must be a number with s, m or h (e.g. 10m)")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def _stamp_key(stamp: str) -> tuple[str, str]:
    """An RFC 3339 stamp as a sort key (kubelet trims trailing zeros: `01Z` must sort before `01.5Z`)."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return head, frac.ljust(9, "0")


class TailScreen(Screen[None]):
    """Many pods' logs in one view, the way stern shows them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search", priority=True),  # priority: see widgets/focus.py
        Binding("n", "next", "Next match"),
        Binding("N", "previous", "Previous match"),
        Binding("f", "follow", "Follow"),
    ]
    DEFAULT_CSS = """
    TailScreen #tail-status { height: 1; background: $panel; }
    TailScreen #tail-search { display: none; dock: bottom; }
    TailScreen #tail-search.asking { display: block; }
    """

    def __init__(self, query: TailQuery, client_factory: Any, max_lines: int = 100_000) -> None:
        """`client_factory()` gives the kubernetes ApiClient (called on the reader thread)."""
        super().__init__()
        self.query_spec = query
        self.client_factory = client_factory
        self.max_lines = max_lines
        self._inbox: deque[tuple[str, str, str, str]] = deque()
        self._first_at: float | None = None
        self._started = False
        self._lock = threading.Lock()
        self._engine: Any = None
        self.containers: set[tuple[str, str]] = set()
        self.notes = ""
        self.matches: list[int] = []
        self.match_index = -1

    def compose(self) -> ComposeResult:
        """Status line, the log, the search box."""
        yield Static("", id="tail-status")
        view = LogView(self.max_lines, id="tail-log")
        view.prefixed = True
        yield view
        yield Input(placeholder="search (regex); Enter finds, Esc closes", id="tail-search")
        yield KeysFooter()

    def on_mount(self) -> None:
        """Start the engine and the drain timer."""
        self.set_interval(DRAIN_SECONDS, self._drain)
        self._update_status()
        self._run()

    @work(thread=True, exclusive=True, group="tail", description="following logs")
    def _run(self) -> None:
        """The engine's loop, on its own thread until the screen goes."""
        from kftui.cluster.multilog import MultiLog

        q = self.query_spec
        try:
            engine = MultiLog(self.client_factory(), q.pod_regex, namespace=q.namespace, label_selector=q.selector,
                              container_regex=q.container_regex, since_seconds=q.since_seconds, tail_lines=q.tail,
                              on_lines=self._lines, on_event=self._event)
        except Exception as exc:  # a bad client or kubeconfig: said on the status line
            self.notes = f"cannot follow: {exc}"
            return
        self._engine = engine
        engine.run()

    def _lines(self, lines: list[Any]) -> None:
        """From the engine's threads: queue lines with their time, pod and container, for ordering at the drain."""
        with self._lock:
            if self._first_at is None:
                self._first_at = time.monotonic()
            for line in lines:
                self.containers.add((line.pod, line.container))
                self._inbox.append((line.timestamp, line.pod, line.container, line.text))

    def _event(self, event: Any) -> None:
        """A container reconnecting, restarted, ended or failing: the newest such word goes on the status line
        (connecting and streaming are the normal course, counted in the header instead)."""
        if event.status.state.value in ("connecting", "streaming", "waiting"):
            return
        what = f"{event.pod}/{event.container}" if event.pod else "pods"
        self.notes = f"{what}: {event.status.state.value}" + (f" ({event.status.detail})"
                                                              if getattr(event.status, "detail", "") else "")

    def _drain(self) -> None:
        """Move queued lines to the view in one write, in time order within the batch (the first batch waits a
        moment for every pod's backlog, so the history reads in time order rather than in arrival order)."""
        with self._lock:
            held = self._first_at is not None and not self._started and time.monotonic() - self._first_at < BACKLOG
            batch = [] if held else [self._inbox.popleft() for _ in range(min(len(self._inbox), MAX_BATCH))]
        if batch:
            self._started = True
            batch.sort(key=lambda item: (_stamp_key(item[0]), item[1], item[2]))  # pod and container break ties
            self.query_one("#tail-log", LogView).write_lines([f"[{pod}/{c}] {text}" for _t, pod, c, text in batch])
        self._update_status()

    def _update_status(self) -> None:
        """Pods and containers followed, lines kept, matches, the newest state."""
        view = self.query_one("#tail-log", LogView)
        q = self.query_spec
        pods = len({p for p, _ in self.containers})
        text = Text()
        text.append(f" logs {inert(q.pod_regex or '')}", style="bold")
        if q.selector:
            text.append(f" -l {inert(q.selector)}")
        text.append(f" · {(q.namespace and inert(q.namespace)) or 'all namespaces'} · {pods} pods, "
                    f"{len(self.containers)} containers · {view.line_count} lines")
        if self.matches:
            text.append(f" · match {self.match_index + 1}/{len(self.matches)}", style="bold yellow")
        if not view.follow:
            text.append(" · paused (f follows)", style="yellow")
        if self.notes:
            text.append(f" · {inert(self.notes)}", style="dim")
        self.query_one("#tail-status", Static).update(text)

    def action_search(self) -> None:
        """Open the search box (in it, `/` is a character)."""
        typed_into_a_box(self)
        box = self.query_one("#tail-search", Input)
        box.add_class("asking")
        focus_now(box)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Highlight, count the matching lines and jump to the first."""
        event.stop()
        view = self.query_one("#tail-log", LogView)
        try:
            pattern = re.compile(event.value) if event.value else None
        except re.error as exc:
            self.notify(inert(f"search: {exc}"), severity="error", markup=False)
            return
        view.set_highlight(pattern)
        self.matches = [] if pattern is None else [row for row in range(view.row_count)
                                                   if pattern.search(view.body(view.ring.line(view.row_line(row))))]
        self.match_index = -1
        self.query_one("#tail-search", Input).remove_class("asking")
        view.focus()
        if self.matches:
            self.action_next()
        self._update_status()

    def _jump(self, step: int) -> None:
        """To the next or previous match, wrapping around."""
        if not self.matches:
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        view = self.query_one("#tail-log", LogView)
        view.follow = False
        view.jump_to_row(self.matches[self.match_index])
        self._update_status()

    def action_next(self) -> None:
        """n."""
        self._jump(1)

    def action_previous(self) -> None:
        """N."""
        self._jump(-1)

    def action_follow(self) -> None:
        """Back to the newest line, and stay there."""
        view = self.query_one("#tail-log", LogView)
        view.follow = not view.follow
        if view.follow:
            view.scroll_end(animate=False)
        self._update_status()

    def action_back(self) -> None:
        """Close the search box, else leave (the engine stops)."""
        box = self.query_one("#tail-search", Input)
        if box.has_class("asking"):
            box.remove_class("asking")
            self.query_one("#tail-log", LogView).focus()
            return
        self.dismiss(None)

    def on_unmount(self) -> None:
        """Stop every follower at once."""
        if self._engine is not None:
            self._engine.stop()
