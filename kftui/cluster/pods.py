"""Live pod table data: list, then watch from the list's resourceVersion; re-list on 410 Gone."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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
from kftui.core.kube import PodEvent, PodRow, WatchKind, pod_row

MAX_BACKOFF = 15.0
_KINDS = {"ADDED": WatchKind.ADDED, "MODIFIED": WatchKind.MODIFIED, "DELETED": WatchKind.DELETED}


class GoneError(Exception):
    """The watch's resourceVersion is too old (HTTP 410): list again."""


def _pods_path(namespace: str | None) -> str:
    """The pod collection URL for one namespace or all."""
    return f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"


class InvalidPatternError(ValueError):
    """A pod or container regex that does not compile; `which` is "pod" or "container", for the caller's words."""

    def __init__(self, which: str, pattern: str, error: re.error) -> None:
        """Keep which regex it was and Python's reason."""
        super().__init__(f"{which} regex {pattern!r} is not a valid regular expression: {error}")
        self.which = which
        self.pattern = pattern
        self.error = error


@dataclass(frozen=True)
class PodSelection:
    """Which pods and containers a pod list, watch or log tail is about: the server-side selectors, plus stern's
    name regexes (searched anywhere in the name; anchor with ^ and $) applied to what the server returns."""

    label_selector: str | None = None
    field_selector: str | None = None
    pod_re: re.Pattern[str] | None = None
    container_re: re.Pattern[str] | None = None

    def query(self) -> list[tuple[str, Any]]:
        """The selectors as the API's query parameters (none when unset)."""
        query: list[tuple[str, Any]] = []
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        if self.field_selector:
            query.append(("fieldSelector", self.field_selector))
        return query

    def pod_matches(self, name: str) -> bool:
        """Whether a pod's name matches the pod regex (every pod when there is none)."""
        return self.pod_re is None or self.pod_re.search(name) is not None

    def containers(self, names: Iterable[str]) -> list[str]:
        """The container names that match the container regex, in their order."""
        return [c for c in names if self.container_re is None or self.container_re.search(c)]


def pod_selection(pod_regex: str | None = None, container_regex: str | None = None,
                  label_selector: str | None = None, field_selector: str | None = None) -> PodSelection:
    """The one place a user's pod/container regexes and selectors become a PodSelection (InvalidPatternError if a regex
    does not compile), so `kftui logs` checks before any request exactly what the engines then use."""
    compiled: dict[str, re.Pattern[str] | None] = {}
    for which, pattern in (("pod", pod_regex), ("container", container_regex)):
        try:
            compiled[which] = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise InvalidPatternError(which, str(pattern), exc) from exc
    return PodSelection(label_selector or None, field_selector or None, compiled["pod"], compiled["container"])


def list_pods(client: Any, namespace: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None) -> tuple[list[PodRow], str]:
    """Pods as rows plus the list's resourceVersion (raises ClusterApiError)."""
    query = PodSelection(label_selector, field_selector).query()
    data = get_json(client, _pods_path(namespace), query)
    return [pod_row(p) for p in data.get("items") or []], str((data.get("metadata") or {}).get("resourceVersion", ""))


