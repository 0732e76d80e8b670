"""The stern engine and `kftui logs` against the kube sandbox, with the real kubectl as a second client."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cli import main
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.multilog import LogLine, MultiLog, TailEvent
from kftui.cluster.pods import InvalidPatternError, pod_selection
from kftui.commands.logs import Printer, parse_since
from kftui.core.kube import LogState
from kftui.sandbox.faults import Fault, FaultPlan
from kftui.sandbox.kube import write_kubeconfig
from kftui.sandbox.kube.objects import expand_pod
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for
from tests.helpers import closed_port

HOSTILE = "evil \x1b]0;pwned\x07 \u202eoverride \x1b[5mblink"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster with two web pods (two containers each) and a db pod."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        for name in ("web-1", "web-2"):
            sb.world.add_pod({"name": name, "namespace": PROFILE, "node": "n1", "labels": {"app": "web"},
                              "containers": [
                                  {"name": "main", "logs": {"lines": [f"{name} main {i}" for i in range(5)]}},
                                  {"name": "sidecar", "logs": {"lines": [f"{name} sidecar {i}" for i in range(3)]}},
                              ]})
        sb.world.add_pod({"name": "db-0", "namespace": PROFILE, "node": "n1", "labels": {"app": "db"},
                          "containers": [{"name": "postgres", "logs": {"lines": ["ready", HOSTILE]}}]})
        yield sb


def cli(kube: KubeSandbox, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`kftui ARGS` in-process against the sandbox's kubeconfig: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(["logs", "--kubeconfig", str(kube.kubeconfig), *args])
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def kubectl_logs(kube: KubeSandbox, pod: str, container: str, *flags: str) -> list[str]:
    """The real `kubectl logs` of one container (skips when kubectl is absent)."""
    exe = shutil.which("kubectl")
    if exe is None:
        pytest.skip("kubectl is not on PATH")
    done = subprocess.run([exe, "--kubeconfig", str(kube.kubeconfig), "logs", "-n", PROFILE, pod, "-c", container,
                           *flags], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


def test_no_follow_prints_pod_container_line_for_every_match(kube: KubeSandbox,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(kube, "^web-", "-c", "main", "--no-follow", capsys=capsys)
    assert code == 0
    assert out.splitlines() == [f"{pod} main {pod} main {i}" for pod in ("web-1", "web-2") for i in range(5)]
    for pod in ("web-1", "web-2"):  # what kubectl reads is what kftui printed, line for line
        assert kubectl_logs(kube, pod, "main") == [line.split(" ", 2)[2] for line in out.splitlines()
                                                   if line.startswith(pod + " ")]


def test_selector_and_all_containers_and_tail(kube: KubeSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(kube, "-l", "app=web", "--tail", "2", "--no-follow", capsys=capsys)
    assert code == 0
    assert out.splitlines() == [f"{pod} {c} {pod} {c} {i}" for pod in ("web-1", "web-2")
                                for c, n in (("main", 5), ("sidecar", 3)) for i in range(n - 2, n)]


def test_hostile_lines_are_inert_in_text_and_exact_in_json(kube: KubeSandbox,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(kube, "db", "--no-follow", "--timestamps", capsys=capsys)
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    last = out.splitlines()[-1]
    pod, container, stamp, text = last.split(" ", 3)
    assert (pod, container) == ("db-0", "postgres") and stamp.endswith("Z")
    assert text == "evil ␛]0;pwned^G <U+202E>override ␛[5mblink"
    code, out, _ = cli(kube, "db", "--no-follow", "--json", capsys=capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records[-1]["message"] == HOSTILE and records[-1]["pod"] == "db-0" and out.isascii()
    assert set(records[-1]) == {"namespace", "pod", "container", "timestamp", "message"}


def test_no_match_is_one_line_and_exit_1(kube: KubeSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(kube, "^nothing-here$", "--no-follow", capsys=capsys)
    assert (code, out) == (1, "")
    assert err == f"kftui: no pod matches POD_REGEX '^nothing-here$' in namespace {PROFILE}\n"
    code, out, err = cli(kube, "^web-1$", "-c", "nope", capsys=capsys)  # follow mode: nothing to follow either
    assert (code, out) == (1, "") and err.count("\n") == 1 and "container 'nope'" in err


@pytest.mark.parametrize(("args", "words"), [
    (["web[", "--no-follow"], "POD_REGEX 'web[' is not a valid regular expression"),
    (["web", "-c", "(", "--no-follow"], "-c/--container '(' is not a valid regular expression"),
    (["web", "--since", "ten minutes"], "--since 'ten minutes' is not a duration"),
    (["web", "--since", "0s"], "--since '0s' must be at least 1s"),
    (["web", "--tail", "-2"], "Invalid value for '--tail'"),
    (["web", "-n", "a", "-A"], "-n/--namespace and -A/--all-namespaces cannot be used together"),
    (["--no-follow"], "give POD_REGEX"),
    (["web", "--bogus"], "No such option '--bogus'"),
])
def test_bad_flags_are_one_line_and_exit_2(kube: KubeSandbox, capsys: pytest.CaptureFixture[str], args: list[str],
                                           words: str) -> None:
    code, out, err = cli(kube, *args, capsys=capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1 and words in err and "Traceback" not in err


def test_the_engine_and_the_command_select_with_one_function(kube: KubeSandbox) -> None:
    # The command checks with pod_selection; the engine builds its matchers with it: a regex one refuses, the
    # other refuses too, and what the engine follows is what the selection says.
    with pytest.raises(InvalidPatternError) as caught:
        MultiLog(api_client(path=kube.kubeconfig), "web[", on_lines=lambda _batch: None)
    assert caught.value.which == "pod"
    with pytest.raises(InvalidPatternError) as caught:
        pod_selection("web", "(")
    assert caught.value.which == "container"
    got = Collect()
    engine = MultiLog(api_client(path=kube.kubeconfig), "^web-", namespace=PROFILE, container_regex="^main$",
                      label_selector="app=web", follow=False, on_lines=got.on_lines, on_event=got.on_event)
    selection = pod_selection("^web-", "^main$", "app=web")
    assert engine.selection == selection and selection.query() == [("labelSelector", "app=web")]
    assert engine.run() == 2
    assert {(ln.pod, ln.container) for ln in got.lines} == {("web-1", "main"), ("web-2", "main")}


class Collect:
    """Lines and events from the engine's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[LogLine] = []
        self.events: list[TailEvent] = []

    def on_lines(self, batch: list[LogLine]) -> None:
        with self.lock:
            self.lines.extend(batch)

    def on_event(self, event: TailEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, pod: str, uid: str | None = None) -> list[str]:
        with self.lock:
            return [ln.text for ln in self.lines if ln.pod == pod]


