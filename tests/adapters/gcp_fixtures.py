"""Shared fixtures: the fake GCP running in a background thread, and the environment that points at it."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kftui.sandbox.base import Served
from kftui.sandbox.gcp import load_scenario, serve
from kftui.sandbox.gcp.common import World
from tests.helpers import wait_for

__all__ = ["wait_for"]  # tests import the one polling helper from here too

DEMO = Path(__file__).resolve().parents[2] / "kftui" / "sandbox" / "scenarios" / "demo"
T = TypeVar("T")


@dataclass
class GcpSandbox:
    """A running fake GCP: its URL, its live World, and the loop it runs on."""

    url: str
    world: World
    served: Served
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the sandbox's loop from the test thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def project(self, project_id: str) -> dict[str, Any]:
        """The live scenario entry of a project (what the fake services read and write)."""
        entry: dict[str, Any] = self.world.scenario["projects"][project_id]
        return entry


def demo_scenario() -> dict[str, Any]:
    """A fresh copy of the demo scenario (tests mutate the world)."""
    return copy.deepcopy(load_scenario(DEMO))


def start_sandbox(scenario: dict[str, Any]) -> tuple[GcpSandbox, Callable[[], None]]:
    """Start `serve()` on a fresh event loop in a daemon thread; returns the sandbox and its stopper."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="gcp-sandbox", daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(serve(scenario), loop).result(timeout=30)
    sandbox = GcpSandbox(url=served.url, world=served.state, served=served, loop=loop)

    async def close() -> None:
        await served.close()

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()

    return sandbox, stop



@pytest.fixture
def gcp_sandbox() -> Iterator[GcpSandbox]:
    """The demo world served on a free loopback port for one test."""
    sandbox, stop = start_sandbox(demo_scenario())
    try:
        yield sandbox
    finally:
        stop()


@pytest.fixture
def gcp_env(gcp_sandbox: GcpSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GcpSandbox:
    """The sandbox plus ADC and endpoint overrides in the environment (no gcloud call: fast)."""
    from kftui.sandbox.gcp.env import default_project, override_env, write_key

    scenario = gcp_sandbox.world.scenario
    project = default_project(scenario)
    key = write_key(gcp_sandbox.url, tmp_path / "adc.json", str(scenario["identity"]), project)
    for name in ("CLOUDSDK_ACTIVE_CONFIG_NAME", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_QUOTA_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty-gcloud").mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "empty-gcloud"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    monkeypatch.setenv("CLOUDSDK_CORE_PROJECT", project)
    for name, value in override_env(gcp_sandbox.url).items():
        monkeypatch.setenv(name, value)
    return gcp_sandbox


@pytest.fixture
def gcloud_env(gcp_sandbox: GcpSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The sandbox plus ADC and a real gcloud configuration made by write_env, exported to the environment."""
    from kftui.sandbox.gcp.env import write_env

    for name in ("CLOUDSDK_ACTIVE_CONFIG_NAME", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_QUOTA_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    env = write_env(gcp_sandbox.url, tmp_path / "gcp-env", gcp_sandbox.world.scenario)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
