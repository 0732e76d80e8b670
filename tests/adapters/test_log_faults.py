"""Lossless log resume under the sandbox's fault plan: resets at random byte offsets, cuts mid-line, drops, restarts.

Every fault is acted out by the sandbox on the wire (TCP reset, a chunked body ended mid-line); the follower is the
real one on the real `kubernetes` client. Expected lines come from the sandbox's own log run, line for line.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.logs import LogFollower, ResumePoint, ts_ns
from kftui.core.kube import LogState, LogStatus
from kftui.sandbox.faults import Fault, parse_spec
from kftui.sandbox.kube.objects import expand_pod
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, kube, plan_of, wait_for

__all__ = ["kube"]  # the shared fixture, used by name


WORDS = ["epoch", "loss=0.42", "größe", "€uro", "ok", "日本語のログ", "x" * 37, "step"]


class Sink:
    """Collects lines and states from a follower's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[str] = []
        self.states: list[LogStatus] = []

    def on_lines(self, _container: str, lines: list[str]) -> None:
        with self.lock:
            self.lines.extend(lines)

    def on_status(self, status: LogStatus) -> None:
        with self.lock:
            self.states.append(status)

    def texts(self) -> list[str]:
        with self.lock:
            return list(self.lines)

    def of(self, state: LogState) -> list[LogStatus]:
        with self.lock:
            return [s for s in self.states if s.state == state]


