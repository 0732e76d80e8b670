"""Live pod table data: list, then watch from the list's resourceVersion; re-list on 410 Gone."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json
from kftui.cluster.watch import ResourceWatcher
from kftui.core.kube import PodEvent, PodRow, pod_row
from kftui.core.table import WatchSpec


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


POD_WATCH: WatchSpec[PodRow] = WatchSpec("pods", pod_row)
"""The pod collection with the row `kubectl get pods` shows."""


class PodWatcher:
    """Yields a SYNCED snapshot, then one PodEvent per change; stop() from any thread ends it at once.

    The generic list-then-watch (ResourceWatcher: reconnect words, backoff, 410 re-lists) on pods, with events in
    the pod shape the log engines read.
    """

    def __init__(self, client: Any, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None, timeout_seconds: int = 240, retry_delay: float = 1.0) -> None:
        """Watch pods of one namespace (or all) with server-side timeouts so a dead watch never lingers."""
        self.namespace = namespace
        self._watch = ResourceWatcher(client, POD_WATCH, namespace, timeout_seconds=timeout_seconds,
                                      retry_delay=retry_delay, label_selector=label_selector,
                                      field_selector=field_selector)

    def stop(self) -> None:
        """End the watch now: shuts the open response down so a blocked reader returns immediately."""
        self._watch.stop()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._watch.stopped

    @property
    def resource_version(self) -> str:
        """Where the next watch resumes from."""
        return self._watch.resource_version

    @resource_version.setter
    def resource_version(self, value: str) -> None:
        self._watch.resource_version = value

    @property
    def relists(self) -> int:
        """Lists after a 410 Gone."""
        return self._watch.relists

    @property
    def reconnects(self) -> int:
        """Errors after which the watch reconnected (or will)."""
        return self._watch.reconnects

    @property
    def gave_up(self) -> ClusterApiError | None:
        """Set when the API refused for good (401, 403, 404): the last ERROR event is final, no retry follows."""
        return self._watch.gave_up

    @property
    def last_error(self) -> BaseException | None:
        """What the last ERROR event was about (kept for callers that stop at the first one)."""
        return self._watch.last_error

    def events(self) -> Iterator[PodEvent]:
        """Blocking generator for a dedicated thread: snapshot, changes, re-list after 410, errors as events."""
        for change in self._watch.events():
            yield PodEvent(change.kind, pod=change.row, snapshot=change.snapshot, message=change.message)

    def start(self, callback: Callable[[PodEvent], None]) -> threading.Thread:
        """Run events() on a daemon thread (never a pool worker, never blocks exit), calling back per event."""

        def run() -> None:
            for event in self.events():
                callback(event)

        thread = threading.Thread(target=run, name="kftui-pod-watch", daemon=True)
        thread.start()
        return thread