def replacement(name: str, lines: list[str]) -> dict[str, Any]:
    """A new pod of the same name, as a StatefulSet makes it: a new uid and a new container (the API's rule)."""
    pod = expand_pod({"name": name, "namespace": PROFILE, "node": "n1", "containers": [{"name": "main"}]})
    pod["metadata"]["uid"] = str(uuid.uuid4())
    pod["status"]["containerStatuses"][0]["containerID"] = f"containerd://{uuid.uuid4().hex}"
    return {**pod, "logs": {"main": {"lines": lines}}}


def test_new_pods_join_and_a_replaced_pod_starts_at_its_first_line_under_resets(kube: KubeSandbox) -> None:
    plan = kube.served.extra["faults"]
    assert isinstance(plan, FaultPlan)
    got = Collect()
    engine = MultiLog(api_client(path=kube.kubeconfig), "^job-", namespace=PROFILE, on_lines=got.on_lines,
                      on_event=got.on_event, retry_delay=0.01, max_retry_delay=0.05)
    kube.world.add_pod({"name": "job-a", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": ["a first"]}}]})
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    rng = random.Random(16)
    first_b = [f"b line {i:04d} {'y' * rng.randint(0, 80)}" for i in range(1500)]
    try:
        wait_for(lambda: got.of("job-a") == ["a first"], 10, what="the pod there at the start")
        for _ in range(20):  # the joining pod's log is cut by resets at random offsets, and resumed
            plan.add(Fault(service="kube", kind="reset", path=f"/api/v1/namespaces/{PROFILE}/pods/job-b/log",
                           after=rng.randint(1, 6000), times=1))
        kube.world.add_pod({"name": "job-b", "namespace": PROFILE, "node": "n1",
                            "containers": [{"name": "main", "logs": {"lines": first_b, "lines_per_stamp": 2,
                                                                     "stamp_spacing_ms": 50,
                                                                     "history_seconds": 60}}]})
        wait_for(lambda: len(got.of("job-b")) >= len(first_b) and not plan.describe(), 30,
                 what="the joining pod, whole")
        kube.world.delete_pod(PROFILE, "job-b")
        kube.world.add_pod(replacement("job-b", ["b again 1", "b again 2"]))
        wait_for(lambda: got.of("job-b")[len(first_b):] == ["b again 1", "b again 2"], 10,
                 what="the replacement pod from its first line")
    finally:
        engine.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert got.of("job-b") == [*first_b, "b again 1", "b again 2"]  # 0 lost, 0 doubled, across 20 resets
    joined = [(e.pod, e.container) for e in got.events if e.status.detail == "joined"]
    assert joined == [("job-a", "main"), ("job-b", "main"), ("job-b", "main")]
    assert any(e.status.state == LogState.RECONNECTING for e in got.events if e.pod == "job-b")


def test_follow_command_prints_lines_as_they_come_and_stops_on_ctrl_c(kube: KubeSandbox, tmp_path: Path) -> None:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "kftui", "logs", "web-1", "-c", "main"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().rstrip("\n") for _ in range(5)]
        assert lines == [f"web-1 main web-1 main {i}" for i in range(5)]
        kube.world.restart_container(PROFILE, "web-1", "main", logs={"lines": ["after restart"]})
        assert proc.stdout.readline().rstrip("\n") == "web-1 main after restart"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and err.splitlines()[-1] == "kftui: interrupted"
    assert "kftui: + kubeflow-user-example-com/web-1 main" in err and "restart #1" in err


class Tty(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_colour_per_pod_and_container_and_still_inert_text() -> None:
    out, err = Tty(), io.StringIO()
    printer = Printer(out, err, as_json=False, timestamps=False, namespaces=False, tty=True)
    printer.lines([LogLine(PROFILE, "web-1", "main", "2026-12-01T10:00:00Z", HOSTILE),
                   LogLine(PROFILE, "web-1", "sidecar", "2026-12-01T10:00:00Z", "b"),
                   LogLine(PROFILE, "web-2", "main", "2026-12-01T10:00:01Z", "c")])
    first, second, third = out.getvalue().splitlines()
    colour = {name: re.search(rf"\x1b\[(\d+)m{re.escape(name)}\x1b\[0m", line).group(1)  # type: ignore[union-attr]
              for line, name in ((first, "web-1"), (third, "web-2"), (second, "sidecar"))}
    assert first.startswith(f"\x1b[{colour['web-1']}mweb-1\x1b[0m ") and second.startswith(f"\x1b[{colour['web-1']}m")
    assert len(set(colour.values())) >= 2  # pods and containers told apart by colour
    assert first.endswith(" evil ␛]0;pwned^G <U+202E>override ␛[5mblink")  # only kftui's own codes are raw


def test_context_flag_picks_the_kubeconfig_context(kube: KubeSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(kube, "^db-0$", "--context", "kftui-sandbox", "--no-follow", capsys=capsys)
    assert code == 0 and out.splitlines()[0] == "db-0 postgres ready"
    code, out, err = cli(kube, "^db-0$", "--context", "nope", "--no-follow", capsys=capsys)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "nope" in err and "Traceback" not in err


def test_since_keeps_only_recent_lines_as_kubectl_does(kube: KubeSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    # Ten seconds apart, the newest 5 s old: lines 97-99 are within 30 s and line 96 (35 s old) is not, for any read
    # in the next 5 s, so kftui's read and kubectl's later one agree however long kubectl takes to start.
    lines = [f"tick {i:03d}" for i in range(100)]
    kube.world.add_pod({"name": "hist-0", "namespace": PROFILE, "node": "n1",
                        "containers": [{"name": "main", "logs": {"lines": lines, "stamp_spacing_ms": 10_000,
                                                                 "history_seconds": 995}}]})
    code, out, _ = cli(kube, "^hist-0$", "--since", "30s", "--no-follow", capsys=capsys)
    ours = [line.split(" ", 2)[2] for line in out.splitlines()]
    theirs = kubectl_logs(kube, "hist-0", "main", "--since=30s")
    assert code == 0
    assert ours == theirs == lines[-3:]


def test_all_namespaces_names_the_namespace_first(kube: KubeSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(kube, "^db-0$", "-A", "--no-follow", capsys=capsys)
    assert code == 0 and out.splitlines()[0] == f"{PROFILE} db-0 postgres ready"


def test_a_closed_pipe_ends_quietly(kube: KubeSandbox) -> None:
    kube.world.add_pod({"name": "big-0", "namespace": PROFILE, "node": "n1", "phase": "Succeeded",
                        "containers": [{"name": "main", "state": "terminated", "logs": {"flood": 200_000}}]})
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    proc = subprocess.Popen([sys.executable, "-m", "kftui", "logs", "^big-0$", "--no-follow"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `kftui logs ... | head -1`
    _, err = proc.communicate(timeout=60)
    assert first.startswith("big-0 main flood line 00000000")
    assert proc.returncode == 0 and err == ""  # no BrokenPipeError traceback, no exit-time flush error


@pytest.mark.parametrize("mode", [[], ["--no-follow"]])
def test_a_forbidden_pod_list_is_one_line_exit_1(kube: KubeSandbox, capsys: pytest.CaptureFixture[str],
                                                  mode: list[str]) -> None:
    plan = kube.served.extra["faults"]
    assert isinstance(plan, FaultPlan)
    plan.add(Fault(service="kube", kind="status", status=403, path=f"/api/v1/namespaces/{PROFILE}/pods"))
    code, out, err = cli(kube, "web", *mode, capsys=capsys)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err.startswith('kftui: pods is forbidden: User "kftui-sandbox@example.com" cannot list resource "pods"')


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400),
                                               ("90m0s", 5400), ("2500ms", 2)])
def test_since_reads_go_durations_as_kubectl_does(text: str, seconds: int) -> None:
    assert parse_since(text) == seconds


def test_the_engine_reports_a_refusal_without_raising(kube: KubeSandbox) -> None:
    plan = kube.served.extra["faults"]
    assert isinstance(plan, FaultPlan)
    plan.add(Fault(service="kube", kind="status", status=403, path=f"/api/v1/namespaces/{PROFILE}/pods"))
    got = Collect()
    engine = MultiLog(api_client(path=kube.kubeconfig), "web", namespace=PROFILE, on_lines=got.on_lines,
                      on_event=got.on_event)
    assert engine.run() == 0  # a screen running it on a worker must not crash
    assert engine.error is not None and engine.error.status == 403
    assert [e.status.state for e in got.events] == [LogState.ERROR] and "forbidden" in got.events[0].status.detail


@pytest.mark.parametrize("mode", [[], ["--no-follow"]])
def test_an_unreachable_cluster_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   mode: list[str]) -> None:
    port = closed_port()  # refuses connections for the whole test
    kubeconfig = write_kubeconfig(f"http://127.0.0.1:{port}", tmp_path / "kubeconfig")
    with pytest.raises(SystemExit) as done:
        main(["logs", "--kubeconfig", str(kubeconfig), "web", *mode])
    captured = capsys.readouterr()
    assert done.value.code == 1 and captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"kftui: cannot reach the Kubernetes API at http://127.0.0.1:{port}: ")
    assert "connection refused" in captured.err.lower() and "Traceback" not in captured.err