def burst_lines(n: int, seed: int) -> list[str]:
    """Numbered lines of varied length with multi-byte characters, so byte offsets split UTF-8 sequences too."""
    rng = random.Random(seed)
    return [f"line {i:05d} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9))) for i in range(n)]


def add_bursty_pod(kube: KubeSandbox, name: str, lines: list[str], per_stamp: int = 3) -> None:
    """A running pod whose log is `lines`, `per_stamp` lines sharing each timestamp, 10 stamps a second."""
    kube.world.add_pod({"name": name, "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {
                            "lines": lines, "lines_per_stamp": per_stamp, "stamp_spacing_ms": 100,
                            "history_seconds": len(lines) // per_stamp // 10 + 20}}]})


def log_path(name: str) -> str:
    """The log URL of a pod in the profile namespace."""
    return f"/api/v1/namespaces/{PROFILE}/pods/{name}/log"


def follow(kube: KubeSandbox, pod: str, sink: Sink, **kwargs: object) -> LogFollower:
    """A fast-retrying follower on the real client, wired to a sink."""
    return LogFollower(api_client(path=kube.kubeconfig), PROFILE, pod, on_lines=sink.on_lines,
                       on_status=sink.on_status, retry_delay=0.01, max_retry_delay=0.05,
                       **kwargs)  # type: ignore[arg-type]


def run_until(f: LogFollower, done: object, timeout: float = 60.0, what: str = "") -> None:
    """Run a follower on its thread until `done()` holds, then stop it."""
    thread = f.start()
    try:
        wait_for(done, timeout, interval=0.05, what=what)  # type: ignore[arg-type]
    finally:
        f.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_fifty_resets_at_random_byte_offsets_lose_and_double_nothing(kube: KubeSandbox) -> None:
    lines = burst_lines(3000, seed=7)
    add_bursty_pod(kube, "bursty", lines)
    plan = plan_of(kube)
    rng = random.Random(20261201)
    offsets = [rng.randint(1, 4000) for _ in range(50)]
    for after in offsets:
        plan.add(Fault(service="kube", kind="reset", method="GET", path=log_path("bursty"), after=after, times=1))
    sink = Sink()
    f = follow(kube, "bursty", sink)
    run_until(f, lambda: len(sink.texts()) >= len(lines) and not plan.describe(), what="every line, every reset")
    got = sink.texts()
    assert len(got) == len(lines) and len(set(got)) == len(lines)  # 0 doubled
    assert got == lines  # 0 lost, in order, no half line ever shown
    assert f.reconnects >= 50 and f.duplicates_dropped > 0  # each resume replayed its second and it was dropped
    said = sink.of(LogState.RECONNECTING)
    assert len(said) >= 50 and all("connection lost" in s.detail for s in said[:50])


def test_cut_mid_line_holds_the_half_line_back_until_its_newline(kube: KubeSandbox) -> None:
    lines = burst_lines(600, seed=3)
    add_bursty_pod(kube, "cutty", lines, per_stamp=4)
    plan = plan_of(kube)
    rng = random.Random(5)
    for _ in range(12):  # a clean end of the chunked body in the middle of a line: no error, just a half line
        plan.add(Fault(service="kube", kind="cut", path=log_path("cutty"), after=rng.randint(1, 3000), times=1))
    sink = Sink()
    f = follow(kube, "cutty", sink)
    run_until(f, lambda: len(sink.texts()) >= len(lines) and not plan.describe(), what="every line after cuts")
    assert sink.texts() == lines
    said = sink.of(LogState.RECONNECTING)
    assert len(said) >= 12 and "server closed the stream" in said[0].detail


def test_dropped_log_streams_resume_between_lines(kube: KubeSandbox) -> None:
    lines = burst_lines(400, seed=4)
    add_bursty_pod(kube, "droppy", lines, per_stamp=5)
    plan = plan_of(kube)
    for after in (1, 500, 2500, 7000):
        plan.add(Fault(service="kube", kind="drop", path=log_path("droppy"), after=after, times=1))
    sink = Sink()
    f = follow(kube, "droppy", sink)
    run_until(f, lambda: len(sink.texts()) >= len(lines) and not plan.describe(), what="every line after drops")
    assert sink.texts() == lines and f.reconnects >= 4


def test_no_follow_read_resumes_after_resets_too(kube: KubeSandbox) -> None:
    lines = burst_lines(500, seed=9)
    add_bursty_pod(kube, "once", lines)
    plan = plan_of(kube)
    for after in (900, 1700, 333):
        plan.add(Fault(service="kube", kind="reset", path=log_path("once"), after=after, times=1))
    sink = Sink()
    follow(kube, "once", sink, follow=False).run()  # returns by itself at the true end of the log
    assert sink.texts() == lines
    assert sink.of(LogState.ENDED)[-1].detail == "end of log"


def test_reconnects_back_off_and_say_so_then_say_reconnected(kube: KubeSandbox) -> None:
    lines = burst_lines(50, seed=1)
    add_bursty_pod(kube, "refused", lines)
    plan = plan_of(kube)
    plan.add(Fault(service="kube", kind="reset", path=log_path("refused"), after=0, times=8))  # before any byte
    sink = Sink()
    f = follow(kube, "refused", sink)
    run_until(f, lambda: len(sink.texts()) >= len(lines), what="lines after the refusals")
    assert sink.texts() == lines
    said = sink.of(LogState.RECONNECTING)
    attempts = [s.attempt for s in said]
    assert attempts == sorted(attempts) and attempts[-1] >= 3  # counted up while nothing got through
    assert said[-1].detail.startswith("in 0.") and "attempt" not in said[-1].detail  # the attempt is a field
    back = [s for s in sink.of(LogState.STREAMING) if s.detail.startswith("reconnected after")]
    assert back, "the follower says when it is back"


def test_reset_before_a_restart_reads_the_old_run_to_its_end(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "crashy", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["boot"], "ticker": {"interval_ms": 5}}}]})
    plan = plan_of(kube)
    sink = Sink()
    f = follow(kube, "crashy", sink)
    thread = f.start()
    try:
        wait_for(lambda: len(sink.texts()) >= 40, 10, what="the first run streaming")
        plan.add(Fault(service="kube", kind="reset", path=log_path("crashy"), after=0))  # every log request
        kube.world.drop_log_streams()
        wait_for(lambda: len(sink.of(LogState.RECONNECTING)) >= 2, 10, what="failed reconnects")
        seen = len(sink.texts())
        wait_for(lambda: kube.world.log_runs(PROFILE, "crashy", "main")[0].available() > seen + 100, 10,
                 what="the first run to write lines nobody has read")
        kube.world.restart_container(PROFILE, "crashy", "main")
        plan.clear()
        try:
            wait_for(lambda: sink.of(LogState.RESTARTED), 30, what="the restart")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last states: {sink.states[-6:]}") from None
        wait_for(lambda: sink.texts().count("boot") == 2 and len(sink.texts()) > sink.texts().index("boot", 1) + 20,
                 10, what="the second run streaming")
    finally:
        f.stop()
        thread.join(timeout=10)
    first, second = kube.world.log_runs(PROFILE, "crashy", "main")[:2]
    assert first.ended_at is not None
    got = sink.texts()
    split = got.index("boot", 1)
    assert got[:split] == [first.text(i) for i in range(first.ended_at)]  # the old run whole, to its last line
    assert got[split:] == [second.text(i) for i in range(len(got) - split)]  # the new one from its first line


def test_resume_point_counts_lines_sharing_a_stamp() -> None:
    point = ResumePoint()
    point.advance(["2026-12-01T10:00:00.5Z a", "2026-12-01T10:00:01Z b", "2026-12-01T10:00:01Z c"])
    assert (point.stamp, point.count) == ("2026-12-01T10:00:01Z", 2)
    point.advance(["2026-12-01T10:00:01Z d"])
    assert point.count == 3 and point.since_time() == "2026-12-01T10:00:01Z"
    point.advance(["2026-12-01T10:00:01.000000001Z e"])
    assert point.count == 1 and point.since_time() == "2026-12-01T10:00:01Z"


