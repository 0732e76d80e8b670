"""Log follow under connection resets: lines lost and doubled by kftui's follower (must be 0/0), beside kubectl.

The kube sandbox serves a pod whose log has N lines, several sharing each timestamp (as a burst written within
the runtime clock's resolution does); the fault plan resets the TCP connection R times, each after a random number
of body bytes (seeded). kftui's LogFollower follows it on the real `kubernetes` client; the reference is the real
`kubectl logs -f` against the same plan, which stops at the first reset. Printed: lost/doubled for each, reconnects,
and kftui's time with resets against kubectl's time to read the same log without any.
Run: .venv/bin/python bench/log_faults.py [--lines N] [--resets R] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMESPACE, POD = "bench", "bursty-0"
WORDS = ["epoch", "loss=0.42", "größe", "€uro", "ok", "日本語のログ", "x" * 37, "step"]


def scenario(lines: list[str]) -> dict[str, Any]:
    """One namespace, one running pod whose log is `lines`, three lines to a timestamp, ten stamps a second."""
    return {"kube": {"namespaces": [NAMESPACE], "nodes": [{"name": "n1"}],
                     "pods": [{"name": POD, "namespace": NAMESPACE, "node": "n1",
                               "containers": [{"name": "main", "logs": {
                                   "lines": lines, "lines_per_stamp": 3, "stamp_spacing_ms": 100,
                                   "history_seconds": len(lines) // 30 + 20}}]}]}}


def lost_doubled(expected: list[str], got: list[str]) -> tuple[int, int, int]:
    """(lines missing, lines received more than once, half lines that are no line of the log), as multisets."""
    want, have = Counter(expected), Counter(got)
    extra = have - want
    garbled = sum(n for line, n in extra.items() if line not in want)
    return sum((want - have).values()), sum(extra.values()) - garbled, garbled


def plan_resets(plan: Any, count: int, seed: int, spread: int) -> None:
    """`count` resets of the pod's log requests, each after a random byte offset."""
    from kftui.sandbox.faults import Fault

    rng = random.Random(seed)
    for _ in range(count):
        plan.add(Fault(service="kube", kind="reset", path=f"/api/v1/namespaces/{NAMESPACE}/pods/{POD}/log",
                       after=rng.randint(1, spread), times=1))


def main() -> int:
    """Run both clients against the same faults and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--resets", type=int, default=50)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    from kftui.cluster.kubeconfig import api_client
    from kftui.cluster.logs import LogFollower
    from kftui.sandbox.kube import serve, write_kubeconfig

    rng = random.Random(args.seed)
    lines = [f"line {i:06d} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))
             for i in range(args.lines)]
    average = sum(len(x.encode()) + 32 for x in lines) // len(lines)
    spread = max(64, average * args.lines // (args.resets + 1))  # resets spread over the whole log
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(serve(scenario(lines)), loop).result(timeout=30)
    plan = served.extra["faults"]
    with tempfile.TemporaryDirectory(prefix="kftui-bench-") as tmp:
        kubeconfig = write_kubeconfig(served.url, Path(tmp) / "kubeconfig")
        try:
            kubectl = shutil.which("kubectl")
            ref_seconds = ref_line = None
            if kubectl is not None:
                command = [kubectl, "--kubeconfig", str(kubeconfig), "logs", "-n", NAMESPACE, POD]
                t0 = time.perf_counter()
                clean = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
                ref_seconds = time.perf_counter() - t0
                assert clean.stdout.splitlines() == lines, "kubectl reads the fault-free log whole"
                plan_resets(plan, args.resets, args.seed, spread)
                cut = subprocess.run([*command, "-f", "--request-timeout=0"], capture_output=True, text=True,
                                     timeout=60, check=False)
                lost, doubled, garbled = lost_doubled(lines, cut.stdout.splitlines())
                ref_line = (f"kubectl logs -f: lost {lost}, doubled {doubled}, half lines {garbled} (it stops at "
                            f"the first reset, exit {cut.returncode})")
                plan.clear()
            plan_resets(plan, args.resets, args.seed, spread)
            got: list[str] = []
            done = threading.Event()

            def on_lines(_container: str, batch: list[str]) -> None:
                got.extend(batch)
                if len(got) >= len(lines):
                    done.set()

            follower = LogFollower(api_client(path=kubeconfig), NAMESPACE, POD, on_lines=on_lines,
                                   on_status=lambda _s: None, retry_delay=0.01, max_retry_delay=0.05)
            t0 = time.perf_counter()
            runner = follower.start()
            finished = done.wait(60)
            seconds = time.perf_counter() - t0
            follower.stop()
            runner.join(timeout=10)
            time.sleep(0.2)  # anything doubled after the last expected line would land now
            lost, doubled, garbled = lost_doubled(lines, got)
            used = args.resets - len(plan.describe())
            ratio = f", {seconds / ref_seconds:.1f}x kubectl's fault-free read" if ref_seconds else ""
            print(f"log faults: {len(lines)} lines, {used} of {args.resets} random resets (seed {args.seed}): "
                  f"kftui lost {lost}, doubled {doubled}, half lines {garbled}, {follower.reconnects} reconnects, "
                  f"{follower.duplicates_dropped} replayed lines dropped, {seconds:.2f} s{ratio}"
                  f"{'' if finished else ' (TIMED OUT)'}")
            print(ref_line or "kubectl not on PATH: no reference run")
            return 0 if finished and lost == doubled == garbled == 0 else 1
        finally:
            asyncio.run_coroutine_threadsafe(served.close(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
