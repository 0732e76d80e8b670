"""Fake Google Cloud REST APIs on loopback: one module per service, each exporting add_routes(app, world)."""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from kftui.sandbox.base import Served, load_yaml
from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.gcp import faulting
from kftui.sandbox.gcp.common import World

_NOT_SERVICES = {"common", "env", "faulting"}


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge scenario fragments so each service's data can live in its own file."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_scenario(directory: Path) -> dict[str, Any]:
    """Every `gcp*.yaml` in a scenario directory, merged in name order."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("gcp*.yaml")):
        merged = deep_merge(merged, load_yaml(path.read_text(encoding="utf-8")) or {})
    return merged


def build_app(world: World, faults: FaultPlan | None = None, calls: Counter[str] | None = None) -> web.Application:
    """One aiohttp app serving every service module found in this package, acting out the fault plan."""
    plan = faults if faults is not None else FaultPlan()
    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[faulting.middleware(plan, world, calls)])
    app[faulting.PLAN_KEY] = plan
    faulting.add_control(app, plan)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_SERVICES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        add_routes = getattr(module, "add_routes", None)
        if add_routes is not None:
            add_routes(app, world)
    return app


async def serve(
    scenario: dict[str, Any], host: str = "127.0.0.1", port: int = 0, faults: FaultPlan | None = None
) -> Served:
    """Start the fake GCP on host:port (0 picks a free port) and return how to reach and stop it.

    Without a shared plan, the scenario's own `faults:` list is the plan (Served.extra["faults"]).
    """
    world = World(scenario=scenario)
    plan = faults if faults is not None else FaultPlan.from_data(scenario.get("faults"))
    calls: Counter[str] = Counter()
    runner = web.AppRunner(build_app(world, plan, calls), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return Served(
        name="gcp",
        url=f"http://{host}:{bound}",
        close=runner.cleanup,
        state=world,
        extra={"faults": plan, "calls": calls},
    )