def test_the_real_kubectl_sends_since_time_to_the_second_and_reads_trimmed_nano_stamps(kube: KubeSandbox) -> None:
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.skip("kubectl is not on PATH")
    lines = burst_lines(40, seed=2)
    add_bursty_pod(kube, "stamps", lines, per_stamp=4)
    run = kube.world.log_runs(PROFILE, "stamps", "main")[0]
    mid = run.time_of(20)  # a stamp shared by lines 20-23, inside a second that lines 10-29 share
    since = datetime.fromtimestamp(mid // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{mid % 10**9:09d}Z"
    done = subprocess.run([exe, "--kubeconfig", str(kube.kubeconfig), "logs", "-n", PROFILE, "stamps",
                           "--timestamps", f"--since-time={since}"], capture_output=True, text=True, timeout=60,
                          check=True)
    sent = [url for method, url in kube.world.requests if "/pods/stamps/log" in url][-1]
    assert f"sinceTime={since[:19]}Z" in unquote(sent)  # kubectl itself drops the fraction: whole seconds only
    first = run.first_at_or_after(mid // 1_000_000_000 * 1_000_000_000, len(lines))
    printed = done.stdout.splitlines()
    assert [p.split(" ", 1)[1] for p in printed] == lines[first:]  # the whole second comes back, not from `mid`
    stamps = [p.split(" ", 1)[0] for p in printed]
    fractions = [s[20:-1] for s in stamps if s[19] == "."]
    assert all(s.endswith("Z") for s in stamps) and fractions and not any(f.endswith("0") for f in fractions)
    assert ts_ns(stamps[20 - first]) == mid and len({*stamps}) < len(stamps)  # stamps shared, as on a real node


def test_reset_just_before_the_end_is_caught_up_and_a_clean_end_costs_one_small_read(kube: KubeSandbox) -> None:
    lines = burst_lines(300, seed=11)
    for name in ("ended", "ended-clean"):
        kube.world.add_pod({"name": name, "namespace": PROFILE, "node": "n1", "phase": "Succeeded",
                            "containers": [{"name": "main", "state": "terminated", "logs": {
                                "lines": lines, "lines_per_stamp": 3, "stamp_spacing_ms": 100,
                                "history_seconds": 30}}]})
    plan_of(kube).add(Fault(service="kube", kind="reset", path=log_path("ended"), after=5000, times=1))
    sink = Sink()
    follow(kube, "ended", sink).run()  # the follow stream dies mid-log; the pod has finished: read the rest
    assert sink.texts() == lines and "code 0" in sink.of(LogState.ENDED)[-1].detail
    clean = Sink()
    follow(kube, "ended-clean", clean).run()
    assert clean.texts() == lines
    asked = [unquote(url) for _, url in kube.world.requests if "/pods/ended-clean/log" in url]
    assert len(asked) == 2 and "tailLines=4" in asked[1]  # the stream, then "anything after the last 3 lines?"


@pytest.mark.parametrize(("spec", "said"), [
    ("hang,times=2", "read timed out"),  # urllib3's one retry meets the second hang: the follower says it
    ("status,status=500,times=1", "Internal error occurred"),
    ("status,status=429,retry_after=0,times=2", "Too many requests"),
    ("delay,delay=0.2,times=1", ""),  # well inside the 1 s idle timeout, even on a loaded machine
])
def test_log_request_faults_are_said_and_outlived(kube: KubeSandbox, spec: str, said: str) -> None:
    lines = burst_lines(60, seed=6)
    add_bursty_pod(kube, "faulty", lines)
    plan_of(kube).add(parse_spec(f"kube::{log_path('faulty')}={spec}"))
    sink = Sink()
    f = follow(kube, "faulty", sink, idle_timeout=1)
    run_until(f, lambda: len(sink.texts()) >= len(lines), what="the lines after the fault")
    assert sink.texts() == lines and not plan_of(kube).describe()
    troubles = [s.detail for s in sink.states if s.state in (LogState.RECONNECTING, LogState.ERROR)]
    assert (any(said in d for d in troubles) and len(troubles) == 1) if said else not troubles


def test_a_quiet_stream_is_reopened_without_a_word(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "quiet", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["hello"],
                                                                 "ticker": {"interval_ms": 100, "delay_ms": 6000}}}]})
    sink = Sink()
    f = follow(kube, "quiet", sink, idle_timeout=1)  # silent for 6 s: the read times out five times or so
    run_until(f, lambda: len(sink.texts()) >= 4, 20, what="the ticker after the silence")
    asked = [url for _, url in kube.world.requests if "/pods/quiet/log" in url]
    assert sink.texts()[0] == "hello" and len(asked) >= 3  # reopened from the resume point...
    assert not sink.of(LogState.RECONNECTING) and not sink.of(LogState.ERROR)  # ...and no alarm raised
    steps = [int(t.split(" step ")[1].split("/")[0]) for t in sink.texts()[1:]]
    assert steps == list(range(1, len(steps) + 1))


