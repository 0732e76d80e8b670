"""The sandbox: loopback servers that speak GCP REST, the Kubernetes API and KFP v2beta1.

It is the outside world for kftui, so it imports nothing else from the package. `Sandbox` starts all
three in one call on a private event loop thread and writes the files a real user would have
(ADC key, gcloud configuration, kubeconfig), returning the environment that points tools at them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import threading
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kftui.sandbox.base import Served
from kftui.sandbox.faults import Fault, FaultPlan, parse_spec, scenario_faults

T = TypeVar("T")

SCENARIOS = Path(__file__).parent / "scenarios"
KUBE_CONTEXT = "kftui-sandbox"


def scenario_dir(name_or_path: str | Path) -> Path:
    """A built-in scenario by name, or any directory holding gcp*/kube*/kfp* YAML files."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    builtin = SCENARIOS / str(name_or_path)
    if builtin.is_dir():
        return builtin
    known = ", ".join(sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()))
    raise ValueError(f"unknown sandbox scenario {name_or_path!r} (built-in: {known}; or give a directory)")


async def _cancel_the_rest() -> None:
    """Requests still open (a client's watch or log stream) end here, not as "Task was destroyed" at exit."""
    me = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not me]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


async def _awaited(served: Served) -> None:
    await served.close()


class Sandbox:
    """All fake services of one scenario, running on loopback until stop()."""

    def __init__(
        self,
        scenario: str | Path = "demo",
        workdir: Path | None = None,
        host: str = "127.0.0.1",
        still: bool = False,
        faults: Sequence[str | Fault] | None = None,
        epoch: datetime | None = None,
    ):
        self.scenario_path = scenario_dir(scenario)
        planned = scenario_faults(self.scenario_path)
        planned += [parse_spec(f) if isinstance(f, str) else f for f in faults or []]
        self.faults = FaultPlan(planned)
        """The one fault plan every server consults (the scenario's `faults:`, then the given ones, in order)."""
        self.still = still
        """A still world: no timed changes, so screenshots and snapshots are the same in every run."""
        self.workdir = workdir
        self.host = host
        self.env: dict[str, str] = {}
        self.epoch = epoch or datetime.fromtimestamp(int(time.time()), tz=UTC)
        """The instant a still world's ages count from (whole seconds; fixed for snapshots of absolute times)."""
        self.served: dict[str, Served] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kftui-sandbox", daemon=True)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self, write_env: bool = True) -> dict[str, str]:
        """Start every service; with write_env, also write credentials/config and return the env."""
        self._thread.start()
        for name in ("gcp", "kube", "kfp", "registry"):
            module = importlib.import_module(f"kftui.sandbox.{name}")
            scenario = module.load_scenario(self.scenario_path)
            if self.still and isinstance(scenario.get("kube"), dict):
                scenario["kube"].pop("timeline", None)
                scenario["kube"]["epoch_ns"] = int(self.epoch.timestamp()) * 1_000_000_000
            shared = {"faults": self.faults} if "faults" in inspect.signature(module.serve).parameters else {}
            self.served[name] = self._run(module.serve(scenario, self.host, 0, **shared))
        from kftui.sandbox.gcp.container import connect_kube
        from kftui.sandbox.kube.iam import connect as connect_iam
        from kftui.sandbox.kube.tls import serve_tls

        # A GKE cluster's endpoint is the kube sandbox over https (kubectl sends the auth plugin's token only over
        # TLS), and GKE's IAM authorizer guards it for Google identities.
        tls = self.served["kube-tls"] = self._run(serve_tls(self.served["kube"], self.host))
        connect_kube(self.served["gcp"].state, tls.extra["endpoint"], tls.extra["ca"])
        connect_iam(self.served["kube"].state, self.served["gcp"].state)
        self.served["kube"].state.notebooks.registry = self.served["registry"].state  # private images need secrets
        self.served["kfp"].state.connect_pods(self.served["kube"].state)  # runs' driver and launcher pods
        if write_env:
            if self.workdir is None:
                raise ValueError("Sandbox.start(write_env=True) needs a workdir for credentials")
            with self.faults.paused():
                self.env = self._write_env(self.workdir)
        return self.env

    def _write_env(self, workdir: Path) -> dict[str, str]:
        from kftui.sandbox.gcp import load_scenario as load_gcp
        from kftui.sandbox.gcp.env import write_env
        from kftui.sandbox.kube import write_kubeconfig

        workdir.mkdir(parents=True, exist_ok=True)
        env = dict(write_env(self.served["gcp"].url, workdir / "gcp", load_gcp(self.scenario_path), reuse=True))
        kubeconfig = write_kubeconfig(self.served["kube"].url, workdir / "kubeconfig", KUBE_CONTEXT)
        env["KUBECONFIG"] = str(kubeconfig)
        env["KF_PIPELINES_ENDPOINT"] = self.served["kfp"].url
        env["KFTUI_REGISTRY_OVERRIDES"] = self.served["registry"].extra["KFTUI_REGISTRY_OVERRIDES"]
        return env

    @property
    def gcp(self) -> Served:
        """The fake Google Cloud (its `state` is the World, for tests)."""
        return self.served["gcp"]

    @property
    def kube(self) -> Served:
        """The fake Kubernetes API server."""
        return self.served["kube"]

    @property
    def kfp(self) -> Served:
        """The fake Kubeflow Pipelines API."""
        return self.served["kfp"]

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the sandbox loop (to mutate a server's state from a test)."""
        return self._run(coro, timeout)

    def stop(self) -> None:
        """Close every server and the loop; safe to call twice."""
        if not self._thread.is_alive():
            return
        for served in reversed(list(self.served.values())):
            with contextlib.suppress(Exception):  # best effort: a server that fails to close is dropped
                self._run(_awaited(served), timeout=10)
        with contextlib.suppress(Exception):
            self._run(_cancel_the_rest(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