class PodWatcher:
    """Yields a SYNCED snapshot, then one PodEvent per change; stop() from any thread ends it at once."""

    def __init__(self, client: Any, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None, timeout_seconds: int = 240, retry_delay: float = 1.0) -> None:
        """Watch pods of one namespace (or all) with server-side timeouts so a dead watch never lingers."""
        self.client = client
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.timeout_seconds = timeout_seconds
        self.retry_delay = retry_delay
        self.resource_version = ""
        self.relists = 0
        self.reconnects = 0
        self.gave_up: ClusterApiError | None = None
        """Set when the API refused for good (401, 403, 404): the last ERROR event is final, no retry follows."""
        self.last_error: BaseException | None = None
        """What the last ERROR event was about (kept for callers that stop at the first one)."""
        self._stop = Stoppable()

    def stop(self) -> None:
        """End the watch now: shuts the open response down so a blocked reader returns immediately."""
        self._stop.stop()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.stopped.is_set()

    def events(self) -> Iterator[PodEvent]:
        """Blocking generator for a dedicated thread: snapshot, changes, re-list after 410, errors as events.

        A lost connection or a failing API is an ERROR event that says it is reconnecting, when and which attempt
        it is; the next SYNCED snapshot means it is back (nothing missed: the snapshot replaces the table).
        """
        attempt = 0
        delay = self.retry_delay
        while not self.stopped:
            try:
                rows, self.resource_version = list_pods(self.client, self.namespace, self.label_selector,
                                                        self.field_selector)
                if self.stopped:
                    return
                back = f"reconnected after {attempt} attempt{'s' if attempt > 1 else ''}" if attempt else ""
                yield PodEvent(WatchKind.SYNCED, snapshot=tuple(rows), message=back)
                attempt = 0
                quick = 0
                while not self.stopped:
                    started = time.monotonic()
                    got = 0
                    for event in self._watch_once():
                        got += 1
                        yield event
                    # a watch the server ends at once, again and again, must not become a busy loop
                    quick = quick + 1 if not got and time.monotonic() - started < 1 else 0
                    if quick and self._stop.stopped.wait(min(self.retry_delay * 2 ** (quick - 1), MAX_BACKOFF)):
                        return
            except GoneError:
                self.relists += 1
                continue
            except ClusterApiError as exc:
                if self.stopped:
                    return
                self.last_error = exc
                if exc.status in (401, 403, 404):
                    self.gave_up = exc
                    yield PodEvent(WatchKind.ERROR, message=str(exc))
                    return
                attempt += 1
                delay = self._backoff(attempt)
                self.reconnects += 1
                yield PodEvent(WatchKind.ERROR, message=f"{exc}; {retry_words(attempt, delay)}")
            except Exception as exc:  # transport errors and garbage: say so, back off, retry
                if self.stopped:
                    return
                self.last_error = exc
                attempt += 1
                delay = self._backoff(attempt)
                self.reconnects += 1
                yield PodEvent(WatchKind.ERROR, message=f"connection to the cluster lost: {short_error(exc)}; "
                                                        f"{retry_words(attempt, delay)}")
            if self._stop.stopped.wait(delay):
                return

    def _backoff(self, attempt: int) -> float:
        """Seconds before reconnect `attempt`: retry_delay, doubling, at most MAX_BACKOFF."""
        return float(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))

    def _watch_once(self) -> Iterator[PodEvent]:
        """One watch request from the current resourceVersion until the server's timeout or a 410."""
        from kubernetes.client.exceptions import ApiException

        query: list[tuple[str, Any]] = [("watch", "true"), ("resourceVersion", self.resource_version),
                                        ("allowWatchBookmarks", "true"), ("timeoutSeconds", self.timeout_seconds)]
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        if self.field_selector:
            query.append(("fieldSelector", self.field_selector))
        try:
            resp = open_stream(self.client, _pods_path(self.namespace), query, self.timeout_seconds + 30)
        except ApiException as exc:
            if exc.status == 410:
                raise GoneError from exc
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
                        raise GoneError(obj.get("message", ""))
                    raise ClusterApiError(str(obj.get("message") or obj), int(obj.get("code") or 0),
                                          str(obj.get("reason") or ""))
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = str(rv)
                if kind in _KINDS:
                    yield PodEvent(_KINDS[kind], pod=pod_row(obj))
        except Exception:
            if self.stopped:
                return
            raise
        finally:
            self._stop.release(resp)

    def start(self, callback: Callable[[PodEvent], None]) -> threading.Thread:
        """Run events() on a daemon thread (never a pool worker, never blocks exit), calling back per event."""

        def run() -> None:
            for event in self.events():
                callback(event)

        thread = threading.Thread(target=run, name="kftui-pod-watch", daemon=True)
        thread.start()
        return thread
