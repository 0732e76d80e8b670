"""The fake Kubernetes API in a background thread, a kubeconfig pointing at it, and a polling helper."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox.base import Served
from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.kube import KubeWorld, load_scenario, serve, write_kubeconfig
from tests.helpers import wait_for

__all__ = ["wait_for"]  # tests import the one polling helper from here too

DEMO = Path(__file__).resolve().parents[2] / "kftui" / "sandbox" / "scenarios" / "demo"
PROFILE = "kubeflow-user-example-com"


@dataclass
class KubeSandbox:
    """A running fake API server: URL, kubeconfig written for it, and the live world to mutate."""

    url: str
    kubeconfig: Path
    world: KubeWorld
    served: Served
    loop: asyncio.AbstractEventLoop


def demo_scenario(timeline: bool = False) -> dict[str, Any]:
    """A fresh copy of the demo scenario; the timeline is off unless asked (tests drive changes)."""
    sc = copy.deepcopy(load_scenario(DEMO))
    if not timeline:
        sc["kube"].pop("timeline", None)
    return sc


@contextmanager
def running_kube(scenario: dict[str, Any], tmp: Path) -> Iterator[KubeSandbox]:
    """serve() on a private loop thread for the duration of the block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="kube-sandbox", daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(serve(scenario), loop).result(timeout=30)
    kubeconfig = write_kubeconfig(served.url, tmp / "kubeconfig", namespace=PROFILE)
    try:
        yield KubeSandbox(served.url, kubeconfig, served.state, served, loop)
    finally:
        async def close() -> None:
            await served.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test (import it with the test module's other names; tests mutate the world)."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def plan_of(kube: KubeSandbox) -> FaultPlan:
    """The live fault plan of the kube sandbox."""
    plan = kube.served.extra["faults"]
    assert isinstance(plan, FaultPlan)
    return plan
