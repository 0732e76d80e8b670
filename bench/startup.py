"""Start-up speed: `kftui --help` and the app's first frame on the sandbox, beside `kubectl version --client`.

Prints medians and ratios against kubectl measured in the same run, so the figures mean something on any
machine. The first frame is the moment the mode's own screen is first drawn (its compositor refresh), timed
from spawning the process; the checks that start after it are not counted. `kftui demo` draws its "starting the
sandbox" screen first (its first frame), the mode's screen once the sandbox is up. Each subject gets one untimed
warm-up run, and Python caches bytecode (in a temporary prefix) the way an installed package has it, even
where PYTHONDONTWRITEBYTECODE is set.
Run: .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_FRAME = """
import os, sys, time
import textual.screen

mode, spawned, demo = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "demo"
wanted = {"setup": "SetupScreen", "watch": "WatchScreen"}[mode]
paint = textual.screen.Screen._compositor_refresh
painted = []

def first_paint(self, *args, **kwargs):
    result = paint(self, *args, **kwargs)
    name = type(self).__name__
    if not painted and name in (wanted, "SandboxStarting"):  # the first frame that says something
        painted.append(name)
        print("first", time.time() - spawned, flush=True)
    if name == wanted:  # the mode's own screen, composed and laid out, has been drawn
        print("mode", time.time() - spawned, flush=True)
        os._exit(0)  # do not count the background checks that start after it
    return result

textual.screen.Screen._compositor_refresh = first_paint
if demo:
    import textual.app

    run = textual.app.App.run

    def headless(self, *args, **kwargs):
        kwargs.update(headless=True, size=(120, 40))
        return run(self, *args, **kwargs)

    textual.app.App.run = headless
    from kftui.commands.demo import run_demo

    run_demo("demo", mode)  # as `kftui demo`: the app at once, the sandbox process meanwhile
else:
    from kftui.app import KftuiApp
    from kftui.factory import Services

    KftuiApp(services=Services(), mode=mode, persist=False).run(headless=True, size=(120, 40))
"""


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall time of a whole process, start to exit, `runs` times."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - start)
    return out


def first_frames(mode: str, env: dict[str, str], runs: int, how: str = "app", which: str = "first") -> list[float]:
    """Seconds from spawning the app (or `kftui demo`) to its first drawn frame (`which="mode"`: to the mode's own
    screen, for the demo once its sandbox is up), reported by the process itself."""
    return [frame_times(mode, env, how)[which] for _ in range(runs)]


def frame_times(mode: str, env: dict[str, str], how: str) -> dict[str, float]:
    """One launch: {"first": first frame, "mode": the mode's screen drawn}."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, mode, repr(time.time()), how],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {k: float(v) for k, v in (line.split() for line in done.stdout.strip().splitlines() if " " in line)}


def main() -> None:
    """Measure, then print one line per subject with its median and its ratio to kubectl."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kftui.sandbox import Sandbox

    kubectl = shutil.which("kubectl")
    kftui = str(Path(sys.executable).with_name("kftui"))
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox("demo", Path(tmp) / "sandbox")
        env = {**os.environ, **sandbox.start(), "XDG_STATE_HOME": tmp, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp,
               "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode is cached as an installed package's is
        try:
            results: dict[str, list[float]] = {}
            if kubectl:
                timed([kubectl, "version", "--client"], env, 1)  # untimed warm-up: page cache, bytecode
                results["kubectl version --client"] = timed([kubectl, "version", "--client"], env, args.runs)
            timed([kftui, "--help"], env, 1)
            results["kftui --help"] = timed([kftui, "--help"], env, args.runs)
            for mode in ("setup", "watch"):
                first_frames(mode, env, 1)
                results[f"first frame ({mode})"] = first_frames(mode, env, args.runs)
            frame_times("watch", env, "demo")  # untimed warm-up
            demo = [frame_times("watch", env, "demo") for _ in range(args.runs)]
            results["first frame (kftui demo)"] = [d["first"] for d in demo]
            results["demo: watch on the sandbox"] = [d["mode"] for d in demo]
        finally:
            sandbox.stop()
    reference = statistics.median(results["kubectl version --client"]) if kubectl else None
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (goal: first frames <= 500 ms when idle)")
    print(f"{'subject':32} {'median':>9} {'min':>9}  vs kubectl")
    for name, samples in results.items():
        med = statistics.median(samples)
        ratio = f"{med / reference:6.2f}x" if reference else "   n/a"
        print(f"{name:32} {med * 1000:7.0f}ms {min(samples) * 1000:7.0f}ms  {ratio}")


if __name__ == "__main__":
    main()
