"""Log tail speed: a million sandbox lines into the real LogPane (headless, then end to end in tmux), beside
`kubectl logs -f`.

Same run, same sandbox, same pod: kubectl first (stdout to /dev/null, timed until it exits: the container has
finished, so the stream ends after the last line), then the pane, timed from follow() until every line has
been written into its LogView. Also printed: the worst UI stall (largest gap between ticks of a 10 ms timer
while lines pour in) and the memory the view holds per retained line, against the raw bytes it retains.

The sandbox runs in its own process so its generator does not share our GIL (nor kubectl's CPU budget).
One untimed warm-up round of each comes first; the pane gets its client from Services, as in watch mode, where
the pod table has built it (and the kubernetes import is paid) before a pod is chosen.
The headless pane keeps every line (log_max_lines raised to --lines), so the memory figure is for all of them.

End to end (tmux on a private socket `-L`, 160x45): from launching `kubectl logs -f` until its last line is on the
terminal, against launching `kftui watch -n bench` (which follows the only pod's log; `l` then ctrl+t picks the
"all" window as soon as the first frame is up and the pane has the focus) until the pane shows the last line and
every line kept. Skipped,
with the reason, when tmux or kubectl is absent.
Run: .venv/bin/python bench/log_tail.py [--lines N] [--runs R] [--tmux-runs R] [--profile FILE]
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
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "bench" / "scenarios" / "flood" / "kube.yaml"
NAMESPACE, POD = "bench", "flood-0"
TARGET_RATIO, TARGET_STALL, TARGET_MEMORY = 1.0, 0.100, 1.5
TMUX_SIZE = (160, 45)
TARGET_TMUX, STRETCH_TMUX = 1.0, 1.5


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
            yield LogPane(PodLogFeed(services.kube_api), window=everything, max_lines=max(lines, 1000))

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


class Tmux:
    """A tmux server of our own (`-L` private socket, never the user's), one window size for every session."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"kftui-bench-{uuid.uuid4().hex[:8]}"
        self.cmd = ["tmux", "-L", self.socket]
        self.env = env  # a new session gets the server's environment: the sandbox's kubeconfig, our XDG dirs
        width, height = TMUX_SIZE
        subprocess.run([*self.cmd, "-f", "/dev/null", "new-session", "-d", "-s", "hold", "-x", str(width), "-y",
                        str(height), "sleep 900"], env=env, check=True)
        # A detached session takes default-size (no client sizes it). Not `window-size manual`: with it, tmux 3.3a's
        # server crashes on the next `new-session -x -y`.
        subprocess.run([*self.cmd, "set-option", "-g", "default-size", f"{width}x{height}"], env=env, check=True)

    def screen(self, session: str) -> str:
        """The text on the session's screen now."""
        return subprocess.run([*self.cmd, "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              env=self.env, check=False).stdout

    def launch(self, session: str, command: str) -> None:
        """Start `command` in a new 160x45 session (kept open after it exits, so its last screen stays)."""
        subprocess.run([*self.cmd, "new-session", "-d", "-s", session, f"env -u COLUMNS -u LINES {command}; sleep 900"],
                       env=self.env, check=True)

    def keys(self, session: str, *keys: str) -> None:
        """Type keys into the session."""
        subprocess.run([*self.cmd, "send-keys", "-t", session, *keys], env=self.env, check=True)

    def kill(self, session: str) -> None:
        """End one session (its process gets SIGHUP)."""
        subprocess.run([*self.cmd, "kill-session", "-t", session], env=self.env, capture_output=True, check=False)

    def close(self) -> None:
        """Stop our server and everything in it."""
        subprocess.run([*self.cmd, "kill-server"], env=self.env, capture_output=True, check=False)


def wait_screen(tmux: Tmux, session: str, texts: tuple[str, ...], start: float, timeout: float = 180) -> float:
    """Seconds from `start` until every text is on the session's screen (polled every 20 ms)."""
    while True:
        shown = tmux.screen(session)
        if all(t in shown for t in texts):
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"{session}: not on screen within {timeout:.0f} s: {texts}\n{shown}")
        time.sleep(0.02)


def tmux_kubectl(tmux: Tmux, kubectl: str, lines: int, extra: str = "") -> float:
    """Launch `kubectl logs -f` in tmux; seconds until its last line is on the terminal."""
    session = f"kubectl-{uuid.uuid4().hex[:6]}"
    start = time.perf_counter()
    tmux.launch(session, f"{kubectl} logs -f -n {NAMESPACE} {POD} {extra}")
    try:
        return wait_screen(tmux, session, (f"flood line {lines - 1:08d}",), start)
    finally:
        tmux.kill(session)


def tmux_kftui(tmux: Tmux, lines: int, args: str = f"-n {NAMESPACE}") -> dict[str, float]:
    """Launch `kftui watch -n bench` in tmux: seconds to its first frame, to the log's first lines, and to the last
    of every line on screen with all of them kept (the "all" window chosen with `l`, ctrl+t once the frame is up)."""
    session = f"kftui-{uuid.uuid4().hex[:6]}"
    kftui = Path(sys.executable).with_name("kftui")
    start = time.perf_counter()
    tmux.launch(session, f"{kftui} watch {args}")
    try:
        first = wait_screen(tmux, session, ("1 Pods",), start)
        tmux.keys(session, "l")
        wait_screen(tmux, session, ("Next window",), start)  # the log pane has the focus (its keys in the footer)
        tmux.keys(session, "C-t")
        some = wait_screen(tmux, session, ("flood line",), start)
        last = wait_screen(tmux, session, (f"flood line {lines - 1:08d}", f"{lines:,} kept"), start)
        return {"first frame": first, "first lines": some, "last line": last}
    finally:
        tmux.keys(session, "q")
        time.sleep(0.3)
        tmux.kill(session)


def main() -> None:
    """Measure kubectl and the pane on the same sandbox, print rates, ratios, stall and memory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tmux-runs", type=int, default=2, help="end-to-end rounds in tmux (0: skip)")
    parser.add_argument("--profile", help="write a cProfile of one pane run to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("log tail bench skipped: kubectl is not installed (it is the reference every figure is a ratio to)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        proc, sandbox_env = start_sandbox(Path(tmp), args.lines)
        env = {**os.environ, **sandbox_env}
        tmux_note, tmux_rounds = tmux_skip_reason(args.tmux_runs), []
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
            if not tmux_note:
                tmux_rounds = end_to_end(Path(tmp), env, kubectl, args.lines, args.tmux_runs)
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
    report_end_to_end(n, tmux_note, tmux_rounds)


def tmux_skip_reason(runs: int) -> str:
    """Why the end-to-end rounds do not run ("" when they do)."""
    if runs <= 0:
        return "--tmux-runs 0"
    if shutil.which("tmux") is None:
        return "tmux is not installed"
    return ""


def end_to_end(tmp: Path, env: dict[str, str], kubectl: str, lines: int, runs: int) -> list[dict[str, float]]:
    """Interleaved rounds of kubectl and kftui in one private tmux server; kftui keeps every line (settings.json)."""
    config, state = tmp / "config", tmp / "state"
    (config / "kftui").mkdir(parents=True)
    (config / "kftui" / "settings.json").write_text(json.dumps({"log_max_lines": max(lines, 1000)}),
                                                     encoding="utf-8")
    tmux_env = {**env, "XDG_CONFIG_HOME": str(config), "XDG_STATE_HOME": str(state), "TERM": "xterm-256color",
                "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
    tmux_env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached as an installed package's is (else every
    # launch compiles kftui, Textual and kubernetes from source: seconds, which no user pays)
    tmux = Tmux(tmux_env)
    try:
        tmux_kubectl(tmux, kubectl, lines)  # untimed warm-up: tmux's own start, kftui's bytecode
        tmux_kftui(tmux, lines)
        rounds = []
        for _ in range(runs):
            rounds.append({"kubectl": tmux_kubectl(tmux, kubectl, lines),
                           "kubectl --timestamps": tmux_kubectl(tmux, kubectl, lines, "--timestamps"),
                           **tmux_kftui(tmux, lines)})
        return rounds
    finally:
        tmux.close()


def report_end_to_end(n: int, note: str, rounds: list[dict[str, float]]) -> None:
    """The end-to-end lines: launch to the last line on screen, kftui against kubectl, and where kftui's time goes."""
    width, height = TMUX_SIZE
    if note:
        print(f"  end to end (tmux {width}x{height}): skipped: {note}")
        return

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def each(key: str) -> str:
        return ", ".join(f"{r[key]:.2f}" for r in rounds)

    k, kts, total = med("kubectl"), med("kubectl --timestamps"), med("last line")
    print(f"end to end in tmux {width}x{height} (private socket), launch to the last of {n:,} lines on screen, "
          f"medians of {len(rounds)}:")
    print(f"  kubectl logs -f               {k:6.2f} s   runs: {each('kubectl')}")
    print(f"  kubectl logs -f --timestamps  {kts:6.2f} s")
    print(f"  kftui watch (log pane, all)   {total:6.2f} s   runs: "
          f"{each('last line')}")
    print(f"    first frame {med('first frame'):.2f} s, first log lines {med('first lines'):.2f} s, "
          f"then {total - med('first lines'):.2f} s for the stream")
    print(f"  ratio (speed) kftui / kubectl: {k / total:.2f}x   vs kubectl --timestamps: {kts / total:.2f}x   "
          f"(target >= {TARGET_TMUX:.1f}x, stretch {STRETCH_TMUX:.1f}x)")


if __name__ == "__main__":
    main()
