"""stern's engine without a screen: every container of every pod matching a regex or selector, followed losslessly.

Pods are found by one list-then-watch (PodWatcher), so pods that start later join as they start; each container
gets its own LogFollower bound to its pod's uid, with the same lossless resume as the log pane. A pod replaced by a
new one of the same name is a new pod: its follower starts at its first line and the old one ends. Nothing here
renders: lines and states go to callbacks (the `kftui logs` command prints them; the TUI can show them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kftui.cluster._http import ClusterApiError, short_error
from kftui.cluster.logs import LogFollower
from kftui.cluster.pods import PodWatcher, list_pods, pod_selection
from kftui.core.kube import LogState, LogStatus, PodRow, WatchKind


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of one container, with its RFC3339Nano timestamp as the API gave it."""

    namespace: str
    pod: str
    container: str
    timestamp: str
    text: str


@dataclass(frozen=True, slots=True)
class TailEvent:
    """A state of one followed container (joined, reconnecting, restarted, ended), or of the pod watch (pod "")."""

    namespace: str
    pod: str
    container: str
    status: LogStatus


LinesSink = Callable[[list[LogLine]], None]
EventSink = Callable[[TailEvent], None]
Key = tuple[str, str, str, str]  # namespace, pod, uid, container


class MultiLog:
    """Follows (or reads once, without follow) the logs of every matching container; stop() from any thread."""

    def __init__(self, client: Any, pod_regex: str = "", *, namespace: str | None = None,
                 label_selector: str | None = None, container_regex: str | None = None,
                 since_seconds: int | None = None, tail_lines: int | None = None, follow: bool = True,
                 on_lines: LinesSink, on_event: EventSink | None = None, retry_delay: float = 0.2,
                 max_retry_delay: float = 5.0) -> None:
        """Say what to follow; regexes search anywhere in the name, as stern's do (anchor them with ^ and $)."""
        self.client = client
        self.selection = pod_selection(pod_regex, container_regex, label_selector)
        """What is followed (raises InvalidPatternError for a regex that does not compile)."""
        self.namespace = namespace
        self.since_seconds = since_seconds
        self.tail_lines = tail_lines
        self.follow = follow
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self._on_lines = on_lines
        self._on_event: EventSink = on_event or (lambda _event: None)
        self._lock = threading.Lock()
        self._followers: dict[Key, tuple[LogFollower, threading.Thread]] = {}
        self._seen: set[Key] = set()
        self._watcher: PodWatcher | None = None
        self._reading: LogFollower | None = None
        self.error: ClusterApiError | None = None
        """Why run() ended early: the API refused the pod list for good (the ERROR event said it too)."""
        self._stopped = threading.Event()
        self.matched = 0
        """Containers followed so far (0 after run(): nothing matched)."""

    # ---- what matches --------------------------------------------------------------------------

    def pod_matches(self, row: PodRow) -> bool:
        """Whether a pod is one of ours (the selector was applied by the server already)."""
        return self.selection.pod_matches(row.name)

    def containers_of(self, row: PodRow) -> list[str]:
        """The pod's containers that match the container regex, in spec order."""
        return self.selection.containers(row.containers)

    # ---- control --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the pod watch and every follower at once."""
        self._stopped.set()
        watcher = self._watcher
        if watcher is not None:
            watcher.stop()
        with self._lock:
            followers = [f for f, _ in self._followers.values()]
            if self._reading is not None:
                followers.append(self._reading)
        for f in followers:
            f.stop()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stopped.is_set()

    def run(self) -> int:
        """Blocking: read or follow until done (no follow), stop(), or nothing matched; returns containers matched.

        Never raises for the API's refusals: they arrive as events, and `error` says why the run ended early.
        """
        if not self.follow:
            return self._read_once()
        watcher = PodWatcher(self.client, self.namespace, self.selection.label_selector,
                             retry_delay=self.retry_delay)
        self._watcher = watcher
        if self.stopped:
            return self.matched
        first = True
        try:
            for event in watcher.events():
                if self.stopped:
                    break
                if event.kind == WatchKind.SYNCED:
                    for row in event.snapshot:
                        self._start(row, initial=first)
                    if first and not self.matched:
                        return 0  # nothing to follow: the caller says so
                    first = False
                elif event.kind == WatchKind.ERROR and first:  # never listed: a wrong cluster, said at once
                    self.error = self._unreachable(watcher.last_error)
                    self._on_event(TailEvent("", "", "", LogStatus(LogState.ERROR, "", str(self.error))))
                    return 0
                elif event.kind == WatchKind.ERROR:
                    self.error = watcher.gave_up  # refused for good (forbidden, not found): the run ends after this
                    self._on_event(TailEvent("", "", "", LogStatus(
                        LogState.ERROR if watcher.gave_up else LogState.RECONNECTING, "", event.message)))
                elif event.kind in (WatchKind.ADDED, WatchKind.MODIFIED) and event.pod is not None:
                    self._start(event.pod, initial=False)
                self._reap()
        finally:
            self.stop()
            self._join()
        return self.matched

    # ---- internals ------------------------------------------------------------------------------

    def _read_once(self) -> int:
        """No follow: every matching container read to the end, one after another (pod, then container order)."""
        try:
            rows, _ = list_pods(self.client, self.namespace, self.selection.label_selector)
        except Exception as exc:  # refused, reset, timed out, or the API's refusal: the list never came
            self.error = self._unreachable(exc)
        if self.error is not None:
            self._on_event(TailEvent("", "", "", LogStatus(LogState.ERROR, "", str(self.error))))
            return 0
        rows = sorted((r for r in rows if self.pod_matches(r)), key=lambda r: (r.namespace, r.name))
        for row in rows:
            for container in self.containers_of(row):
                if self.stopped:
                    return self.matched
                self.matched += 1
                follower = self._follower(row, container, initial=True, follow=False)
                with self._lock:
                    self._reading = follower
                if self.stopped:
                    return self.matched
                follower.run()
        return self.matched

    def _unreachable(self, exc: BaseException | None) -> ClusterApiError:
        """Why the pod list never came, as one ClusterApiError (the API's own, or the URL that did not answer)."""
        if isinstance(exc, ClusterApiError):
            return exc
        where = str(getattr(getattr(self.client, "configuration", None), "host", "") or "the cluster")
        why = short_error(exc) if exc is not None else "no answer"
        return ClusterApiError(f"cannot reach the Kubernetes API at {where}: {why}", 0, "Unreachable")

    def _start(self, row: PodRow, initial: bool) -> None:
        """Follow every matching container of a pod not followed yet (a new uid is a new pod)."""
        if not self.pod_matches(row) or self.stopped:
            return
        for container in self.containers_of(row):
            key: Key = (row.namespace, row.name, row.uid, container)
            with self._lock:
                if key in self._seen:
                    continue
                self._seen.add(key)
                follower = self._follower(row, container, initial=initial, follow=True)
                thread = threading.Thread(target=follower.run, daemon=True,
                                          name=f"kftui-multilog-{row.name}-{container}")
                self._followers[key] = (follower, thread)
                self.matched += 1
            self._on_event(TailEvent(row.namespace, row.name, container,
                                     LogStatus(LogState.CONNECTING, container, "joined")))
            thread.start()

    def _follower(self, row: PodRow, container: str, *, initial: bool, follow: bool) -> LogFollower:
        """One container's follower; tail and since apply to pods there at the start, later pods from line one."""
        ns, pod = row.namespace, row.name

        def lines(_container: str, raw: list[str]) -> None:
            out = []
            for line in raw:
                stamp, _, text = line.partition(" ")
                out.append(LogLine(ns, pod, container, stamp, text))
            self._on_lines(out)

        def status(st: LogStatus) -> None:
            self._on_event(TailEvent(ns, pod, container, st))

        return LogFollower(self.client, ns, pod, container, follow=follow,
                           since_seconds=self.since_seconds if initial else None,
                           tail_lines=self.tail_lines if initial else None,
                           on_lines=lines, on_status=status, prefix_container=False, keep_timestamps=True,
                           retry_delay=self.retry_delay, max_retry_delay=self.max_retry_delay,
                           pod_uid=row.uid or None)

    def _reap(self) -> None:
        """Forget followers whose pod or container has ended (their threads have returned)."""
        with self._lock:
            for key, (_, thread) in list(self._followers.items()):
                if not thread.is_alive() and thread.ident is not None:
                    del self._followers[key]

    def _join(self) -> None:
        """Wait briefly for the followers' threads after stop()."""
        with self._lock:
            threads = [t for _, t in self._followers.values()]
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=5)
