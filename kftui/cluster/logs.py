"""Follow pod logs like a person needs: batches for speed, resume without loss, restarts followed, states said.

Lossless resume: every delivered line moves the resume point (its timestamp and how many delivered lines share
it); a reconnect asks from that second (the API's sinceTime keeps whole seconds) and drops what was already
delivered by (timestamp, count within the timestamp). A last line without its newline is held back until the
newline arrives; it is delivered as is only when the run has truly ended there. A run that ends (restart, exit)
is read to its end before the next one starts, so a reset just before a restart loses nothing either.
"""

from __future__ import annotations

import bisect
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

from kftui.cluster._http import ClusterApiError, Stoppable, api_error, get_json, open_stream, secs, short_error
from kftui.core.kube import LogState, LogStatus, parse_time

LinesCallback = Callable[[str, list[str]], None]
StatusCallback = Callable[[LogStatus], None]
NOT_STARTED_POLL = 1.0
WAITING_AFTER = 1.0
IDLE_TIMEOUT = 60
"""Seconds a follow stream may stay silent before it is quietly reopened (a dead connection is found this way)."""
READ_TIMEOUT = 60
"""Seconds a non-follow read may stall."""
MAX_QUIET_ATTEMPTS = 8
"""Failed reads in a row, without a line delivered, before a non-follow read gives up."""
HEAD_LIMIT = 10_000
STALLED_RESUMES = 3
STALL_SECONDS = 30.0
"""A follow whose resumes all break off while still skipping the replayed lines of the resume second (at least
STALLED_RESUMES in a row, for this long) gives up on that second and goes on from the log's end, saying which lines
it may have missed: a pod writing more in one second than the connection carries between its resets would
otherwise be resumed forever. Resets that only now and then land inside the replay never get this far."""
"""Lines of a tail window's first stamp remembered by content (beyond it, the count within the stamp is used)."""


