"""LogFollower against the fake API server: ticker, resume without loss, restarts, not-started, stop."""

from __future__ import annotations

import re
import subprocess
import threading

import pytest

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.logs import LogFollower, ts_ns
from kftui.core.kube import LogState, LogStatus
from kftui.core.logbuffer import sanitize
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, kube, wait_for
from tests.helpers import tool

__all__ = ["kube"]  # the shared fixture, used by name


class Sink:
    """Collects what a follower reports, thread-safely."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[tuple[str, str]] = []
        self.states: list[LogStatus] = []
        self.batches = 0

    def on_lines(self, container: str, lines: list[str]) -> None:
        with self.lock:
            self.batches += 1
            self.lines.extend((container, line) for line in lines)

    def on_status(self, status: LogStatus) -> None:
        with self.lock:
            self.states.append(status)

    def texts(self) -> list[str]:
        with self.lock:
            return [t for _, t in self.lines]

    def has(self, state: LogState) -> LogStatus | None:
        with self.lock:
            return next((s for s in self.states if s.state == state), None)


def follower(kube: KubeSandbox, pod: str, sink: Sink, **kwargs: object) -> LogFollower:
    """A follower wired to a sink."""
    return LogFollower(api_client(path=kube.kubeconfig), PROFILE, pod, on_lines=sink.on_lines,
                       on_status=sink.on_status, **kwargs)  # type: ignore[arg-type]


def steps(texts: list[str]) -> list[int]:
    """Global ticker step numbers of training lines (epoch-aware)."""
    out = []
    for t in texts:
        m = re.search(r"epoch (\d+)/\d+ step (\d+)/500", t)
        if m:
            out.append((int(m.group(1)) - 1) * 500 + int(m.group(2)))
    return out


def test_ticker_lines_arrive_continuously(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "train-resnet-0", sink, tail_lines=5)
    thread = f.start()
    try:
        wait_for(lambda: len(sink.texts()) >= 5, what="the tail")
        seen = len(sink.texts())
        wait_for(lambda: len(sink.texts()) >= seen + 3, 5, what="new ticker lines")
        assert sink.has(LogState.CONNECTING) and sink.has(LogState.STREAMING)
    finally:
        f.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()
    got = steps(sink.texts())
    assert got == list(range(got[0], got[0] + len(got)))  # consecutive, nothing missing or doubled


def test_dropped_stream_resumes_with_no_lost_or_doubled_line(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "flaky", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"ticker": {"interval_ms": 20}}}]})
    sink = Sink()
    f = follower(kube, "flaky", sink)
    thread = f.start()
    try:
        wait_for(lambda: len(sink.texts()) >= 10, what="first lines")
        assert kube.world.drop_log_streams() == 1
        wait_for(lambda: sink.has(LogState.RECONNECTING), what="the reconnect state")
        before = len(sink.texts())
        wait_for(lambda: len(sink.texts()) >= before + 60, 10, what="lines after the resume")  # > 1 s later
        kube.world.drop_log_streams()
        wait_for(lambda: f.reconnects >= 2, what="a second resume")
        again = len(sink.texts())
        wait_for(lambda: len(sink.texts()) >= again + 10, what="lines after the second resume")
    finally:
        f.stop()
        thread.join(timeout=5)
    got = steps(sink.texts())
    assert got == list(range(1, len(got) + 1))
    assert f.duplicates_dropped > 0  # the API resent the boundary second and the follower dropped it
    reconnect = sink.has(LogState.RECONNECTING)
    assert reconnect is not None and reconnect.attempt == 1 and "server closed" in reconnect.detail


def test_server_closing_after_k_lines_is_resumed(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "cutter", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"close_after_lines": 30,
                                                                 "ticker": {"interval_ms": 50}}}]})
    sink = Sink()
    f = follower(kube, "cutter", sink)
    thread = f.start()
    try:
        # 20 lines/s and 30 lines per connection: each reconnect replays part of a second, then moves on
        wait_for(lambda: len(sink.texts()) >= 70, 15, what="70 lines across several connections")
    finally:
        f.stop()
        thread.join(timeout=5)
    got = steps(sink.texts())
    assert got == list(range(1, len(got) + 1)) and f.reconnects >= 2


def test_restarted_container_is_followed(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "crashy", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["boot"], "ticker": {"interval_ms": 50}}}]})
    sink = Sink()
    f = follower(kube, "crashy", sink)
    thread = f.start()
    try:
        wait_for(lambda: len(sink.texts()) >= 3, what="first run lines")
        kube.world.restart_container(PROFILE, "crashy", "main")
        restarted = wait_for(lambda: sink.has(LogState.RESTARTED), 5, what="the restart state")
        wait_for(lambda: sink.texts().count("boot") == 2, 5, what="the new run's first line")
        n = len(sink.texts())
        wait_for(lambda: len(sink.texts()) > n + 2, 5, what="the new run to keep streaming")
    finally:
        f.stop()
        thread.join(timeout=5)
    assert "restart #1" in restarted.detail


def test_waiting_container_reports_not_started_with_reason(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "ecr-notebook-0", sink)
    thread = f.start()
    try:
        state = wait_for(lambda: sink.has(LogState.NOT_STARTED), what="not-started")
    finally:
        f.stop()
        thread.join(timeout=5)
    assert state.detail.startswith("ImagePullBackOff: Back-off pulling image")
    assert not sink.texts()


def test_unscheduled_pod_reports_scheduling_reason_then_streams_when_it_starts(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "gpu-notebook-0", sink)
    thread = f.start()
    try:
        state = wait_for(lambda: sink.has(LogState.NOT_STARTED), what="not-started")
        assert "Insufficient nvidia.com/gpu" in state.detail
        kube.world.update_pod(PROFILE, "gpu-notebook-0", {"spec": {"nodeName": "gke-new-gpu-node"},
                                                          "status": {"phase": "Running"}})
        kube.world.set_container(PROFILE, "gpu-notebook-0", "gpu-notebook", "running",
                                 logs={"lines": ["[I ServerApp] Jupyter Server is running"]})
        wait_for(lambda: "[I ServerApp] Jupyter Server is running" in sink.texts(), 5, what="the first line")
    finally:
        f.stop()
        thread.join(timeout=5)


def test_silent_container_reports_waiting_since(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "quiet", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"ticker": {"interval_ms": 100, "delay_ms": 60000}}}]})
    sink = Sink()
    f = follower(kube, "quiet", sink)
    thread = f.start()
    try:
        state = wait_for(lambda: sink.has(LogState.WAITING), 5, what="the waiting state")
    finally:
        f.stop()
        thread.join(timeout=5)
    assert state.since is not None and "not written anything" in state.detail


def test_completed_pod_ends_and_previous_and_all_containers(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "training-pipeline-x7k2q-system-container-impl-2950846120", sink)
    f.run()  # returns by itself: the container terminated and will not restart
    assert sink.texts()[-1].startswith("RuntimeError: CUDA out of memory")
    ended = sink.has(LogState.ENDED)
    assert ended is not None and "code 1" in ended.detail

    prev = Sink()
    p = LogFollower(api_client(path=kube.kubeconfig), "kubeflow", "ml-pipeline-visualizationserver-7c6b5d4f8-k8lm2",
                    previous=True, on_lines=prev.on_lines, on_status=prev.on_status)
    p.run()
    assert prev.texts()[-1] == "Killed"

    never = Sink()  # a container that never restarted has no previous run: said plainly, not as an API error
    LogFollower(api_client(path=kube.kubeconfig), PROFILE, "train-resnet-0", previous=True,
                on_lines=never.on_lines, on_status=never.on_status).run()
    said = never.has(LogState.ENDED)
    assert said is not None and "has not restarted" in said.detail and never.has(LogState.ERROR) is None

    kube.world.add_pod({"name": "duo", "namespace": PROFILE, "node": "n1", "phase": "Succeeded",
                        "containers": [{"name": "a", "state": "terminated", "logs": {"lines": ["from a"]}},
                                       {"name": "b", "state": "terminated", "logs": {"lines": ["from b"]}}]})
    both = Sink()
    d = follower(kube, "duo", both, all_containers=True)
    d.run()
    assert sorted(both.lines) == [("a", "[a] from a"), ("b", "[b] from b")]


def test_flood_is_delivered_whole_in_batches(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "flood", "namespace": PROFILE, "node": "n1", "phase": "Succeeded",
                        "containers": [{"name": "main", "state": "terminated", "logs": {"flood": 100_000}}]})
    sink = Sink()
    f = follower(kube, "flood", sink)
    f.run()
    texts = sink.texts()
    assert len(texts) == 100_000 and texts[-1].startswith("flood line 00099999")
    assert sink.batches < 1000


def test_stop_returns_at_once(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "train-resnet-0", sink)
    thread = f.start()
    wait_for(lambda: sink.has(LogState.STREAMING), what="streaming")
    stopper = threading.Thread(target=f.stop)  # stop() must return while the stream is mid-read (bench/ times it)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() did not return"
    thread.join(timeout=60)
    assert not thread.is_alive() and f.stopped


def test_ansi_and_osc_from_a_pod_are_sanitised(kube: KubeSandbox) -> None:
    sink = Sink()
    f = follower(kube, "cpu-notebook-0", sink, follow=False)
    f.run()
    raw = next(t for t in sink.texts() if "Kernel started" in t)
    assert "\x1b]0;" in raw  # kept raw by the adapter
    shown = sanitize(raw)
    assert "\x1b" not in shown and "\x07" not in shown and shown.startswith("␛]0;pwned")


def test_ts_ns_orders_trimmed_nanosecond_stamps() -> None:
    assert ts_ns("2026-04-12T09:00:05.1Z") > ts_ns("2026-04-12T09:00:05.099999999Z")
    assert ts_ns("2026-04-12T09:00:05Z") == ts_ns("2026-04-12T09:00:05.000000000Z")


@pytest.mark.e2e
def test_kubectl_logs_follow_against_sandbox(kube: KubeSandbox) -> None:
    with subprocess.Popen([tool("kubectl"), "--kubeconfig", str(kube.kubeconfig), "logs", "-f",
                           "train-resnet-0", "--tail=2"], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        try:
            got = [proc.stdout.readline() for _ in range(4)]
        finally:
            proc.terminate()
    assert all("loss=" in line for line in got)
