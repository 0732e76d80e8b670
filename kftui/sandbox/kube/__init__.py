"""A fake Kubernetes API server on loopback: pods, events, notebooks, watches and pod logs, from a scenario."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from kftui.sandbox.base import Served, load_yaml
from kftui.sandbox.faults import FaultPlan, faults_from_data
from kftui.sandbox.kube.server import KubeApi
from kftui.sandbox.kube.world import KubeWorld, deep_merge

__all__ = ["KubeWorld", "load_scenario", "serve", "write_kubeconfig"]


def load_scenario(directory: Path) -> dict[str, Any]:
    """Every `kube*.yaml` in a scenario directory, merged in name order."""
    merged: dict[str, Any] = {}
    for path in sorted(Path(directory).glob("kube*.yaml")):
        merged = deep_merge(merged, load_yaml(path.read_text(encoding="utf-8")) or {})
    return merged


async def serve(scenario: dict[str, Any], host: str = "127.0.0.1", port: int = 0,
                faults: FaultPlan | None = None) -> Served:
    """Start the fake API server on host:port (0 picks a free port); `state` is the live KubeWorld.

    `faults` is the Sandbox's one shared plan (named as the other servers name it, so the Sandbox passes it; run
    alone, a plan of its own); the scenario's `kube.faults` are added to it. `extra["faults"]` is it, so tests and
    tools add and clear faults at run time.
    """
    world = KubeWorld(scenario, asyncio.get_running_loop())
    plan = faults if faults is not None else FaultPlan()
    plan.extend(faults_from_data(dict(scenario.get("kube", scenario)).get("faults")))  # the scenario's own, too
    runner = web.AppRunner(KubeApi(world, plan).app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    timeline = asyncio.create_task(world.run_timeline())

    async def close() -> None:
        timeline.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timeline
        world.drop_log_streams()
        await runner.cleanup()

    return Served(name="kube", url=f"http://{host}:{bound}", close=close, state=world, extra={"faults": plan})


def write_kubeconfig(url: str, path: Path, context: str = "kftui-sandbox", namespace: str | None = None) -> Path:
    """A kubeconfig pointing kubectl and the Python client at the sandbox (token auth, plain http)."""
    ctx: dict[str, Any] = {"cluster": context, "user": context}
    if namespace:
        ctx["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": "sandbox-token"}}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
        "preferences": {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