def ts_ns(stamp: str) -> int:
    """An RFC3339Nano timestamp as integer nanoseconds (the kubelet trims trailing zeros: never compare text)."""
    head, dot, rest = stamp.partition(".")
    frac = ""
    if dot:
        frac = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(frac):]
    else:
        head, tz = (head[:-1], "Z") if head.endswith("Z") else (head, "")
    base = parse_time(head + (tz or "Z"))
    if base is None:
        return 0
    return int(base.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


@dataclass
class ResumePoint:
    """Where a follow stands in one run: the last delivered line's stamp, and how many delivered lines carry it."""

    stamp: str = ""
    ns: int = -1
    count: int = 0
    head: list[str] | None = None
    """Set while every delivered line shares the first stamp of a tailLines window: that window may begin inside
    the stamp's run, so the count within the stamp is unknown and a resume finds these lines by content instead."""

    def since_time(self) -> str:
        """The API's sinceTime for a resume: RFC3339 to the second (the server keeps no more), rounded down."""
        return datetime.fromtimestamp(self.ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def advance(self, lines: list[str], window_start: bool = False) -> None:
        """Move past delivered `STAMP text` lines (only the trailing run of equal stamps needs looking at).

        `window_start`: these are the first lines of a tailLines answer (its first stamp may have begun earlier).
        """
        if not lines:
            return
        last = lines[-1].partition(" ")[0]
        same = 0
        for line in reversed(lines):
            if line.partition(" ")[0] != last:
                break
            same += 1
        if window_start and same == len(lines):
            self.stamp, self.ns, self.count = last, ts_ns(last), same
            self.head = list(lines) if same <= HEAD_LIMIT else None
            return
        if same == len(lines) and last == self.stamp:
            self.count += same
            if self.head is not None:
                self.head = self.head + lines if len(self.head) + same <= HEAD_LIMIT else None
            return
        self.head = None
        ns = ts_ns(last)
        if ns == 0 and self.ns >= 0:  # a line without a stamp: count it with the last stamped one
            self.count += same
            return
        self.stamp, self.ns, self.count = last, ns, same


@dataclass
class _Outcome:
    """How one log request ended."""

    clean: bool
    why: str
    delivered: int = 0
    idle: bool = False
    quiet_since: datetime | None = None
    fragment: bytes = b""
    skipping: bool = False
    skip_ns: int = -1
    skip_left: int = 0
    restarted: bool = False
    """The stream turned out to be a newer run than the one being resumed: nothing of it was delivered."""
    stalled: bool = False
    """It ended before getting past the lines already delivered: the resume made no progress."""


class LogFollower:
    """Streams one container (or all, interleaved) of a pod; lines go out in batches, states as LogStatus.

    Without callbacks, everything lands in `self.queue` as `(container, lines)` tuples or LogStatus items.
    """

    def __init__(self, client: Any, namespace: str, pod: str, container: str | None = None, *,
                 all_containers: bool = False, follow: bool = True, previous: bool = False,
                 since_seconds: int | None = None, since_time: datetime | None = None,
                 tail_lines: int | None = None, on_lines: LinesCallback | None = None,
                 on_status: StatusCallback | None = None, prefix_container: bool | None = None,
                 max_batch: int = 5000, retry_delay: float = 0.2, max_retry_delay: float = 5.0,
                 keep_timestamps: bool = False, chunk_size: int = 256 * 1024, idle_timeout: int = IDLE_TIMEOUT,
                 pod_uid: str | None = None, stall_seconds: float = STALL_SECONDS) -> None:
        """Say what to follow and where lines and states go; nothing happens until run() or start()."""
        self.client = client
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.all_containers = all_containers
        self.follow = follow and not previous
        self.previous = previous
        self.since_seconds = since_seconds
        self.since_time = since_time
        self.tail_lines = tail_lines
        self.prefix = all_containers if prefix_container is None else prefix_container
        self.max_batch = max_batch
        self.keep_timestamps = keep_timestamps
        """Deliver `STAMP [container] text` (a view that can show or hide the stamp) instead of `[container] text`."""
        self.chunk_size = chunk_size
        self.idle_timeout = int(idle_timeout)
        self.pod_uid = pod_uid
        """Follow this pod instance only: a new pod of the same name ends the follow (a multi-pod tail starts it)."""
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.stall_seconds = stall_seconds
        self.queue: queue.SimpleQueue[tuple[str, list[str]] | LogStatus] = queue.SimpleQueue()
        self._on_lines: LinesCallback = on_lines or (lambda c, lines: self.queue.put((c, lines)))
        self._on_status: StatusCallback = on_status or self.queue.put
        self._stop = Stoppable()
        self.lines_seen = 0
        self.duplicates_dropped = 0
        self.reconnects = 0
        self.gaps = 0
        """Times a follow went on from the log's end because a resume could not get through (each one said)."""
        self._threads: list[threading.Thread] = []

    # ---- control --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop at once: open streams are shut down, waits are cut short; returns immediately."""
        self._stop.stop()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.stopped.is_set()

    def start(self) -> threading.Thread:
        """Run on a daemon thread (never a pool worker; never blocks interpreter exit)."""
        thread = threading.Thread(target=self.run, name=f"kftui-logs-{self.pod}", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        """Blocking: follow the chosen container, or every container on its own thread."""
        self._status(LogState.CONNECTING, self.container or "")
        try:
            containers = self._containers()
        except ClusterApiError as exc:
            self._status(LogState.ENDED if exc.status == 404 else LogState.ERROR, self.container or "",
                         "pod deleted" if exc.status == 404 else str(exc))
            return
        if len(containers) == 1:
            self._follow_container(containers[0])
            return
        threads = [threading.Thread(target=self._follow_container, args=(c,), daemon=True,
                                    name=f"kftui-logs-{self.pod}-{c}") for c in containers]
        self._threads = threads
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # ---- helpers ----------------------------------------------------------------------------------

    def _status(self, state: LogState, container: str, detail: str = "", attempt: int = 0,
                since: datetime | None = None) -> None:
        """Report a state change unless stopped."""
        if not self.stopped or state == LogState.ENDED:
            self._on_status(LogStatus(state, container, detail, attempt, since))

    def _read_pod(self) -> dict[str, Any] | None:
        """The pod as JSON, None when it is gone."""
        try:
            pod: dict[str, Any] = get_json(self.client, f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}")
        except ClusterApiError as exc:
            if exc.status == 404:
                return None
            raise
        return pod

    def _containers(self) -> list[str]:
        """Which containers to follow (a multi-container pod needs a choice unless all_containers)."""
        pod = self._read_pod()
        if pod is None:
            raise ClusterApiError(f'pods "{self.pod}" not found', 404, "NotFound")
        names = [str(c["name"]) for c in pod.get("spec", {}).get("containers") or []]
        if self.all_containers:
            return names
        if self.container:
            return [self.container]
        default = (pod.get("metadata", {}).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
        return [default if default in names else names[0]] if names else [""]

    @staticmethod
    def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
        """The containerStatus of one container ({} when the pod has none yet)."""
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if cs.get("name") == container:
                return dict(cs)
        return {}

    def _not_started(self, pod: dict[str, Any], container: str) -> str | None:
        """Why the container has not started (waiting reason + message, or the scheduling reason), else None."""
        cs = self._container_status(pod, container)
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting is not None:
            msg = str(waiting.get("message") or "")
            return f"{waiting.get('reason', 'Waiting')}: {msg}" if msg else str(waiting.get("reason", "Waiting"))
        if not cs:
            for cond in (pod.get("status") or {}).get("conditions") or []:
                if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                    return f"{cond.get('reason', 'Unschedulable')}: {cond.get('message', '')}".rstrip(": ")
            return "Pending: the container has not been created yet"
        return None

    def _finished(self, pod: dict[str, Any], container: str) -> str | None:
        """Why following is over for good (terminated and will not restart), else None."""
        cs = self._container_status(pod, container)
        term = (cs.get("state") or {}).get("terminated")
        phase = (pod.get("status") or {}).get("phase")
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        if term is not None and (phase in ("Succeeded", "Failed") or policy == "Never"
                                 or (policy == "OnFailure" and int(term.get("exitCode", 0)) == 0)):
            return f"container exited with code {term.get('exitCode', 0)} ({term.get('reason', 'Completed')})"
        if phase in ("Succeeded", "Failed") and not cs:
            return f"pod {phase.lower()}"
        return None

    def _sleep(self, seconds: float) -> bool:
        """Wait unless stopped; True when stop() interrupted."""
        return self._stop.stopped.wait(seconds)

    # ---- the follow loop ----------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Seconds before reconnect `attempt`: at once the first time, then doubling up to max_retry_delay."""
        if attempt <= 1:
            return 0.0
        return float(min(self.retry_delay * 2 ** (attempt - 2), self.max_retry_delay))

    def _query(self, container: str, resume: ResumePoint, first: bool, *, follow: bool,
               previous: bool, from_end: bool = False) -> list[tuple[str, Any]]:
        """The log request: from the resume point when there is one, else the caller's tail/since (first only);
        `from_end`: only what is written from now on."""
        query: list[tuple[str, Any]] = [("container", container), ("timestamps", "true")]
        if follow:
            query.append(("follow", "true"))
        if previous:
            query.append(("previous", "true"))
        if resume.ns >= 0:
            query.append(("sinceTime", resume.since_time()))
        elif from_end:
            query.append(("tailLines", 0))
        elif first:
            if self.tail_lines is not None:
                query.append(("tailLines", self.tail_lines))
            if self.since_time is not None:
                query.append(("sinceTime", self.since_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
            elif self.since_seconds is not None:
                query.append(("sinceSeconds", self.since_seconds))
        return query

    def _follow_container(self, container: str) -> None:
        """Follow one container across resets, restarts, replacement and slow starts until it ends or stop()."""
        resume = ResumePoint()
        run_id: str | None = None
        uid = self.pod_uid
        last_why: str | None = None
        attempt = 0
        first = True
        quiet_since: datetime | None = None
        stalled, stalled_since, from_end, gap = 0, 0.0, False, ""
        while not self.stopped:
            try:
                pod = self._read_pod()
            except ClusterApiError as exc:
                attempt += 1
                delay = max(self._backoff(attempt), self.retry_delay)
                self._status(LogState.ERROR, container, f"{exc}; retrying in {secs(delay)}", attempt)
                if self._sleep(delay):
                    return
                continue
            except Exception as exc:
                attempt += 1
                delay = max(self._backoff(attempt), self.retry_delay)
                self._status(LogState.RECONNECTING, container,
                             f"in {secs(delay)}: cannot reach the cluster: {short_error(exc)}", attempt)
                if self._sleep(delay):
                    return
                continue
            if pod is None:
                self._status(LogState.ENDED, container, "pod deleted")
                return
            pod_uid = str((pod.get("metadata") or {}).get("uid") or "")
            if uid is None or not uid:
                uid = pod_uid
            elif pod_uid and pod_uid != uid:
                if self.pod_uid is not None:
                    self._status(LogState.ENDED, container, "pod deleted (a new pod of the same name replaced it)")
                    return
                uid, resume, run_id, first = pod_uid, ResumePoint(), None, False
                self._status(LogState.RESTARTED, container, "pod replaced by a new one: following it from its "
                                                            "first line")
            if not self.previous:
                why = self._not_started(pod, container)
                if why is not None:
                    if why != last_why:
                        self._status(LogState.NOT_STARTED, container, why)
                    last_why = why
                    if self._sleep(NOT_STARTED_POLL):
                        return
                    continue
                last_why = None
            cs = self._container_status(pod, container)
            cid = str(cs.get("containerID") or "")
            if run_id is not None and cid and cid != run_id and not self.previous:
                if resume.ns >= 0:
                    self._catch_up(container, resume, previous=True)  # the old run's last lines, before its end
                self._status(LogState.RESTARTED, container, f"restart #{cs.get('restartCount', 0)}: following the "
                                                            "new run from its first line")
                resume = ResumePoint()
                first = False
            run_id = cid or run_id
            query = self._query(container, resume, first, follow=self.follow, previous=self.previous,
                                from_end=from_end)
            same_run = None
            if resume.ns >= 0 and run_id and not self.previous:
                same_run = self._still_run(container, run_id)
            try:
                out = self._stream(container, query, resume, follow=self.follow, quiet_since=quiet_since,
                                   reconnected=attempt, same_run=same_run, gap=gap)
            except ClusterApiError as exc:
                if "waiting to start" in str(exc) or "ContainerCreating" in str(exc):
                    continue  # the pod read above decides what to say
                if exc.status == 404:
                    self._status(LogState.ENDED, container, "pod deleted")
                    return
                if self.previous and "previous terminated container" in str(exc):
                    self._status(LogState.ENDED, container, f"no previous run: container {container} has not "
                                                            "restarted (p shows the current run again)")
                    return
                attempt += 1
                delay = max(self._backoff(attempt), self.max_retry_delay)
                self._status(LogState.ERROR, container, f"{exc}; retrying in {secs(delay)}", attempt)
                if self._sleep(delay):
                    return
                continue
            except Exception as exc:  # the request could not be sent or answered (refused, reset, timed out)
                if self.stopped:
                    return
                out = _Outcome(False, f"cannot open the log stream: {short_error(exc)}")
            if out.restarted:
                continue  # the top of the loop sees the new container id: old run's rest first, then the new run
            if out.delivered:
                first = False
                attempt = 0
                from_end, gap = False, ""
            if out.stalled and not out.idle:
                stalled, stalled_since = stalled + 1, stalled_since if stalled else time.monotonic()
            else:
                stalled = 0
            quiet_since = out.quiet_since if out.idle else None
            if self.stopped:
                return
            if not self.follow:
                if out.clean:
                    self._deliver_fragment(container, out, resume)
                    self._status(LogState.ENDED, container, "end of log")
                    return
                attempt += 1
                if attempt > MAX_QUIET_ATTEMPTS:
                    self._status(LogState.ERROR, container, f"{out.why}; gave up after {attempt - 1} attempts")
                    return
                self.reconnects += 1
                delay = self._backoff(attempt)
                self._status(LogState.RECONNECTING, container, self._retry_words(out.why, delay, resume), attempt)
                if self._sleep(delay):
                    return
                continue
            try:
                pod = self._read_pod()
            except Exception:
                pod = {}
            if pod is None:
                self._status(LogState.ENDED, container, "pod deleted")
                return
            if pod:
                if str((pod.get("metadata") or {}).get("uid") or "") not in ("", uid):
                    continue  # replaced: the top of the loop follows the new pod, or ends (bound to this one)
                done = self._finished(pod, container)
                if done is not None:
                    self._catch_up(container, resume, previous=False)
                    self._status(LogState.ENDED, container, done)
                    return
                new_cid = str(self._container_status(pod, container).get("containerID") or "")
                if new_cid and new_cid != run_id:
                    continue  # restarted: the top of the loop reads the old run's rest and starts the new one
                if self._not_started(pod, container) is not None:
                    continue
            if out.idle:
                continue  # a quiet stream timed out: reopen without a word (the connection itself was fine)
            attempt += 1
            self.reconnects += 1
            delay = self._backoff(attempt)
            if stalled >= STALLED_RESUMES and time.monotonic() - stalled_since >= self.stall_seconds \
                    and resume.ns >= 0:
                gap = _clock(resume.stamp)
                self.gaps += 1
                resume, stalled, from_end = ResumePoint(), 0, True
                self._status(LogState.RECONNECTING, container,
                             f"in {secs(delay)}: {out.why}; the log grows faster than this connection holds between "
                             f"resets, so it goes on from its end: lines written after {gap} may be missing", attempt)
                if self._sleep(delay):
                    return
                continue
            self._status(LogState.RECONNECTING, container, self._retry_words(out.why, delay, resume), attempt)
            if self._sleep(delay):
                return

    @staticmethod
    def _retry_words(why: str, delay: float, resume: ResumePoint) -> str:
        """What a reconnect says beside `reconnecting (attempt N)`: when, why, and from where."""
        where = f", resuming after {resume.stamp}" if resume.ns >= 0 else ""
        when = "now" if delay <= 0 else f"in {secs(delay)}"
        return f"{when}: {why}{where}"

    def _catch_up(self, container: str, resume: ResumePoint, *, previous: bool) -> None:
        """Read a run that has ended up to its true end (a few tries), so a reset just before the end loses nothing."""
        if not self._unread_tail(container, resume, previous=previous):
            return
        for attempt in range(1, MAX_QUIET_ATTEMPTS + 1):
            if self.stopped:
                return
            query = self._query(container, resume, resume.ns < 0, follow=False, previous=previous)
            try:
                out = self._stream(container, query, resume, follow=False)
            except ClusterApiError:
                return  # nothing more to read (no previous run, pod gone)
            except Exception as exc:
                out = _Outcome(False, f"cannot open the log stream: {short_error(exc)}")
            if out.clean:
                self._deliver_fragment(container, out, resume)
                return
            if self._sleep(self._backoff(attempt + 1)):
                return

    def _unread_tail(self, container: str, resume: ResumePoint, *, previous: bool) -> bool:
        """Whether an ended run has lines past the resume point: its last `count + 1` lines say it in one small read.

        Lines sharing the resume stamp come last; if more of them exist than were delivered, or any line is newer,
        or the run ends in a half line, something is unread. When the read itself fails, assume there is.
        """
        if resume.ns < 0:
            return True
        query: list[tuple[str, Any]] = [("container", container), ("timestamps", "true"),
                                        ("tailLines", resume.count + 1)]
        if previous:
            query.append(("previous", "true"))
        path = f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"
        try:
            resp = open_stream(self.client, path, query, READ_TIMEOUT)
            try:
                data = bytes(resp.data)
            finally:
                self._stop.release(resp)
        except Exception:  # cannot tell (reset, refused, an API error): read the rest to be sure
            return True
        if data and not data.endswith(b"\n"):
            return True
        stamps = [ts_ns(line.partition(" ")[0]) for line in data.decode("utf-8", "replace").split("\n") if line]
        return any(ns > resume.ns for ns in stamps) or sum(ns == resume.ns for ns in stamps) > resume.count

    def _deliver_fragment(self, container: str, out: _Outcome, resume: ResumePoint) -> None:
        """A run's true last line had no newline: deliver it now that the stream ended cleanly at the end."""
        if not out.fragment:
            return
        line = out.fragment.decode("utf-8", "replace")
        if out.skipping and _already_seen(ts_ns(line.partition(" ")[0]), out.skip_ns, out.skip_left):
            return
        self._deliver(container, [line], resume, self._shaper(f"[{container}] " if self.prefix else ""))

    def _deliver(self, container: str, lines: list[str], resume: ResumePoint,
                 shape: Callable[[list[str]], list[str]], window_start: bool = False) -> None:
        """Hand lines out in batches, moving the resume point past each batch as it is delivered."""
        texts = shape(lines)
        for i in range(0, len(texts), self.max_batch):
            part = lines[i:i + self.max_batch]
            self._on_lines(container, texts[i:i + self.max_batch])
            self.lines_seen += len(part)
            resume.advance(part, window_start=window_start and i == 0)

    def _still_run(self, container: str, run_id: str) -> Callable[[], bool]:
        """A check, made once a resumed stream is open, that the container is still the run being resumed.

        The pod was read before the stream was asked for; a restart in between would make the stream the new
        run's, read as if it continued the old one (its tail lost, no restart said). Reading the pod again after
        the stream answered is sound: if the old run is still current now, it was current when the stream opened.
        """

        def check() -> bool:
            try:
                pod = self._read_pod()
            except Exception:
                return True  # unknown: the checks after the stream still catch a restart
            if not pod:
                return True
            cid = str(self._container_status(pod, container).get("containerID") or "")
            return not cid or cid == run_id

        return check

    def _stream(self, container: str, query: list[tuple[str, Any]], resume: ResumePoint, *, follow: bool,
                quiet_since: datetime | None = None, reconnected: int = 0,
                same_run: Callable[[], bool] | None = None, gap: str = "") -> _Outcome:
        """One log request read to its end: complete lines delivered past the resume point, a last fragment kept."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, ReadTimeoutError

        path = f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"
        try:
            resp = open_stream(self.client, path, query, self.idle_timeout if follow else READ_TIMEOUT)
        except ApiException as exc:
            raise api_error(exc) from exc
        self._stop.track(resp)
        got_data = threading.Event()
        connected = quiet_since or datetime.now(UTC)

        def say_waiting() -> None:
            if not got_data.is_set() and not self.stopped:
                words = f"nothing new yet; lines written after {gap} may be missing" if gap else \
                    "the container has not written anything yet"
                self._status(LogState.WAITING, container, words, since=connected)

        timer = threading.Timer(WAITING_AFTER, say_waiting) if follow and quiet_since is None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        skipping, skip_ns, skip_left = resume.ns >= 0, resume.ns, resume.count
        head, matched, consumed = resume.head, 0, 0
        window = resume.ns < 0 and any(key == "tailLines" for key, _ in query)
        shape = self._shaper(f"[{container}] " if self.prefix else "")
        buf = b""
        delivered = 0
        out = _Outcome(True, "the server closed the stream" if follow else "done")
        try:
            for chunk in resp.stream(self.chunk_size, decode_content=False):
                if not chunk:
                    continue
                data = buf + chunk if buf else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    buf = data
                    continue
                buf = data[cut + 1:]
                lines = data[:cut].decode("utf-8", "replace").split("\n")
                if skipping and head is not None:
                    lines, skipping, matched, consumed = self._skip_head(lines, skip_ns, head, matched, consumed)
                    if not skipping and matched == len(head):
                        resume.count, resume.head = consumed, None  # found: the count within the stamp is known
                    if not lines:
                        continue
                elif skipping:
                    lines, skipping, skip_left = self._skip_seen(lines, skip_ns, skip_left)
                    if not lines:
                        continue
                if not got_data.is_set():
                    if same_run is not None and not same_run():
                        out = _Outcome(False, "the container restarted while reconnecting", restarted=True)
                        break
                    got_data.set()
                    words = f"reconnected after {reconnected} attempt{'s' if reconnected > 1 else ''}" \
                        if reconnected else ""
                    if gap:
                        words += f"{'; ' if words else ''}lines written after {gap} may be missing"
                    self._status(LogState.STREAMING, container, words)
                self._deliver(container, lines, resume, shape, window_start=window and not delivered)
                delivered += len(lines)
        except ReadTimeoutError:
            out = _Outcome(False, "no answer in time", idle=True, quiet_since=connected)
        except (HTTPError, OSError, HTTPException) as exc:
            out = _Outcome(False, f"connection lost: {short_error(exc)}")
        finally:
            if timer is not None:
                timer.cancel()
            self._stop.release(resp)
        out.delivered = delivered
        out.stalled = skipping and not delivered
        if out.clean:
            out.fragment, out.skipping, out.skip_ns, out.skip_left = buf, skipping, skip_ns, skip_left
        return out

    def _shaper(self, prefix: str) -> Callable[[list[str]], list[str]]:
        """How raw `STAMP text` lines are delivered: stamp dropped (default) or kept, container prefix added."""
        if self.keep_timestamps:
            tag = f" {prefix}" if prefix else ""
            return (lambda lines: [line.replace(" ", tag, 1) for line in lines]) if tag else (lambda lines: lines)
        return lambda lines: [prefix + line.partition(" ")[2] for line in lines]

    def _skip_head(self, lines: list[str], skip_ns: int, head: list[str], matched: int,
                   consumed: int) -> tuple[list[str], bool, int, int]:
        """Drop a resume's replay when the delivered lines of the resume stamp are known by content (a tail window).

        Lines of that stamp before the window were never shown and stay hidden; the delivered run is found where it
        is, and what follows it is new. Returns (new lines, still skipping, lines matched, stamp lines consumed).
        """
        for i, line in enumerate(lines):
            ns = _line_ns(line)
            if ns < skip_ns:
                continue
            if ns == skip_ns and matched < len(head):
                consumed += 1
                matched = matched + 1 if line == head[matched] else int(line == head[0])
                continue
            self.duplicates_dropped += i
            return lines[i:], False, matched, consumed
        self.duplicates_dropped += len(lines)
        return [], True, matched, consumed

    def _skip_seen(self, lines: list[str], skip_ns: int, skip_left: int) -> tuple[list[str], bool, int]:
        """Drop lines delivered before a resume: older stamps, and the first `skip_left` with the resume stamp.

        The API's sinceTime keeps whole seconds, so a resume replays the boundary second; several lines can share
        one stamp, so the count within it (not the stamp alone) says which of them were already delivered.
        """
        i = bisect.bisect_left(lines, skip_ns, key=_line_ns)  # lines come in stamp order: O(log n) stamps parsed
        while i < len(lines) and skip_left > 0 and _line_ns(lines[i]) == skip_ns:
            i += 1
            skip_left -= 1
        self.duplicates_dropped += i
        if i == len(lines):
            return [], True, skip_left
        return lines[i:], False, 0


def _line_ns(line: str) -> int:
    """The stamp of a `STAMP text` line in nanoseconds."""
    return ts_ns(line.partition(" ")[0])


def _clock(stamp: str) -> str:
    """A resume stamp as the log pane's reader says a time: HH:MM:SS UTC (a server's unreadable stamp is not
    echoed: it is only "the last line shown")."""
    ns = ts_ns(stamp)
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%H:%M:%S UTC") if ns > 0 else \
        "the last line shown"


def _already_seen(ns: int, skip_ns: int, skip_left: int) -> bool:
    """Whether a line with stamp `ns` is still inside the replayed part of a resumed stream."""
    return ns < skip_ns or (ns == skip_ns and skip_left > 0)
