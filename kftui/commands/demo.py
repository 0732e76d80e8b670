"""`kftui demo`: open kftui at once, then start the sandbox in its own process; the app shows the mode asked for
once the sandbox reports ready, pointed at it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kftui import paths
from kftui.errors import KftuiError, UsageError


class SandboxProcess:
    """`python -m kftui.sandbox` as a child: started, ready later (its environment), closed with its stdin."""

    def __init__(self, scenario: str, workdir: Path) -> None:
        self.scenario = scenario
        self.workdir = workdir
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Spawn the child (once; not after close())."""
        with self._lock:
            if self.proc is not None or self._closed:
                return
            scenario, workdir = self.scenario, self.workdir
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kftui.sandbox", "--scenario", scenario, "--workdir", str(workdir),
                 "--until-stdin-closes"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

    def wait_ready(self, timeout: float = 90) -> dict[str, str]:
        """Start it if need be, block until it reports READY and return its environment; KftuiError (one line)
        if it cannot."""
        self.start()
        if self.proc is None:
            raise KftuiError("the sandbox was stopped before it started")
        return _wait_ready(self.proc, timeout)

    def close(self) -> None:
        """Closing its stdin stops it; a sandbox that does not stop within 10 s is killed."""
        with self._lock:
            self._closed = True
        if self.proc is None:
            return
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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


def scenarios_dir() -> Path:
    """kftui.sandbox.SCENARIOS, found without importing the sandbox (asyncio and its servers: the first frame's
    time); the sandbox process imports it."""
    import importlib.util

    spec = importlib.util.find_spec("kftui.sandbox")
    assert spec is not None and spec.submodule_search_locations, "kftui.sandbox is part of kftui"
    return Path(next(iter(spec.submodule_search_locations))) / "scenarios"


def check_scenario(scenario: str) -> None:
    """An unknown scenario is one line naming it and the built-in ones, before a sandbox process starts."""
    scenarios = scenarios_dir()
    if Path(scenario).expanduser().is_dir() or (scenarios / scenario).is_dir():
        return
    from kftui.core.sanitize import inert

    known = ", ".join(sorted(p.name for p in scenarios.iterdir() if p.is_dir()))
    raise UsageError(f"--scenario: no scenario {inert(scenario)!r} (built-in: {known}; or give a directory).")


def demo_app(scenario: str, mode: str, sandbox: SandboxProcess, timeout: float = 90) -> Any:
    """The app: its first screen says the sandbox is starting; the mode asked for opens once it is ready.

    Nothing reads the cluster, Google Cloud or the pipelines API before that (the sandbox's environment is not
    there yet, and the user's own must never be used by the demo): the mode switch waits, and a sandbox that
    cannot start closes the app with one line.
    """
    from kftui.app import KftuiApp
    from kftui.core.sanitize import inert
    from kftui.settings import load_settings

    def starting() -> Any:
        from kftui.screens.starting import SandboxStarting

        return SandboxStarting(inert(scenario))

    class DemoApp(KftuiApp):
        """KftuiApp with a first mode of its own: the sandbox starting."""

        MODES = {**KftuiApp.MODES, "starting": starting}
        CSS_PATH = str(Path(sys.modules[KftuiApp.__module__].__file__ or "").with_name(str(KftuiApp.CSS_PATH)))
        """Textual finds a relative CSS path beside the class's own module: point at the app's."""

        def __init__(self) -> None:
            super().__init__(mode="starting", settings=load_settings())
            self.wanted = mode
            self.sandbox_up = False
            self.failure = ""
            """Why the sandbox did not start ("" when it did, or is still starting)."""

        def on_mount(self) -> None:
            """After the first frame, start the sandbox and wait for it on a daemon thread (q still quits)."""
            super().on_mount()
            self.call_after_refresh(self._start_sandbox)

        def _start_sandbox(self) -> None:
            threading.Thread(target=self._wait_sandbox, daemon=True, name="kftui-demo-sandbox").start()

        def _wait_sandbox(self) -> None:
            import importlib

            sandbox.start()  # not before the first frame: on a busy machine it would compete with it for a core
            # The mode's screen module is loaded here meanwhile, so the switch once the sandbox is up is quick.
            importlib.import_module(f"kftui.screens.{mode}")
            try:
                env = sandbox.wait_ready(timeout)
            except KftuiError as exc:
                self.call_from_thread(self._sandbox_failed, str(exc))
                return
            os.environ.update(env)
            self.call_from_thread(self._sandbox_ready)

        def _sandbox_ready(self) -> None:
            self.sandbox_up = True
            self.switch_mode(self.wanted)

        def _sandbox_failed(self, reason: str) -> None:
            self.failure = reason
            screen: Any = self.screen
            if hasattr(screen, "failed"):
                screen.failed(inert(reason))
            self.exit()

        def switch_to(self, target: str) -> None:
            """Setup and watch open only on the sandbox (before it is up they would read the user's own world)."""
            if not self.sandbox_up:
                self.notify("the sandbox is still starting", severity="warning")
                return
            super().switch_to(target)

    return DemoApp()


def run_demo(scenario: str, mode: str) -> None:
    """Everything the app reads (endpoints, ADC, gcloud config, kubeconfig, KFP host) comes from the sandbox."""
    check_scenario(scenario)
    base = paths.cache_dir() / "demo"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sandbox-", dir=base) as tmp:
        workdir = Path(tmp)
        # The demo keeps its answers apart from the user's real ones.
        os.environ["XDG_STATE_HOME"] = str(workdir / "state")
        os.environ["XDG_CONFIG_HOME"] = str(workdir / "config")
        sandbox = SandboxProcess(scenario, workdir / "sandbox")
        try:
            app = demo_app(scenario, mode, sandbox)
            app.run()
        finally:
            sandbox.close()
        if app.failure:
            raise KftuiError(app.failure)
