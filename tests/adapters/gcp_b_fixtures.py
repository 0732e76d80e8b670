"""Fixtures for the compute/quotas/container adapter tests: the fake GCP in a thread, ADC pointed at it."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox.gcp import load_scenario, serve
from kftui.sandbox.gcp.common import World
from kftui.sandbox.gcp.env import override_env, write_key

DEMO = Path(__file__).resolve().parents[2] / "kftui" / "sandbox" / "scenarios" / "demo"
PROJECT = "robot-ml-demo"


@dataclass
class Sandbox:
    """A running fake GCP: URL and live world."""

    url: str
    world: World


def demo() -> dict[str, Any]:
    """A fresh copy of the demo scenario with the APIs these tests need switched on."""
    scenario = copy.deepcopy(load_scenario(DEMO))
    scenario.setdefault("identity", "ada@robot-ml-demo.iam.gserviceaccount.com")
    for pid in (PROJECT, "trial-project"):
        entry = scenario["projects"][pid]
        entry.setdefault("number", "123456789012")
        services = entry.setdefault("services", {})
        for api in ("compute", "container", "cloudquotas"):
            services[f"{api}.googleapis.com"] = "ENABLED"
        entry.setdefault("iam", {})["granted"] = ["*"]
    return scenario


@pytest.fixture
def gcpb_scenario() -> dict[str, Any]:
    """The scenario a test runs against; override in a test module to change the world."""
    return demo()


@pytest.fixture
def gcpb(gcpb_scenario: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """Serve `gcpb_scenario` on loopback and point ADC and the endpoint overrides at it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="gcp-b-sandbox", daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(serve(gcpb_scenario), loop).result(timeout=30)
    for name in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_QUOTA_PROJECT", "CLOUDSDK_ACTIVE_CONFIG_NAME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "gcloud").mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    key = write_key(served.url, tmp_path / "key.json", str(gcpb_scenario["identity"]), PROJECT)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    for name, value in override_env(served.url).items():
        monkeypatch.setenv(name, value)
    try:
        yield Sandbox(url=served.url, world=served.state)
    finally:

        async def close() -> None:
            await served.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
