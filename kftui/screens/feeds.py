"""The feeds the watch screen hands its views: the only place the cockpit's views reach the adapters.

Each feed fetches on its own daemon thread (never the UI thread, never a pool worker) and hands plain rows to a
sink the view gives it; the view's model files them. Widgets see these objects only through the small protocols
they declare (kftui.widgets.logpane.LogSource, kftui.widgets.notebooks.NotebooksSource,
kftui.widgets.runs.RunsSource), so widgets and views never import an adapter.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from kftui.core.diagnosis import Diagnosis
from kftui.core.kube import LogState, LogStatus, NotebookPhase, NotebookRow
from kftui.core.runs import LocalRunRecord, RunDetail, RunRow

T = TypeVar("T")
POLL_SECONDS = 5.0
GATE_WAIT = 2.0
PodRef = tuple[str, str]


class Poller(Generic[T]):
    """Fetch, deliver, wait (or be poked), again, on one daemon thread; a restart drops the old thread's answers."""

    def __init__(self, name: str, fetch: Callable[[], T], seconds: float = POLL_SECONDS,
                 gate: threading.Event | None = None) -> None:
        self.name = name
        self._fetch = fetch
        self.seconds = seconds
        self._gate = gate
        """The first poll waits for this (the pod list on screen), at most GATE_WAIT: it only competes for the GIL."""
        self._lock = threading.Lock()
        self._generation = 0
        self._wake: threading.Event | None = None
        self._sink: Callable[[T], None] | None = None
        self.listed = 0
        """Listings delivered so far (for tests and the bench)."""

    def start(self, sink: Callable[[T], None]) -> None:
        """Begin polling into `sink` (called on the poll thread; a widget posts a message from it)."""
        with self._lock:
            self._sink = sink
        self.restart()

    def restart(self) -> None:
        """A new scope (context, namespace): a fresh thread polls now; the old one stops without delivering."""
        with self._lock:
            if self._sink is None:
                return
            self._generation += 1
            if self._wake is not None:
                self._wake.set()
            wake = self._wake = threading.Event()
            generation, sink = self._generation, self._sink
        threading.Thread(target=self._loop, args=(generation, wake, sink), daemon=True,
                         name=f"kftui-poll-{self.name}").start()

    def poke(self) -> None:
        """Poll now instead of at the next tick (the `r` key)."""
        with self._lock:
            if self._wake is not None:
                self._wake.set()

    def stop(self) -> None:
        """No more polls, no more deliveries."""
        with self._lock:
            self._generation += 1
            self._sink = None
            if self._wake is not None:
                self._wake.set()
            self._wake = None

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _loop(self, generation: int, wake: threading.Event, sink: Callable[[T], None]) -> None:
        if self._gate is not None:
            self._gate.wait(GATE_WAIT)
        while self._current(generation):
            wake.clear()  # a poke from now on asks for the listing after this one
            result = self._fetch()
            if not self._current(generation):
                return
            sink(result)
            self.listed += 1
            wake.wait(self.seconds)


# ---- logs ----------------------------------------------------------------------------------------


