"""Fake Kubeflow Pipelines v2beta1 REST API on loopback: what `kfp.Client` (kfp 2.17) sends, answered.

Also served under the Kubernetes service-proxy prefix, so `kfp.Client(kube_context=...)` can reach it
through a kubeconfig that points at this server.

Shapes and where they come from (kubeflow/pipelines sources): a run's `run_details.task_details` are the nodes of a
simulated Argo workflow, converted as backend/src/apiserver/server/api_converter.go does (see kfp/argo.py for the
node tree, IDs, pod names and every field); run creation validates parameters as
backend/src/apiserver/template/v2_template.go validatePipelineJobInputs does, with the error wrapped as
run_server.go / resource_manager.go wrap it (common/util/error.go: `message` is the wrapped chain, `details` the
bare text); empty fields are left out as the grpc-gateway marshaller (EmitUnpopulated false) leaves them out.
Runs created through the API get driver and launcher pods in the kube sandbox once `World.connect_pods` is called
(the Sandbox does), made with the kube world's own add_pod/update_pod/delete_pod; a run retry deletes the failed
nodes' pods, as the backend's retry does. The shared fault plan (kftui.sandbox.faults) is acted out per request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from kftui.sandbox.base import Served, load_yaml
from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.kfp.faulting import act
from kftui.sandbox.kfp.filters import Getter, parse_filter, sort_items
from kftui.sandbox.kfp.state import (
    Experiment,
    KfpError,
    Run,
    World,
    decode_token,
    encode_token,
    rfc3339,
)

API = "/apis/v2beta1"
PROXY_PREFIX = "/api/v1/namespaces/{install_ns}/services/ml-pipeline:http/proxy"
"""Path kfp.Client uses when it goes through the kube API server (`kube_context`)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RUN_FIELDS: dict[str, Getter] = {
    "run_id": lambda r: r.run_id,
    "id": lambda r: r.run_id,
    "display_name": lambda r: r.name,
    "name": lambda r: r.name,
    "state": lambda r: r.state,
    "experiment_id": lambda r: r.experiment_id,
    "namespace": lambda r: r.namespace,
    "storage_state": lambda r: r.storage_state,
    "created_at": lambda r: rfc3339(r.created),
    "finished_at": lambda r: rfc3339(r.finished),
    "scheduled_at": lambda r: rfc3339(r.scheduled),
}

EXPERIMENT_FIELDS: dict[str, Getter] = {
    "experiment_id": lambda e: e.experiment_id,
    "id": lambda e: e.experiment_id,
    "display_name": lambda e: e.name,
    "name": lambda e: e.name,
    "namespace": lambda e: e.namespace,
    "storage_state": lambda e: e.storage_state,
    "created_at": lambda e: rfc3339(e.created),
}


