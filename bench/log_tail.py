"""Log tail speed: a million sandbox lines into the real LogPane (headless), beside `kubectl logs -f`.

Same run, same sandbox, same pod: kubectl first (stdout to /dev/null, timed until it exits: the container has
finished, so the stream ends after the last line), then the pane, timed from follow() until every line has
been written into its LogView. Also printed: the worst UI stall (largest gap between ticks of a 10 ms timer
while lines pour in) and the memory the view holds per retained line, against the raw bytes it retains.

The sandbox runs in its own process so its generator does not share our GIL (nor kubectl's CPU budget).
One untimed warm-up round of each comes first; the pane gets its client from Services, as in watch mode, where
the pod table has built it (and the kubernetes import is paid) before a pod is chosen.
Run: .venv/bin/python bench/log_tail.py [--lines N] [--runs R] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "bench" / "scenarios" / "flood" / "kube.yaml"
NAMESPACE, POD = "bench", "flood-0"
TARGET_RATIO, TARGET_STALL, TARGET_MEMORY = 1.0, 0.100, 1.5


@dataclass
class PaneRun:
    """What one pane run measured."""

    seconds: float
    lines: int
    stall: float
    retained: int
    held_bytes: int
    raw_wire_bytes: int
    raw_text_bytes: int
    rss_delta: int
    state: str


def start_sandbox(workdir: Path, lines: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The flood scenario (with `lines` lines) served by `python -m kftui.sandbox` in a child process."""
    scenario = workdir / "scenario"
    scenario.mkdir()
    text = SCENARIO.read_text(encoding="utf-8").replace("flood: 1000000", f"flood: {lines}")
    (scenario / "kube.yaml").write_text(text, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kftui.sandbox", "--scenario", str(scenario), "--workdir", str(workdir / "sb"),
         "--until-stdin-closes"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith("READY "):
        raise SystemExit(f"sandbox did not start: {first.strip()}")
    return proc, json.loads(first[len("READY "):])


def time_kubectl(kubectl: str, env: dict[str, str], extra: list[str], runs: int) -> list[float]:
    """Seconds for `kubectl logs -f` to read the whole stream and exit."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([kubectl, "logs", "-f", "-n", NAMESPACE, POD, *extra], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - start)
    return out


def rss() -> int:
    """Resident set size now, in bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_pane(services: Any, lines: int) -> PaneRun:
    """One headless app with the real LogPane following the flood pod until every line is in the view."""
    from textual.app import App, ComposeResult

    from kftui.core.kube import LogState, PodRow
    from kftui.screens.feeds import PodLogFeed
    from kftui.widgets.logpane import WINDOWS, LogPane

    everything = next(i for i, w in enumerate(WINDOWS) if w.label == "all")
    row = PodRow(NAMESPACE, POD, "0/1", "Completed", 0, None, "bench-node", 0, containers=("main",))
    result: dict[str, Any] = {}

    class Bench(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.last_tick = 0.0
            self.worst = 0.0
            self.measuring = False

        def compose(self) -> ComposeResult:
            yield LogPane(PodLogFeed(services.kube_api), window=everything)

        def on_mount(self) -> None:
            self.set_interval(0.01, self.tick)

        def tick(self) -> None:
            now = time.perf_counter()
            if self.measuring:
                self.worst = max(self.worst, now - self.last_tick)
            self.last_tick = now

    async def pilot_run(pilot: Any) -> None:
        app: Bench = pilot.app
        pane = app.query_one(LogPane)
        await pilot.pause(0.2)
        gc.collect()
        before = rss()
        app.last_tick = start = time.perf_counter()
        app.measuring = True
        pane.follow(row)
        while pane.view.ring.end + pane.coalesced < lines:
            await asyncio.sleep(0.005)
            if time.perf_counter() - start > 300:
                raise SystemExit("the pane did not receive every line within 300 s")
        seconds = time.perf_counter() - start
        app.measuring = False
        while not any(s.state in (LogState.ENDED, LogState.ERROR) for s in pane.statuses.values()):
            await asyncio.sleep(0.01)
        gc.collect()
        ring = pane.view.ring
        wire = sum(len(line.encode()) + 1 for line in ring)
        text = sum(len(line.partition(" ")[2].encode()) + 1 for line in ring)
        result["run"] = PaneRun(seconds, ring.end + pane.coalesced, app.worst, len(ring), ring.nbytes(), wire, text,
                                rss() - before, ", ".join(str(s.state) for s in pane.statuses.values()))
        pane.stop()
        app.exit()

    Bench().run(headless=True, size=(120, 40), auto_pilot=pilot_run)
    run: PaneRun = result["run"]
    return run


def main() -> None:
    """Measure kubectl and the pane on the same sandbox, print rates, ratios, stall and memory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of one pane run to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl not found")
    with tempfile.TemporaryDirectory() as tmp:
        proc, sandbox_env = start_sandbox(Path(tmp), args.lines)
        env = {**os.environ, **sandbox_env}
        try:
            from kftui.factory import Options, Services

            services = Services(Options(kubeconfig=env["KUBECONFIG"]))
            services.kube_api()  # as in watch mode, where the pod table built the client before any pod is chosen
            # one untimed round of each: the sandbox's first stream, page cache, kubectl's binary, Textual's CSS
            time_kubectl(kubectl, env, [], 1)
            time_kubectl(kubectl, env, ["--timestamps"], 1)
            run_pane(services, args.lines)
            plain: list[float] = []
            stamped: list[float] = []
            runs: list[PaneRun] = []
            for _ in range(args.runs):  # interleaved, so a change in machine load hits all three alike
                plain += time_kubectl(kubectl, env, [], 1)
                stamped += time_kubectl(kubectl, env, ["--timestamps"], 1)
                runs.append(run_pane(services, args.lines))
            if args.profile:
                import cProfile

                cProfile.runctx("run_pane(services, lines)", globals(),
                                {"run_pane": run_pane, "services": services, "lines": args.lines}, args.profile)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)
    n = args.lines
    k_plain, k_ts = n / statistics.median(plain), n / statistics.median(stamped)
    pane_rate = n / statistics.median(r.seconds for r in runs)
    stall = max(r.stall for r in runs)
    last = runs[-1]
    per_line = last.held_bytes / last.retained
    mem_ratio = last.held_bytes / last.raw_wire_bytes
    print(f"log tail bench: {n:,} lines, {args.runs} runs each after a warm-up, medians (sandbox flood, 80-char lines)")
    print(f"  kubectl logs -f               {k_plain:>12,.0f} lines/s  ({statistics.median(plain):.2f} s)")
    print(f"  kubectl logs -f --timestamps  {k_ts:>12,.0f} lines/s  ({statistics.median(stamped):.2f} s)"
          "   <- same request as the pane")
    pane_median = statistics.median(r.seconds for r in runs)
    print(f"  kftui LogPane (headless)      {pane_rate:>12,.0f} lines/s  ({pane_median:.2f} s)"
          f"   runs: {', '.join(f'{r.seconds:.2f}' for r in runs)}")
    print(f"  ratio pane / kubectl --timestamps: {pane_rate / k_ts:.2f}x   "
          f"pane / kubectl plain: {pane_rate / k_plain:.2f}x   (target >= {TARGET_RATIO:.1f}x)")
    print(f"  worst UI stall (10 ms timer gap): {stall * 1000:.0f} ms   per run: "
          f"{', '.join(f'{r.stall * 1000:.0f}' for r in runs)} ms   (target <= {TARGET_STALL * 1000:.0f} ms)")
    print(f"  retained {last.retained:,} of {last.lines:,} lines; final state: {last.state}")
    print(f"  memory held by the view: {last.held_bytes / 1e6:.1f} MB = {per_line:.1f} B/line; raw bytes retained "
          f"{last.raw_wire_bytes / 1e6:.1f} MB as received ({last.raw_wire_bytes / last.retained:.1f} B/line) -> "
          f"{mem_ratio:.2f}x   (target <= {TARGET_MEMORY:.1f}x)")
    print(f"  vs the text alone (without API timestamps, {last.raw_text_bytes / last.retained:.1f} B/line): "
          f"{last.held_bytes / last.raw_text_bytes:.2f}x;  process RSS delta {last.rss_delta / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