class PodLogFeed:
    """Follows one pod's log for the log pane: the LogFollower and its reader thread live here, not in the widget."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        """`client_factory()` gives a kubernetes ApiClient (called on the reader thread: the import is slow)."""
        self.client_factory = client_factory

    def open(self, namespace: str, pod: str, container: str | None, *, all_containers: bool, previous: bool,
             tail_lines: int | None, since_seconds: int | None, on_lines: Callable[[str, list[str]], None],
             on_status: Callable[[LogStatus], None]) -> Any:
        """Start following on a daemon thread; returns the follower (stop() ends it at once)."""
        from kftui.cluster.logs import LogFollower

        follower = LogFollower(
            None, namespace, pod, container, all_containers=all_containers, previous=previous,
            tail_lines=tail_lines, since_seconds=since_seconds, on_lines=on_lines, on_status=on_status,
            keep_timestamps=True,  # the view shows or hides the stamp (T) without asking the server again
            chunk_size=1024 * 1024,
        )
        threading.Thread(target=self._run, args=(follower, on_status), daemon=True,
                         name=f"kftui-logpane-{pod}").start()
        return follower

    def _run(self, follower: Any, on_status: Callable[[LogStatus], None]) -> None:
        """The reader thread: builds the client here, reports any failure where the lines would be."""
        try:
            follower.client = self.client_factory()
        except Exception as exc:  # no kubeconfig, bad context
            on_status(LogStatus(LogState.ERROR, "", f"cannot build a Kubernetes client: {exc}"))
            return
        try:
            follower.run()
        except Exception as exc:
            if not follower.stopped:
                on_status(LogStatus(LogState.ERROR, follower.container or "",
                                    f"log reader failed: {type(exc).__name__}: {exc}"))


# ---- notebooks -----------------------------------------------------------------------------------

NotebookItem = tuple[NotebookRow, Diagnosis | None]


class NotebooksListing:
    """One poll of the notebooks view: every notebook with its diagnosis, or why the list could not be read."""

    def __init__(self, items: list[NotebookItem] | None, error: str = "") -> None:
        self.items = items
        self.error = error


class NotebooksFeed(Poller[NotebooksListing]):
    """Every notebook of the watched scope every few seconds, each one not ready with its diagnosis."""

    def __init__(self, services: Any, known: Callable[[], dict[str, str]], seconds: float = POLL_SECONDS,
                 gate: threading.Event | None = None) -> None:
        """`known()` gives what setup learned (project, zone, ...) so fixes carry values instead of placeholders."""
        self.services = services
        self.known = known
        super().__init__("notebooks", self.fetch, seconds, gate)

    def fetch(self) -> NotebooksListing:
        """One listing with diagnoses (on the poll thread); a failure is said, not raised, and polling goes on."""
        from kftui.cluster.notebooks import list_notebooks
        from kftui.diagnose import diagnose_events

        try:
            rows = list_notebooks(self.services.kube_api(), self.services.options.namespace)
        except Exception as exc:  # the list stays as it was; the title says why it is not fresh
            text = str(exc).strip().splitlines()
            return NotebooksListing(None, f"{type(exc).__name__}: {text[0] if text else 'no message'}")
        known = self.known()
        out: list[NotebookItem] = []
        for row in rows:
            diagnosis = None
            if row.phase not in (NotebookPhase.READY, NotebookPhase.STOPPED):
                diagnosis = diagnose_events(list(row.events), namespace=row.namespace, pod=row.pod_name,
                                            notebook=row.name, **known)
            out.append((row, diagnosis))
        return NotebooksListing(out)


# ---- runs ----------------------------------------------------------------------------------------


class RunsListing:
    """One poll of the runs view: server runs (or why there are none) and the local runs."""

    def __init__(self, rows: list[RunRow], local: list[LocalRunRecord], error: str = "", url: str = "") -> None:
        self.rows = rows
        self.local = local
        self.error = error
        self.url = url


class RunsFeed(Poller[RunsListing]):
    """The pipelines API and kfp.local for the runs view: listings on a poll thread, the rest called in workers."""

    def __init__(self, services: Any, state_dir: Callable[[], Path], seconds: float = POLL_SECONDS) -> None:
        self.services = services
        self.state_dir = state_dir
        super().__init__("runs", self.fetch, seconds)

    def fetch(self) -> RunsListing:
        """List server runs and local runs; an unreachable API becomes the listing's error, not an exception."""
        from kftui.errors import KftuiError
        from kftui.pipelines.local import list_local_runs
        from kftui.pipelines.runs import list_runs

        local = list_local_runs(self.state_dir())
        try:
            client = self.services.kfp()
            rows = list_runs(client)
        except KftuiError as exc:
            return RunsListing([], local, str(exc))
        except Exception as exc:  # anything else still must not stop the poll or freeze the view
            return RunsListing([], local, f"listing runs failed: {type(exc).__name__}: {exc}")
        return RunsListing(rows, local, url=str(client.url))

    def detail(self, run_id: str) -> tuple[RunDetail | None, dict[str, list[PodRef]], str, str]:
        """(detail, pods by task id, error, pods error): the run's task tree from KFP, then its pods (blocking)."""
        from kftui.cluster.runpods import list_run_pods
        from kftui.core.runs import map_pods_to_nodes, pods_of
        from kftui.errors import KftuiError
        from kftui.pipelines.runs import get_run

        try:
            detail = get_run(self.services.kfp(), run_id)
        except KftuiError as exc:
            return None, {}, str(exc), ""
        pods: dict[str, list[PodRef]] = {}
        pods_error = ""
        try:
            raw = list_run_pods(self.services.kube_api(), run_id, self.services.options.namespace)
            where = {str(p["name"]): str(p["namespace"]) for p in raw}
            by_node = map_pods_to_nodes(run_id, raw)
            for task in detail.walk():
                found = pods_of(task, by_node)
                if found:
                    pods[task.id] = [(where[name], name) for name in found]
        except Exception as exc:  # no cluster, or no right to list pods: the tree still shows, the log explains
            pods_error = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not isinstance(exc, KftuiError):
                pods_error = f"{type(exc).__name__}: {pods_error}"
        return detail, pods, "", pods_error

    def act(self, verb: str, run_id: str) -> None:
        """Terminate, retry or archive a run (blocking; raises KftuiError with the API's reason)."""
        from kftui.pipelines import runs

        fn = {"terminate": runs.terminate_run, "retry": runs.retry_run, "archive": runs.archive_run}[verb]
        fn(self.services.kfp(), run_id)

    def submit(self, pipeline: str, params: dict[str, str], experiment: str) -> RunRow:
        """Create a run on the server and read it back (blocking; raises KftuiError)."""
        from kftui.pipelines.runs import get_run, submit_run

        client = self.services.kfp()
        run_id = submit_run(client, pipeline, params=params, experiment=experiment)
        return get_run(client, run_id).row

    @staticmethod
    def split_params(words: list[str]) -> dict[str, str]:
        """`name=value` words as the CLI reads them."""
        from kftui.pipelines.params import split_params

        return split_params(words)

    def start_local(self, pipeline: str, params: dict[str, str]) -> Any:
        """Start a kfp.local run in a child process; returns the LocalRun (events(), record, stop())."""
        from kftui.pipelines.local import start_local_run

        return start_local_run(pipeline, params, self.state_dir())

    @staticmethod
    def local_events(path: str) -> list[Any]:
        """A finished local run's events, read back from its output.log (raises OSError)."""
        from kftui.pipelines.local import parse_line

        out = []
        with Path(path).open(encoding="utf-8", errors="replace") as log:
            for raw in log:
                event = parse_line(raw)
                if event is not None:
                    out.append(event)
        return out


