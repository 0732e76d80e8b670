"""Shared fixtures: the fake KFP running on a background loop, and a kftui client connected to it."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox.base import Served
from kftui.sandbox.kfp import load_scenario, serve
from kftui.sandbox.kfp.state import World
from tests.helpers import wait_for

__all__ = ["wait_for"]  # tests import the one polling helper from here too

DEMO = Path(__file__).resolve().parents[2] / "kftui" / "sandbox" / "scenarios" / "demo"
FAILED_RUN = "8f2c1a7e-1b7d-4c3e-9a55-2f1f0c6d9b01"
OLD_RUN = "3b9e4d2a-6c1f-4f7a-8e2b-9d0a1c5e7f42"
RUNNING_RUN = "c41d7b90-2e8a-4f36-b1c5-5a7e9d3f2b68"


@dataclass
class KfpSandbox:
    """A running fake KFP: its URL and its live World."""

    url: str
    world: World
    served: Served


def demo_scenario() -> dict[str, Any]:
    """A fresh copy of the demo scenario (tests mutate the world)."""
    return copy.deepcopy(load_scenario(DEMO))


def start_kfp(scenario: dict[str, Any]) -> tuple[KfpSandbox, Callable[[], None]]:
    """Start `serve()` on a fresh event loop in a daemon thread; returns the sandbox and its stopper."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="kfp-sandbox", daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(serve(scenario), loop).result(timeout=30)

    async def close() -> None:
        await served.close()

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    return KfpSandbox(url=served.url, world=served.state, served=served), stop


@pytest.fixture
def kfp_sandbox() -> Iterator[KfpSandbox]:
    """The demo KFP world, fresh for each test."""
    sandbox, stop = start_kfp(demo_scenario())
    try:
        yield sandbox
    finally:
        stop()
