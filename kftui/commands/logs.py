"""`kftui logs`: stern's multi-pod tail as a command, with lossless resume and every line made inert."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from kftui.errors import UsageError

if TYPE_CHECKING:
    from kftui.cluster.multilog import LogLine, TailEvent

INT64_MAX = 2**63 - 1
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
COLOURS = ("32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96")
"""ANSI foreground colours a pod or container name is given by its hash (our codes; never the server's text)."""


def parse_since(text: str) -> int:
    """A Go duration (`30s`, `5m`, `1h30m`) as whole seconds, as kubectl's --since reads it; UsageError otherwise."""
    value = text.strip()
    pos = 0
    total = 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not value or pos != len(value):
        raise UsageError(f"--since {text!r} is not a duration: use a number with a unit, e.g. 30s, 5m, 1h30m")
    seconds = int(total)
    if seconds < 1:
        raise UsageError(f"--since {text!r} must be at least 1s")
    if seconds > INT64_MAX:
        raise UsageError(f"--since {text!r} is too long (the API takes at most {INT64_MAX} seconds)")
    return seconds


OPTION_OF = {"pod": "POD_REGEX", "container": "-c/--container"}
"""The command-line name of each regex, for the one line a bad one gets."""


def check_patterns(pod_regex: str | None, container: str | None, selector: str | None) -> None:
    """The user's regexes checked before any request by the same function the log engine uses; UsageError naming
    the option."""
    from kftui.cluster.pods import InvalidPatternError, pod_selection

    try:
        pod_selection(pod_regex, container, selector)
    except InvalidPatternError as exc:
        raise UsageError(f"{OPTION_OF[exc.which]} {exc.pattern!r} is not a valid regular expression: "
                         f"{exc.error}") from exc


def _colour(name: str, tty: bool) -> str:
    """The name made inert, coloured by its hash on a terminal."""
    from kftui.core.sanitize import inert

    shown = inert(name)
    if not tty:
        return shown
    return f"\x1b[{COLOURS[zlib.crc32(name.encode()) % len(COLOURS)]}m{shown}\x1b[0m"


class Printer:
    """Writes lines from many follower threads, one whole line at a time."""

    def __init__(self, out: TextIO, err: TextIO, *, as_json: bool, timestamps: bool, namespaces: bool,
                 tty: bool) -> None:
        """Say how lines look: JSON exact, or `[namespace] pod container [stamp] line` made inert."""
        self.out = out
        self.err = err
        self.as_json = as_json
        self.timestamps = timestamps
        self.namespaces = namespaces
        self.tty = tty
        self.lock = threading.Lock()
        self.printed = 0
        self.closed = False
        """The reader went away (`| head`): nothing more is written, and the engine is stopped."""
        self.on_closed: Callable[[], None] = lambda: None

    def lines(self, batch: list[LogLine]) -> None:
        """Print one batch (a follower's thread)."""
        from kftui.core.sanitize import sanitize

        if self.as_json:  # exact data, ASCII on the wire: a C1 control or U+202E travels as \\uXXXX, never raw
            text = "".join(json.dumps({"namespace": ln.namespace, "pod": ln.pod, "container": ln.container,
                                       "timestamp": ln.timestamp, "message": ln.text}) + "\n"
                           for ln in batch)
        else:
            parts = []
            for ln in batch:
                head = f"{_colour(ln.namespace, self.tty)} " if self.namespaces else ""
                head += f"{_colour(ln.pod, self.tty)} {_colour(ln.container, self.tty)} "
                if self.timestamps:
                    head += f"{sanitize(ln.timestamp)} "
                parts.append(head + sanitize(ln.text) + "\n")
            text = "".join(parts)
        with self.lock:
            if self.closed:
                return
            try:
                self.out.write(text)
                self.out.flush()
            except (BrokenPipeError, ValueError):  # a closed pipe or file: stop quietly, as `kubectl logs | head`
                self.closed = True
            else:
                self.printed += len(batch)
        if self.closed:
            self.on_closed()

    def event(self, event: TailEvent) -> None:
        """Joins, leaves, reconnects and errors on stderr (stdout keeps only lines)."""
        from kftui.core.kube import LogState
        from kftui.core.sanitize import inert

        st = event.status
        who = f"{event.namespace}/{event.pod} {event.container}" if event.pod else "pod watch"
        if st.state == LogState.CONNECTING and st.detail == "joined":
            words = f"+ {who}"
        elif st.state == LogState.ENDED:
            words = f"- {who} ({st.detail})" if st.detail and st.detail != "end of log" else ""
        elif st.state == LogState.RECONNECTING and st.attempt:
            words = f"! {who}: reconnecting (attempt {st.attempt}): {st.detail}"
        elif st.state in (LogState.RECONNECTING, LogState.RESTARTED, LogState.ERROR, LogState.NOT_STARTED) or (
                st.state == LogState.STREAMING and st.detail.startswith("reconnected")):
            words = f"! {who}: {st.detail}"
        else:
            words = ""
        if words:
            with self.lock:
                self.err.write("kftui: " + inert(words) + "\n")
                self.err.flush()


def run_logs(pod_regex: str | None, *, selector: str | None = None, namespace: str | None = None,
             all_namespaces: bool = False, context: str | None = None, kubeconfig: str | None = None,
             container: str | None = None, since: str | None = None, tail: int | None = None,
             timestamps: bool = False, no_follow: bool = False, as_json: bool = False,
             out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit 0 after a read (or Ctrl+C, said by the caller); 1 when no pod matches; bad input is a UsageError."""
    if namespace and all_namespaces:
        raise UsageError("-n/--namespace and -A/--all-namespaces cannot be used together")
    if not pod_regex and not selector:
        raise UsageError("give POD_REGEX (a regular expression for pod names) or -l/--selector")
    check_patterns(pod_regex, container, selector)
    since_seconds = parse_since(since) if since is not None else None
    if tail is not None and not -1 <= tail <= INT64_MAX:
        raise UsageError(f"--tail {tail} must be -1 (all) or a line count up to {INT64_MAX}")
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    for stream in (out, err):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")

    from kftui.cluster.kubeconfig import api_client, load_contexts
    from kftui.cluster.multilog import MultiLog

    logging.getLogger("urllib3").setLevel(logging.ERROR)  # kftui says what a reconnect is; urllib3 need not
    if not all_namespaces and not namespace:
        chosen = [c for c in load_contexts(kubeconfig) if (c.name == context if context else c.current)]
        namespace = chosen[0].namespace if chosen else "default"
    client = api_client(context, kubeconfig)
    printer = Printer(out, err, as_json=as_json, timestamps=timestamps, namespaces=all_namespaces,
                      tty=not as_json and bool(getattr(out, "isatty", lambda: False)()))
    engine = MultiLog(client, pod_regex or "", namespace=None if all_namespaces else namespace,
                      label_selector=selector, container_regex=container, since_seconds=since_seconds,
                      tail_lines=None if tail is None or tail < 0 else tail, follow=not no_follow,
                      on_lines=printer.lines, on_event=lambda event: _unless_final(event, printer))
    printer.on_closed = engine.stop
    try:
        matched = engine.run()
    finally:
        engine.stop()
    if printer.closed:
        _quiet_stdout(out)
        return 0
    if engine.error is not None:
        raise engine.error  # one line, exit 1 (the caller's guard)
    if not matched:
        from kftui.core.sanitize import inert

        where = "any namespace" if all_namespaces else f"namespace {namespace}"
        what = " and ".join(x for x in (f"POD_REGEX {pod_regex!r}" if pod_regex else "",
                                        f"selector {selector!r}" if selector else "",
                                        f"container {container!r}" if container else "") if x)
        err.write(f"kftui: no pod matches {inert(what)} in {inert(where)}\n")
        err.flush()
        return 1
    return 0


def _unless_final(event: TailEvent, printer: Printer) -> None:
    """Print an event, except the pod list's final refusal: the command ends with it as its one line."""
    from kftui.core.kube import LogState

    if not (event.pod == "" and event.status.state == LogState.ERROR):
        printer.event(event)


def _quiet_stdout(out: TextIO) -> None:
    """After the reader closed the pipe, point stdout at /dev/null so the exit-time flush cannot fail loudly."""
    import os

    try:
        fd = out.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
