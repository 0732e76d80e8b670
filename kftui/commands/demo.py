"""`kftui demo`: start the sandbox in its own process and open kftui pointed at it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kftui import paths
from kftui.errors import KftuiError, UsageError


@contextmanager
def sandbox_process(scenario: str, workdir: Path, timeout: float = 90) -> Iterator[dict[str, str]]:
    """Run `python -m kftui.sandbox` and yield its environment once it reports READY."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kftui.sandbox",
            "--scenario",
            scenario,
            "--workdir",
            str(workdir),
            "--until-stdin-closes",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        env = _wait_ready(proc, timeout)
        yield env
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_ready(proc: subprocess.Popen[str], timeout: float) -> dict[str, str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.startswith("READY "):
                env: dict[str, str] = json.loads(line[6:])
                return env
            if line.startswith("FAILED "):
                raise KftuiError(f"the sandbox did not start: {line[7:].strip()}")
            if not line and proc.poll() is not None:
                err = proc.stderr.read().strip().splitlines() if proc.stderr else []
                raise KftuiError(f"the sandbox exited early: {err[-1] if err else 'no message'}")
    raise KftuiError(f"the sandbox did not report ready within {timeout:.0f} s")


def check_scenario(scenario: str) -> None:
    """An unknown scenario is one line naming it and the built-in ones, before a sandbox process starts."""
    from kftui.sandbox import SCENARIOS

    if Path(scenario).expanduser().is_dir() or (SCENARIOS / scenario).is_dir():
        return
    from kftui.core.sanitize import inert

    known = ", ".join(sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()))
    raise UsageError(f"--scenario: no scenario {inert(scenario)!r} (built-in: {known}; or give a directory).")


def run_demo(scenario: str, mode: str) -> None:
    """Everything the app reads (endpoints, ADC, gcloud config, kubeconfig, KFP host) comes from the sandbox."""
    check_scenario(scenario)
    base = paths.cache_dir() / "demo"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sandbox-", dir=base) as tmp:
        workdir = Path(tmp)
        with sandbox_process(scenario, workdir) as env:
            os.environ.update(env)
            # The demo keeps its answers apart from the user's real ones.
            os.environ["XDG_STATE_HOME"] = str(workdir / "state")
            os.environ["XDG_CONFIG_HOME"] = str(workdir / "config")
            from kftui.commands.launch import launch

            launch(mode=mode)