def test_a_pod_replaced_under_the_same_name_is_followed_from_its_first_line(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "sts-0", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["old 1", "old 2"]}}]})
    sink = Sink()
    f = follow(kube, "sts-0", sink)
    thread = f.start()
    try:
        wait_for(lambda: sink.texts() == ["old 1", "old 2"], 10, what="the first pod's lines")
        new = expand_pod({"name": "sts-0", "namespace": PROFILE, "node": "n1", "containers": [{"name": "main"}]})
        new["metadata"]["uid"] = str(uuid.uuid4())  # a StatefulSet's new pod: same name, new uid and container
        new["status"]["containerStatuses"][0]["containerID"] = f"containerd://{uuid.uuid4().hex}"
        with kube.world.lock:  # deleted and made again in one step, so the follower never sees a 404 between
            kube.world.delete_pod(PROFILE, "sts-0")
            kube.world.add_pod({**new, "logs": {"main": {"lines": ["new 1", "new 2"]}}})
        wait_for(lambda: len(sink.texts()) >= 4, 10, what="the new pod's lines")
    finally:
        f.stop()
        thread.join(timeout=10)
    assert sink.texts() == ["old 1", "old 2", "new 1", "new 2"]
    assert any("pod replaced by a new one" in s.detail for s in sink.of(LogState.RESTARTED))


def test_a_tail_window_starting_inside_a_shared_stamp_resumes_by_content(kube: KubeSandbox) -> None:
    lines = [f"line {i:03d}" for i in range(100)]  # ten lines to a stamp: the last 5 share theirs with 5 before
    add_bursty_pod(kube, "tailed", lines, per_stamp=10)
    plan_of(kube).add(Fault(service="kube", kind="reset", path=log_path("tailed"), after=90, times=1))
    sink = Sink()
    f = follow(kube, "tailed", sink, tail_lines=5)  # the reset falls after two of the five lines
    run_until(f, lambda: len(sink.texts()) >= 5 and f.reconnects >= 1, what="the tail through a reset")
    assert sink.texts() == lines[-5:]  # neither the stamp's earlier lines nor a doubled one


def test_resume_point_remembers_a_tail_windows_first_stamp_by_content() -> None:
    point = ResumePoint()
    point.advance(["2026-12-01T10:00:01Z e", "2026-12-01T10:00:01Z f"], window_start=True)
    assert point.head == ["2026-12-01T10:00:01Z e", "2026-12-01T10:00:01Z f"] and point.count == 2
    point.advance(["2026-12-01T10:00:01Z g"])
    assert point.head is not None and len(point.head) == 3
    point.advance(["2026-12-01T10:00:02Z h"])
    assert point.head is None and (point.stamp, point.count) == ("2026-12-01T10:00:02Z", 1)


def test_a_second_too_long_to_replay_between_resets_is_given_up_on_and_said(kube: KubeSandbox) -> None:
    """2,000 lines share one timestamp and every stream resets after 3,000 bytes: a resume from that second replays
    the same lines and breaks off before getting past them, forever. The follow goes on from the log's end instead,
    and says which lines may be missing; nothing is shown twice."""
    lines = burst_lines(2000, seed=11)
    add_bursty_pod(kube, "dense", lines, per_stamp=2000)
    plan = plan_of(kube)
    plan.add(Fault(service="kube", kind="reset", path=log_path("dense"), after=3000, times=10_000))
    sink = Sink()
    f = follow(kube, "dense", sink, stall_seconds=0.3)
    thread = f.start()
    try:
        wait_for(lambda: any("may be missing" in s.detail for s in sink.of(LogState.RECONNECTING)), 30,
                 interval=0.05, what="the gap said")
        reconnects = f.reconnects
        wait_for(lambda: any("may be missing" in s.detail for s in sink.of(LogState.WAITING)), 10, interval=0.05,
                 what="following from the log's end, still saying what may be missing")
        assert f.reconnects == reconnects, "no more resumes of the dense second"
    finally:
        f.stop()
        thread.join(timeout=10)
    got = sink.texts()
    assert got and got == lines[:len(got)], "what was shown is the log's start, in order, nothing twice"
    assert f.gaps == 1
    said = next(s.detail for s in sink.of(LogState.RECONNECTING) if "may be missing" in s.detail)
    assert "goes on from its end" in said and "UTC" in said
