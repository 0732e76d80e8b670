"""Follow pod logs like a person needs: batches for speed, resume without loss, restarts followed, states said."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kftui.cluster._http import ClusterApiError, Stoppable, api_error, get_json, open_stream
from kftui.core.kube import LogState, LogStatus, parse_time

LinesCallback = Callable[[str, list[str]], None]
StatusCallback = Callable[[LogStatus], None]
NOT_STARTED_POLL = 1.0
WAITING_AFTER = 1.0


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
                 keep_timestamps: bool = False, chunk_size: int = 256 * 1024) -> None:
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
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.queue: queue.SimpleQueue[tuple[str, list[str]] | LogStatus] = queue.SimpleQueue()
        self._on_lines: LinesCallback = on_lines or (lambda c, lines: self.queue.put((c, lines)))
        self._on_status: StatusCallback = on_status or self.queue.put
        self._stop = Stoppable()
        self.lines_seen = 0
        self.duplicates_dropped = 0
        self.reconnects = 0
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

    def _follow_container(self, container: str) -> None:
        """Follow one container across server hang-ups, restarts and slow starts until it ends or stop()."""
        last_stamp: str | None = None  # timestamp of the last line delivered (resume point)
        run_id: str | None = None
        last_why: str | None = None
        attempt = 0
        first_request = True
        delay = self.retry_delay
        while not self.stopped:
            try:
                pod = self._read_pod()
            except ClusterApiError as exc:
                self._status(LogState.ERROR, container, str(exc))
                if self._sleep(delay):
                    return
                delay = min(delay * 2, self.max_retry_delay)
                continue
            except Exception as exc:
                attempt += 1
                self._status(LogState.RECONNECTING, container, f"cannot reach the cluster: {exc}", attempt)
                if self._sleep(delay):
                    return
                delay = min(delay * 2, self.max_retry_delay)
                continue
            if pod is None:
                self._status(LogState.ENDED, container, "pod deleted")
                return
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
                self._status(LogState.RESTARTED, container, f"restart #{cs.get('restartCount', 0)}: following the "
                                                            "new run from its first line")
                last_stamp = None
                first_request = False
            run_id = cid or run_id
            query: list[tuple[str, Any]] = [("container", container), ("timestamps", "true")]
            if self.follow:
                query.append(("follow", "true"))
            if self.previous:
                query.append(("previous", "true"))
            if last_stamp is not None:
                query.append(("sinceTime", last_stamp))
            elif first_request:
                if self.tail_lines is not None:
                    query.append(("tailLines", self.tail_lines))
                if self.since_time is not None:
                    query.append(("sinceTime", self.since_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
                elif self.since_seconds is not None:
                    query.append(("sinceSeconds", self.since_seconds))
            try:
                outcome, last_stamp = self._stream(container, query, last_stamp)
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
                self._status(LogState.ERROR, container, str(exc))
                if self.previous or self._sleep(self.max_retry_delay):
                    return
                continue
            except Exception as exc:
                if self.stopped:
                    return
                outcome = f"connection lost: {exc}"
            first_request = False
            if self.stopped:
                return
            if not self.follow:
                self._status(LogState.ENDED, container, "end of log")
                return
            try:
                pod = self._read_pod()
            except Exception:
                pod = {}
            if pod is None:
                self._status(LogState.ENDED, container, "pod deleted")
                return
            if pod:
                done = self._finished(pod, container)
                if done is not None:
                    self._status(LogState.ENDED, container, done)
                    return
                new_cid = str(self._container_status(pod, container).get("containerID") or "")
                if new_cid and new_cid != run_id:
                    continue  # restarted: the top of the loop announces it and starts the new run
                if self._not_started(pod, container) is not None:
                    continue
            attempt += 1
            self.reconnects += 1
            where = f" from {last_stamp}" if last_stamp else ""
            self._status(LogState.RECONNECTING, container, f"{outcome}; resuming{where}", attempt)
            if self._sleep(0 if attempt == 1 else min(self.retry_delay * attempt, self.max_retry_delay)):
                return

    def _stream(self, container: str, query: list[tuple[str, Any]],
                last_stamp: str | None) -> tuple[str, str | None]:
        """One log request read to its end; returns (why it ended, last timestamp delivered)."""
        from kubernetes.client.exceptions import ApiException

        path = f"/api/v1/namespaces/{self.namespace}/pods/{self.pod}/log"
        try:
            resp = open_stream(self.client, path, query, None if self.follow else 60)
        except ApiException as exc:
            raise api_error(exc) from exc
        self._stop.track(resp)
        got_data = threading.Event()
        connected = datetime.now(UTC)

        def say_waiting() -> None:
            if not got_data.is_set() and not self.stopped:
                self._status(LogState.WAITING, container, "the container has not written anything yet",
                             since=connected)

        timer = threading.Timer(WAITING_AFTER, say_waiting) if self.follow else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        skip_until = ts_ns(last_stamp) if last_stamp else None
        prefix = f"[{container}] " if self.prefix else ""
        shape = self._shaper(prefix)
        buf = b""
        streaming = False
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
                if skip_until is not None:
                    lines, skip_until = self._drop_seen(lines, skip_until)
                    if not lines:
                        continue
                got_data.set()
                if not streaming:
                    streaming = True
                    self._status(LogState.STREAMING, container)
                last_stamp = lines[-1].partition(" ")[0]
                texts = shape(lines)
                self.lines_seen += len(texts)
                for i in range(0, len(texts), self.max_batch):
                    self._on_lines(container, texts[i:i + self.max_batch])
            if buf:  # limitBytes or a stream cut mid-line: deliver the fragment
                line = buf.decode("utf-8", "replace")
                stamp = line.partition(" ")[0]
                if skip_until is None or ts_ns(stamp) > skip_until:
                    last_stamp = stamp
                    self.lines_seen += 1
                    self._on_lines(container, shape([line]))
        finally:
            if timer is not None:
                timer.cancel()
            self._stop.release(resp)
        return ("the server closed the stream" if self.follow else "done"), last_stamp

    def _shaper(self, prefix: str) -> Callable[[list[str]], list[str]]:
        """How raw `STAMP text` lines are delivered: stamp dropped (default) or kept, container prefix added."""
        if self.keep_timestamps:
            tag = f" {prefix}" if prefix else ""
            return (lambda lines: [line.replace(" ", tag, 1) for line in lines]) if tag else (lambda lines: lines)
        return lambda lines: [prefix + line.partition(" ")[2] for line in lines]

    def _drop_seen(self, lines: list[str], skip_until: int) -> tuple[list[str], int | None]:
        """Drop lines already delivered before a resume (the API's sinceTime keeps whole seconds)."""
        for i, line in enumerate(lines):
            if ts_ns(line.partition(" ")[0]) > skip_until:
                self.duplicates_dropped += i
                return lines[i:], None
        self.duplicates_dropped += len(lines)
        return [], skip_until
