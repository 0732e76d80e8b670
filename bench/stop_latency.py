"""How fast kftui lets go of a stream, beside kubectl: the speed the tests no longer time (they check it stops).

Same run, same sandbox, same ticking pod. Reference: `kubectl logs -f POD` gets SIGINT once its first line is in,
timed until the process has exited. kftui: `LogFollower.stop()` on a follow that is streaming, timed until its
thread has ended; and `PodWatcher.stop()` on a watch that sits in a 300 s read, timed the same way.
The sandbox runs in its own process (`python -m kftui.sandbox`), so its servers do not share our GIL.
Run: .venv/bin/python bench/stop_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

NAMESPACE, POD = "kubeflow-user-example-com", "train-resnet-0"


def start_sandbox(workdir: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The demo scenario in a child process; its environment once it says READY."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kftui.sandbox", "--workdir", str(workdir), "--until-stdin-closes"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        raise SystemExit(f"sandbox did not start: {line.strip()}")
    return proc, json.loads(line.removeprefix("READY "))


def wait(condition: Any, bound: float = 60.0) -> None:
    """Poll with a bound (a hang is an error here, not a number)."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the stream")
        time.sleep(0.005)


def kubectl_stop(kubectl: str, kubeconfig: str) -> float:
    """Seconds from SIGINT to exit for `kubectl logs -f` mid-stream."""
    proc = subprocess.Popen([kubectl, "--kubeconfig", kubeconfig, "logs", "-f", "-n", NAMESPACE, POD],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    started = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return time.perf_counter() - started


def follower_stop(client: Any) -> float:
    """Seconds from LogFollower.stop() to its thread's end, mid-stream."""
    from kftui.cluster.logs import LogFollower

    got: list[int] = []
    follower = LogFollower(client, NAMESPACE, POD, on_lines=lambda _c, lines: got.append(len(lines)),
                           on_status=lambda _s: None)
    thread = follower.start()
    wait(lambda: got)
    started = time.perf_counter()
    follower.stop()
    thread.join(timeout=60)
    return time.perf_counter() - started


def watcher_stop(client: Any) -> float:
    """Seconds from PodWatcher.stop() to its thread's end, while the watch waits in a long read."""
    from kftui.cluster.pods import PodWatcher

    events: list[Any] = []
    watcher = PodWatcher(client, None, timeout_seconds=300)
    thread = watcher.start(events.append)
    wait(lambda: events)
    time.sleep(0.2)  # let the watch request itself go out after the snapshot (setup, not timed)
    started = time.perf_counter()
    watcher.stop()
    thread.join(timeout=60)
    return time.perf_counter() - started


def main() -> int:
    """Median of N rounds each; ratios against kubectl's own stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl is not on PATH: no reference to measure against", file=sys.stderr)
        return 1
    from kftui.cluster.kubeconfig import api_client

    with tempfile.TemporaryDirectory() as tmp:
        proc, env = start_sandbox(Path(tmp) / "sb")
        try:
            kubeconfig = env["KUBECONFIG"]
            os.environ.update(env)
            client = api_client(path=kubeconfig)
            follower_stop(client), kubectl_stop(kubectl, kubeconfig)  # warm-up, untimed
            ref = statistics.median(kubectl_stop(kubectl, kubeconfig) for _ in range(args.runs))
            logs = statistics.median(follower_stop(client) for _ in range(args.runs))
            pods = statistics.median(watcher_stop(client) for _ in range(args.runs))
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)
    print(f"kubectl logs -f, SIGINT to exit:   {ref * 1000:8.1f} ms (reference)")
    print(f"LogFollower.stop() to thread end:  {logs * 1000:8.1f} ms  ratio {logs / ref:5.2f}")
    print(f"PodWatcher.stop() to thread end:   {pods * 1000:8.1f} ms  ratio {pods / ref:5.2f}")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