_CONTACTS: dict[tuple[int, str, str], str] = {}
_LOOKUPS: dict[tuple[int, str, str], threading.Event] = {}
_LATER: dict[tuple[int, str, str], list[Callable[[], None]]] = {}
"""Who asked before the lookup ended and wants to know when it found someone (to show the fix again)."""
_CONTACTS_LOCK = threading.Lock()
CONTACT_WAIT = 2.0
"""How long a details load waits for the contact lookup (gcloud, the IAM policy); after that it shows the
stand-in and the lookup finishes in the background for the next one."""


def _look_up(app: Any, answers: dict[str, Any], project: str, key: tuple[int, str, str],
             done: threading.Event) -> None:
    """Find the contact on its own thread, so no view waits longer than CONTACT_WAIT for gcloud or Google."""
    email = ""
    try:
        from kftui.operations.quota import find_contact

        found = find_contact(answers, project or None, app.services.projects() if project else None)
        email = found.email if found is not None else ""
    except Exception:  # an unreadable policy or a bad given address: the form asks instead
        email = ""
    with _CONTACTS_LOCK:
        _CONTACTS[key] = email
        _LOOKUPS.pop(key, None)
        later = _LATER.pop(key, [])
    done.set()
    for then in later if email else ():
        with contextlib.suppress(Exception):  # a view that went away meanwhile
            then()


def _contact(app: Any, answers: dict[str, Any], project: str, key: tuple[int, str, str], wait: float,
             then: Callable[[], None] | None) -> str:
    """The quota contact, looked up once per key on one background thread; callers wait at most `wait`, and
    `then` is called (on the lookup's thread) if it was not known by then and is found later."""
    with _CONTACTS_LOCK:
        if key in _CONTACTS:
            return _CONTACTS[key]
        done = _LOOKUPS.get(key)
        if done is None:
            done = _LOOKUPS[key] = threading.Event()
            threading.Thread(target=_look_up, args=(app, answers, project, key, done), daemon=True,
                             name="kftui-contact").start()
    if wait > 0:
        done.wait(wait)
    with _CONTACTS_LOCK:
        if key in _CONTACTS:
            return _CONTACTS[key]
        if then is not None:
            _LATER.setdefault(key, []).append(then)
        return ""


def fix_context(app: Any, wait: float = CONTACT_WAIT, then: Callable[[], None] | None = None) -> dict[str, str]:
    """What setup learned plus the quota contact, so every fix a watch view shows carries values, not stand-ins.

    Runs on a feed or worker thread (the contact may need gcloud and the project's IAM policy); the contact is
    found once per project and app, as the GPU step finds it: the given email, a person's active account, or an
    owner or editor of the project. With no person found the fix keeps its EMAIL stand-in for the `a` form.
    `wait=0` never waits (the details pane: a cursor move must show its pod at once; the screen warms the
    lookup a second after it starts, so by the first selection it is usually known). A caller that got no
    contact because the lookup was still running passes `then` to show its fixes again once it is found.
    """
    from kftui.widgets.notebooks import known_context

    known = known_context(app)
    project = known.get("project", "")
    answers = dict(getattr(getattr(app, "state", None), "answers", {}) or {})
    email = _contact(app, answers, project, (id(app), project, str(answers.get("email") or "")), wait, then)
    if email:
        known["email"] = email
    return known


def widget_feed(view: str, app: Any, gate: threading.Event | None = None) -> Any:
    """The feed a widget view (notebooks, runs) is built with; None for a view that needs none."""
    if view == "notebooks":
        feed = NotebooksFeed(app.services, dict, gate=gate)
        feed.known = lambda: fix_context(app, then=feed.poke)  # a late contact: list again with its address
        return feed
    if view == "runs":
        from kftui import paths

        return RunsFeed(app.services, paths.state_dir)
    return None
