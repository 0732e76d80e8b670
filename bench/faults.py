"""The fault matrix: every Google API a CLI surface calls x every real failure, each run as a user would run it.

For each surface (doctor, quota status, quota request, deploy --plan-only) a healthy run first shows which Google
APIs it calls (counted by the sandbox); then every fault in the plan is set on each of those APIs in turn and the real
`kftui` CLI runs in a subprocess against the sandbox. A run is *handled* when it ends within its deadline with the
expected exit code, no traceback and no "does not recognise" text; anything else is *failed*, with the reason.

    .venv/bin/python bench/faults.py            # the whole matrix (about 3 minutes on 2 cores)
    .venv/bin/python bench/faults.py --quick    # fewer faults
    .venv/bin/python bench/faults.py --kftui-root DIR   # run the CLI from another checkout (a "before" figure)

The sandbox always comes from this checkout; `--kftui-root` only changes the kftui the subprocesses import.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kftui.sandbox import Sandbox  # noqa: E402
from kftui.sandbox.faults import parse_spec  # noqa: E402

PROJECT = "robot-ml-demo"
GPU = "nvidia-tesla-t4"

SURFACES: dict[str, list[str]] = {
    "doctor": ["doctor", "--project", PROJECT],
    "quota-status": ["quota", "status", "--project", PROJECT],
    "quota-request": [
        "quota", "request", "--project", PROJECT, "--gpu", GPU, "--region", "us-central1", "--count", "{count}",
        "--email", "ada@example.com", "--yes",
    ],
    "deploy-plan": [
        "deploy", "--plan-only", "--project", PROJECT, "--zone", "us-central1-a", "--gpu", GPU, "--gpu-count", "1",
        "--max-gpu-nodes", "2", "--yes",
    ],
}  # fmt: skip
"""The CLI surfaces that call Google (explain does not)."""

DEADLINE = {"doctor": 45.0}
"""Seconds a run may take: doctor promises 45 s; every other command one hung call (30 s) plus startup."""
DEFAULT_DEADLINE = 60.0

FAULTS: dict[str, str | None] = {
    "403": "status,status=403",
    "403-disabled": "status,status=403,reason=SERVICE_DISABLED",
    "403-billing": "status,status=403,reason=BILLING_DISABLED",
    "403-consumer": "status,status=403,reason=CONSUMER_INVALID",
    "404": "status,status=404",
    "429": "status,status=429,retry_after=1,times=2",
    "500": "status,status=500",
    "503": "status,status=503",
    "hang": "hang",
    "reset": "reset",
    "refused": None,
    "html": "html",
    "truncated": "truncated",
    "shape": "shape",
    "empty": "empty",
}
"""Fault name -> the plan's spec after `API=` (refused: the API's endpoint override points at a closed port)."""
QUICK = ("403", "429", "503", "hang", "reset", "refused", "html", "empty")
TRANSIENT = frozenset({"429"})
"""Faults a correct client rides out: the run must end as the healthy one did."""
ANSWERS = frozenset({"404"})
"""Faults that can be a real answer (a request that no longer exists): exit 0 is allowed, a traceback is not."""


@dataclass
class Run:
    """One cell of the matrix and what happened."""

    surface: str
    api: str
    fault: str
    seconds: float = 0.0
    code: int | None = None
    verdict: str = ""
    why: str = ""
    tail: str = ""


@dataclass
class Worker:
    """One sandbox and the state directory template its runs start from."""

    sandbox: Sandbox
    base: Path
    seeded_state: Path
    healthy: dict[str, int] = field(default_factory=dict)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    worker: Worker, surface: str, extra_env: dict[str, str], root: Path, count: int
) -> tuple[int | None, str, float]:
    """Run one surface as a subprocess; returns (exit code or None when killed at the deadline, output, seconds)."""
    run_dir = Path(tempfile.mkdtemp(dir=worker.base))
    state = run_dir / "state"
    shutil.copytree(worker.seeded_state, state)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "XDG_", "KFTUI_"))}
    env.update(worker.sandbox.env)
    env.update({"XDG_STATE_HOME": str(state), "XDG_CONFIG_HOME": str(run_dir / "config"),
                "XDG_CACHE_HOME": str(run_dir / "cache"), "PYTHONPATH": str(root), "COLUMNS": "160"})  # fmt: skip
    env.update(extra_env)
    argv = [a.replace("{count}", str(count)) for a in SURFACES[surface]]
    deadline = DEADLINE.get(surface, DEFAULT_DEADLINE)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kftui", *argv], env=env, cwd=run_dir, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=deadline)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        code = None
    shutil.rmtree(run_dir, ignore_errors=True)
    return code, out, time.monotonic() - started


def judge(run: Run, out: str, healthy: int, hit: bool) -> None:
    """handled / failed, and why."""
    deadline = DEADLINE.get(run.surface, DEFAULT_DEADLINE)
    problems = []
    if run.code is None:
        problems.append(f"still running at its {deadline:.0f} s deadline")
    if "Traceback (most recent call last)" in out:
        problems.append("traceback")
    if "does not recognise" in out:
        problems.append('"does not recognise"')
    if run.code is not None:
        if run.fault in TRANSIENT:
            if run.code != healthy:
                problems.append(f"exit {run.code} where the healthy run exits {healthy}")
        elif run.code == 0 and hit and healthy == 0 and run.fault not in ANSWERS and "kftui: note:" not in out:
            problems.append("exit 0 although the API failed")
        elif run.code not in (0, 1):
            problems.append(f"exit {run.code}")
    run.verdict = "failed" if problems else "handled"
    run.why = ", ".join(problems)
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    run.tail = " / ".join(lines[-3:])[:300]


def cell(worker: Worker, surface: str, api: str, fault: str, root: Path, count: int) -> Run:
    """Plan one fault on one API, run one surface, clear the plan."""
    plan = worker.sandbox.faults
    calls: Counter[str] = worker.sandbox.gcp.extra["calls"]
    plan.clear()
    extra: dict[str, str] = {}
    spec = FAULTS[fault]
    if spec is None:
        extra[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = f"http://127.0.0.1:{closed_port()}/" + (
            "compute/v1/" if api == "compute" else ""
        )
    else:
        plan.add(parse_spec(f"{api}={spec}"))
    before = calls[api]
    run = Run(surface, api, fault)
    run.code, out, run.seconds = run_cli(worker, surface, extra, root, count)
    hit = spec is None or calls[api] > before
    plan.clear()
    judge(run, out, worker.healthy.get(surface, 0), hit)
    return run


def scenario(base: Path) -> Path:
    """The demo world, with the caller holding every permission but setIamPolicy (so healthy runs succeed)."""
    import yaml

    from kftui.sandbox import scenario_dir

    target = base / "scenario"
    shutil.copytree(scenario_dir("demo"), target)
    path = target / "gcp.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["projects"][PROJECT]["iam"]["granted"] = ["*"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return target


def start_worker(index: int, base: Path, root: Path) -> Worker:
    """A sandbox of its own (faults are per sandbox), with a state in which one quota request was filed."""
    workdir = base / f"w{index}"
    sandbox = Sandbox(base / "scenario", workdir)
    sandbox.start()
    worker = Worker(sandbox, workdir, workdir / "seed")
    (worker.seeded_state).mkdir(parents=True)
    return worker


def discover(worker: Worker, root: Path) -> dict[str, list[str]]:
    """Which APIs each surface calls, from one healthy run each (the quota request also seeds quota status)."""
    calls: Counter[str] = worker.sandbox.gcp.extra["calls"]
    used: dict[str, list[str]] = {}
    for surface in ("quota-request", "quota-status", "doctor", "deploy-plan"):
        before = Counter(calls)
        code, out, _ = run_cli(worker, surface, {}, root, 2)
        worker.healthy[surface] = code if code is not None else -1
        used[surface] = sorted(api for api in calls if calls[api] > before[api])
        if code not in (0, 1):
            print(f"  healthy {surface}: exit {code}: {out.strip().splitlines()[-1:]}", file=sys.stderr)
    return used


def seed_state(worker: Worker, root: Path) -> None:
    """File one quota request with the CLI into the seed state, so `quota status` has something to ask about."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "XDG_", "KFTUI_"))}
    env.update(worker.sandbox.env)
    env.update({"XDG_STATE_HOME": str(worker.seeded_state), "XDG_CONFIG_HOME": str(worker.base / "seedcfg"),
                "PYTHONPATH": str(root)})  # fmt: skip
    argv = [a.replace("{count}", "2") for a in SURFACES["quota-request"]]
    done = subprocess.run(
        [sys.executable, "-m", "kftui", *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if os.environ.get("FAULTS_DEBUG"):
        print(done.returncode, done.stdout, done.stderr, list(worker.seeded_state.rglob("*")))
    if done.returncode != 0 or not any(worker.seeded_state.rglob("*.json")):
        print(f"  seeding quota status failed (exit {done.returncode}): {done.stdout[-300:]} {done.stderr[-300:]}")


def main(argv: list[str] | None = None) -> int:
    """Build the matrix, run it on a few sandboxes side by side, print tried / handled / failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only the faults {', '.join(QUICK)}")
    parser.add_argument("--jobs", type=int, default=3, help="sandboxes running side by side (default 3)")
    parser.add_argument("--kftui-root", type=Path, default=ROOT, help="checkout whose kftui the CLI runs import")
    parser.add_argument("--surface", action="append", choices=sorted(SURFACES), help="only these surfaces")
    parser.add_argument("--fault", action="append", choices=sorted(FAULTS), help="only these faults")
    parser.add_argument("--json", type=Path, help="also write every run as JSON to this file")
    args = parser.parse_args(argv)
    faults = args.fault or (list(QUICK) if args.quick else list(FAULTS))
    surfaces = args.surface or list(SURFACES)
    root = args.kftui_root.resolve()
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="kftui-faults-"))
    workers: list[Worker] = []
    try:
        scenario(base)
        workers = [start_worker(i, base, root) for i in range(max(1, args.jobs))]
        for worker in workers:
            seed_state(worker, root)
        used = discover(workers[0], root)
        for worker in workers[1:]:
            worker.healthy = dict(workers[0].healthy)
        print(f"kftui under test: {root}")
        for surface in surfaces:
            print(f"  {surface:14} calls {', '.join(used[surface]) or '(no Google API)'}; healthy exit "
                  f"{workers[0].healthy[surface]}")  # fmt: skip
        cells = [(s, api, f) for s in surfaces for api in used[s] for f in faults]
        todo: queue.Queue[tuple[int, tuple[str, str, str]]] = queue.Queue()
        for index, item in enumerate(cells):
            todo.put((index, item))
        runs: list[Run] = []
        lock = threading.Lock()

        def work(worker: Worker) -> None:
            while True:
                try:
                    index, (surface, api, fault) = todo.get_nowait()
                except queue.Empty:
                    return
                run = cell(worker, surface, api, fault, root, 10 + index)
                with lock:
                    runs.append(run)
                    mark = "ok  " if run.verdict == "handled" else "FAIL"
                    print(f"  {mark} {surface:14} {api:21} {fault:13} exit {run.code!s:4} {run.seconds:5.1f}s"
                          f"{'  ' + run.why if run.why else ''}", flush=True)  # fmt: skip

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for worker in workers:
            worker.sandbox.stop()
        shutil.rmtree(base, ignore_errors=True)
    handled = sum(r.verdict == "handled" for r in runs)
    failed = [r for r in runs if r.verdict != "handled"]
    slowest = max((r.seconds for r in runs), default=0.0)
    print()
    for run in sorted(failed, key=lambda r: (r.surface, r.api, r.fault)):
        print(f"failed: {run.surface} x {run.api} x {run.fault}: {run.why} | {run.tail}")
    by_fault = Counter(r.fault for r in failed)
    print(f"failed by fault: {dict(sorted(by_fault.items())) or '{}'}")
    print(f"tried {len(runs)} / handled {handled} / failed {len(failed)}; slowest run {slowest:.1f} s; "
          f"wall {time.monotonic() - started:.0f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in runs], indent=1), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
