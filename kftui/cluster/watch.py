"""List-then-watch for any collection a watch view shows (events, pods ...): rows by a pure function, 410 re-lists.

The view names the collection and the row function (pure, in core or the view); this adapter only speaks the API.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from kftui.cluster._http import (
    ClusterApiError,
    Stoppable,
    api_error,
    get_json,
    iter_lines,
    open_stream,
    retry_words,
    short_error,
)
from kftui.core.kube import WatchKind
from kftui.core.table import Change, WatchSpec

R = TypeVar("R")
MAX_BACKOFF = 15.0
_KINDS = {"ADDED": WatchKind.ADDED, "MODIFIED": WatchKind.MODIFIED, "DELETED": WatchKind.DELETED}


_pause_lock = threading.Lock()
_pauses = {"depth": 0, "was_enabled": 0}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic GC while a big list is decoded: its 60 containers per object would all be scanned (and promoted)
    mid-parse, a pause of 0.3-1 s holding the GIL that the UI feels; the tree has no cycles, so refcounting frees it.
    """
    with _pause_lock:
        if _pauses["depth"] == 0:
            _pauses["was_enabled"] = int(gc.isenabled())
            gc.disable()
        _pauses["depth"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses["depth"] -= 1
            if _pauses["depth"] == 0 and _pauses["was_enabled"]:
                gc.enable()


class _GoneError(Exception):
    """The watch's resourceVersion is too old (HTTP 410): list again."""


def collection_path(spec: WatchSpec[Any], namespace: str | None) -> str:
    """The collection URL for one namespace or all (core group under /api, others under /apis)."""
    base = f"/api/{spec.version}" if not spec.group else f"/apis/{spec.group}/{spec.version}"
    return f"{base}/namespaces/{namespace}/{spec.resource}" if namespace else f"{base}/{spec.resource}"


class ResourceWatcher(Generic[R]):
    """Yields a SYNCED snapshot, then one Change per event; stop() from any thread ends it at once."""

    def __init__(self, client: Any, spec: WatchSpec[R], namespace: str | None = None, timeout_seconds: int = 240,
                 retry_delay: float = 1.0, label_selector: str | None = None,
                 field_selector: str | None = None,
                 first: Callable[[], tuple[Sequence[R], str] | None] | None = None,
                 connect: Callable[[], Any] | None = None) -> None:
        """Watch one collection of one namespace (or all), with server-side timeouts so a dead watch never lingers.

        `first` may hand over a list already made elsewhere (rows, resourceVersion; None: list as usual) and
        `connect` builds the client only when a request needs it, so a handed-over list is shown without waiting
        for the client's import.
        """
        self.client = client
        self._first = first
        self._connect = connect
        self.spec = spec
        self.path = collection_path(spec, namespace)
        self.selectors: list[tuple[str, Any]] = [(k, v) for k, v in (("labelSelector", label_selector),
                                                                     ("fieldSelector", field_selector)) if v]
        self.timeout_seconds = timeout_seconds
        self.retry_delay = retry_delay
        self.resource_version = ""
        self.relists = 0
        self.reconnects = 0
        self.gave_up: ClusterApiError | None = None
        """Set when the API refused for good (401, 403, 404): the last ERROR change is final, no retry follows."""
        self.last_error: BaseException | None = None
        """What the last ERROR change was about (kept for callers that stop at the first one)."""
        self._stop = Stoppable()

    def stop(self) -> None:
        """End the watch now: shuts the open response down so a blocked reader returns immediately."""
        self._stop.stop()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.stopped.is_set()

    def _rows(self, items: list[Mapping[str, Any]]) -> list[R]:
        out: list[R] = []
        for item in items:
            try:
                out.append(self.spec.row(item))
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # one object of a shape we cannot read must not hide all the others
        return out

    def events(self) -> Iterator[Change[R]]:
        """Blocking generator for a dedicated thread: snapshot, changes, re-list after 410, errors as changes.

        An error says it is reconnecting, which attempt and when (`reconnecting (attempt 3, in 4 s)`); the snapshot
        after it says `reconnected after N attempts`. A watch the server keeps ending at once is retried with backoff.
        """
        attempt = 0
        delay = self.retry_delay
        while not self.stopped:
            try:
                handed, self._first = (self._first() if self._first is not None else None), None
                if handed is not None:
                    rows, self.resource_version = tuple(handed[0]), handed[1]
                else:
                    with collector_paused():
                        data = get_json(self._client(), self.path, self.selectors)
                        self.resource_version = str((data.get("metadata") or {}).get("resourceVersion", ""))
                        rows = tuple(self._rows(list(data.get("items") or [])))
                        del data
                if self.stopped:
                    return
                back = f"reconnected after {attempt} attempt{'s' if attempt > 1 else ''}" if attempt else ""
                yield Change(WatchKind.SYNCED, snapshot=rows, message=back)
                attempt = 0
                quick = 0
                while not self.stopped:
                    started, got = time.monotonic(), 0
                    for change in self._watch_once():
                        got += 1
                        yield change
                    quick = quick + 1 if not got and time.monotonic() - started < 1 else 0
                    # a watch the server ends at once, again and again, must not become a busy loop
                    if quick and self._stop.stopped.wait(self._backoff(quick)):
                        return
            except _GoneError:
                self.relists += 1
                continue
            except ClusterApiError as exc:
                if self.stopped:
                    return
                self.last_error = exc
                if exc.status in (401, 403, 404):
                    self.gave_up = exc
                    yield Change(WatchKind.ERROR, message=str(exc))
                    return
                attempt += 1
                delay = self._backoff(attempt)
                self.reconnects += 1
                yield Change(WatchKind.ERROR, message=f"{exc}; {retry_words(attempt, delay)}")
            except Exception as exc:  # transport errors and garbage: say so, back off, retry
                if self.stopped:
                    return
                self.last_error = exc
                attempt += 1
                delay = self._backoff(attempt)
                self.reconnects += 1
                yield Change(WatchKind.ERROR, message=f"connection to the cluster lost: {short_error(exc)}; "
                                                      f"{retry_words(attempt, delay)}")
            if self._stop.stopped.wait(delay):
                return

    def _client(self) -> Any:
        """The API client, built on first use when a `connect` was given."""
        if self.client is None and self._connect is not None:
            self.client = self._connect()
        return self.client

    def _backoff(self, attempt: int) -> float:
        """Seconds before reconnect `attempt`: retry_delay, doubling, at most MAX_BACKOFF."""
        return float(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))

    def _watch_once(self) -> Iterator[Change[R]]:
        """One watch request from the current resourceVersion until the server's timeout or a 410."""
        from kubernetes.client.exceptions import ApiException

        query: list[tuple[str, Any]] = [("watch", "true"), ("resourceVersion", self.resource_version),
                                        ("allowWatchBookmarks", "true"), ("timeoutSeconds", self.timeout_seconds),
                                        *self.selectors]
        try:
            resp = open_stream(self._client(), self.path, query, self.timeout_seconds + 30)
        except ApiException as exc:
            if exc.status == 410:
                raise _GoneError from exc
            raise api_error(exc) from exc
        self._stop.track(resp)
        try:
            for line in iter_lines(resp):
                if not line.strip():
                    continue
                event = json.loads(line)
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise _GoneError(obj.get("message", ""))
                    raise ClusterApiError(str(obj.get("message") or obj), int(obj.get("code") or 0),
                                          str(obj.get("reason") or ""))
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = str(rv)
                if kind in _KINDS:
                    rows = self._rows([obj])
                    if rows:
                        yield Change(_KINDS[kind], row=rows[0])
        except Exception:
            if self.stopped:
                return
            raise
        finally:
            self._stop.release(resp)

    def start(self, callback: Callable[[Change[R]], None]) -> threading.Thread:
        """Run events() on a daemon thread (never a pool worker, never blocks exit), calling back per change."""

        def run() -> None:
            for change in self.events():
                callback(change)

        thread = threading.Thread(target=run, name=f"kftui-watch-{self.spec.resource}", daemon=True)
        thread.start()
        return thread