def load_scenario(directory: Path) -> dict[str, Any]:
    """Every `kfp*.yaml` in a scenario directory, merged in name order (later lists extend earlier)."""
    merged: dict[str, Any] = {}
    for path in sorted(directory.glob("kfp*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            elif isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, default=str))


def _guard(world: World, handler: Callable[[web.Request, Any], Any]) -> Handler:
    """Record the request, hold the lock, and turn KfpError into KFP's error body."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                return _json(KfpError(400, "Invalid input error: request body is not JSON").body(), 400)
        with world.lock:
            world.requests.append(
                (request.method, request.path, dict(request.query), body, request.headers.get("Authorization", ""))
            )
            if not world.healthy:
                err = KfpError(503, "the pipelines API server is not ready", code=14)
                return _json(err.body(), 503)
            try:
                result = handler(request, body)
            except KfpError as err:
                return _json(err.body(), err.status)
        return _json(result)

    return wrapped


def _page(request: web.Request, items: list[Any]) -> tuple[list[Any], str]:
    size = int(request.query.get("page_size") or 0) or len(items) or 1
    token = request.query.get("page_token") or ""
    start = decode_token(token) if token else 0
    end = start + size
    return items[start:end], (encode_token(end) if end < len(items) else "")


def _namespace_ok(world: World, request: web.Request) -> str:
    namespace = request.query.get("namespace") or ""
    if world.multi_user and not namespace and "experiment_id" not in request.query:
        raise KfpError(400, "Invalid input error: In multi-user mode, a namespace must be provided")
    return namespace


def api_path(path: str) -> str:
    """The path as the API server sees it: the kube service-proxy prefix (and the "//" it leaves) removed."""
    if path.startswith("/api/v1/namespaces/") and "/proxy/" in path:
        path = path.split("/proxy/", 1)[1]
        return "/" + path.lstrip("/")
    return path


def _fault_middleware(plan: FaultPlan) -> Any:
    """Consult the shared fault plan (service "kfp") before every request."""

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = plan.match("kfp", request.method, api_path(request.path))
        if fault is None:
            return await handler(request)
        return await act(fault, request, handler)

    return faults


def build_app(world: World, faults: FaultPlan | None = None) -> web.Application:
    """The aiohttp app: every KFP route, at the API root and behind the kube service proxy."""
    if faults is not None:
        world.faults = faults

    def healthz(_request: web.Request, _body: Any) -> Any:
        return {"multi_user": world.multi_user, "pipeline_store": "mysql"}

    def list_runs(request: web.Request, _body: Any) -> Any:
        namespace = _namespace_ok(world, request)
        experiment_id = request.query.get("experiment_id") or ""
        keep = parse_filter(request.query.get("filter"), RUN_FIELDS)
        runs = [
            r
            for r in world.runs.values()
            if (not experiment_id or r.experiment_id == experiment_id) and (not namespace or r.namespace == namespace)
        ]
        for run in runs:
            world.touch(run)
        runs = [r for r in runs if keep(r)]
        runs = sort_items(runs, request.query.get("sort_by", ""), RUN_FIELDS, "created_at")
        page, token = _page(request, runs)
        # grpc-gateway omits empty fields: an empty list is `{}`, and the SDK then sees runs=None.
        body: dict[str, Any] = {"runs": [r.to_json() for r in page], "total_size": len(runs)} if runs else {}
        if token:
            body["next_page_token"] = token
        return body

    def get_run(request: web.Request, _body: Any) -> Any:
        run = world.get_run(request.match_info["run_id"])
        world.touch(run)
        return run.to_json()

    def create_run(request: web.Request, body: Any) -> Any:
        if not isinstance(body, dict):
            raise KfpError(400, "Invalid input error: the request body must be a Run")
        return world.create_run(body, request.query.get("experiment_id", "")).to_json()

    def run_action(request: web.Request, _body: Any) -> Any:
        run_id, action = request.match_info["run_id"], request.match_info["action"]
        run: Run = world.get_run(run_id)
        if action == "terminate":
            world.terminate(run_id)
        elif action == "retry":
            world.retry(run_id)
        elif action == "archive":
            run.storage_state = "ARCHIVED"
        elif action == "unarchive":
            run.storage_state = "AVAILABLE"
        else:
            raise KfpError(404, f"Not Found: no method {action!r} on runs", code=5)
        return {}

    def delete_run(request: web.Request, _body: Any) -> Any:
        world.get_run(request.match_info["run_id"])
        del world.runs[request.match_info["run_id"]]
        return {}

    def list_experiments(request: web.Request, _body: Any) -> Any:
        namespace = _namespace_ok(world, request)
        keep = parse_filter(request.query.get("filter"), EXPERIMENT_FIELDS)
        items = [e for e in world.experiments.values() if (not namespace or e.namespace == namespace) and keep(e)]
        items = sort_items(items, request.query.get("sort_by", ""), EXPERIMENT_FIELDS, "created_at")
        page, token = _page(request, items)
        body: dict[str, Any] = {"experiments": [e.to_json() for e in page], "total_size": len(items)} if items else {}
        if token:
            body["next_page_token"] = token
        return body

    def get_experiment(request: web.Request, _body: Any) -> Any:
        exp_id = request.match_info["experiment_id"]
        exp = world.experiments.get(exp_id)
        if exp is None:
            raise KfpError(404, f"Failed to get experiment {exp_id}: Experiment {exp_id} not found")
        return exp.to_json()

    def create_experiment(_request: web.Request, body: Any) -> Any:
        if not isinstance(body, dict) or not body.get("display_name"):
            raise KfpError(400, "Invalid input error: experiment display_name must not be empty")
        namespace = str(body.get("namespace") or world.default_namespace or "")
        if world.multi_user and not namespace:
            raise KfpError(400, "Invalid input error: In multi-user mode, an experiment needs a namespace")
        name = str(body["display_name"])
        if world.experiment_by_name(name, namespace) is not None:
            raise KfpError(409, f"Failed to create experiment: experiment {name!r} already exists", code=6)
        exp = Experiment(
            experiment_id=_new_id(),
            name=name,
            namespace=namespace,
            created=_utcnow(),
            description=str(body.get("description") or ""),
        )
        world.experiments[exp.experiment_id] = exp
        return exp.to_json()

    def list_pipelines(_request: web.Request, _body: Any) -> Any:
        return {}

    routes: list[tuple[str, str, Callable[[web.Request, Any], Any]]] = [
        ("GET", "/healthz", healthz),
        ("GET", "/runs", list_runs),
        ("POST", "/runs", create_run),
        ("GET", "/runs/{run_id}", get_run),
        ("DELETE", "/runs/{run_id}", delete_run),
        ("POST", "/runs/{run_id}:{action}", run_action),
        ("GET", "/experiments", list_experiments),
        ("POST", "/experiments", create_experiment),
        ("GET", "/experiments/{experiment_id}", get_experiment),
        ("GET", "/pipelines", list_pipelines),
    ]
    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_fault_middleware(world.faults)])
    # kfp.Client joins its proxy base (ending in "/") and "/apis/...": the real API server merges "//".
    for prefix in ("", PROXY_PREFIX, PROXY_PREFIX + "/"):
        for method, path, handler in routes:
            app.router.add_route(method, prefix + API + path, _guard(world, handler))
    return app


def _new_id() -> str:
    return str(uuid.uuid4())


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def serve(
    scenario: dict[str, Any], host: str = "127.0.0.1", port: int = 0, faults: FaultPlan | None = None
) -> Served:
    """Start the fake KFP on host:port (0 picks a free port); `state` is the World (its `faults` the plan)."""
    world = World(scenario)
    runner = web.AppRunner(build_app(world, faults), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return Served(name="kfp", url=f"http://{host}:{bound}", close=runner.cleanup, state=world)
