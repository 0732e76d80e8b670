"""Fake Service Usage v1: list/get services, enable and batchEnable as operations that really flip state."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp.common import (
    SERVICE_TITLES,
    World,
    caller,
    error,
    guard,
    has_permission,
    not_found,
    ok,
    operation_json,
    read_json,
    service_state,
    service_title,
    set_service_state,
    start_operation,
    unauthenticated,
)
from kftui.sandbox.gcp.faulting import HELP_TOKEN, serviceusage_forbidden

SERVICE = "serviceusage.googleapis.com"
META_TYPE = "type.googleapis.com/google.api.serviceusage.v1.OperationMetadata"
ENABLE_TYPE = "type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse"
BATCH_TYPE = "type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse"


def catalog(project: dict[str, Any]) -> list[str]:
    """Every service name the sandbox knows for a project, sorted."""
    return sorted(set(SERVICE_TITLES) | set(project.get("services") or {}))


def service_json(project: dict[str, Any], name: str) -> dict[str, Any]:
    """A Service message in proto3 JSON."""
    parent = f"projects/{project['number']}"
    return {
        "name": f"{parent}/services/{name}",
        "parent": parent,
        "config": {"name": name, "title": service_title(name)},
        "state": service_state(project, name),
    }


def _unknown(names: list[str]) -> web.Response:
    """403 for services no one can enable: Google's answer is deliberately vague."""
    joined = ",".join(names)
    return error(
        403,
        f"Not found or permission denied for service(s): {joined}.",
        "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED",
        domain=SERVICE,
        metadata={"services": joined},
    )


def add_routes(app: web.Application, world: World) -> None:
    """Register Service Usage v1 routes."""

    def start_enable(project: dict[str, Any], names: list[str], batch: bool) -> dict[str, Any]:
        """Start (or short-circuit) enabling; the state flips when the operation completes."""
        resources = [f"projects/{project['number']}/services/{n}" for n in names]

        def finish() -> dict[str, Any]:
            with world.lock:
                for name in names:
                    set_service_state(project, name, "ENABLED")
            if batch:
                return {"@type": BATCH_TYPE, "services": [service_json(project, n) for n in names]}
            return {"@type": ENABLE_TYPE, "service": service_json(project, names[0])}

        already = all(service_state(project, n) == "ENABLED" for n in names)
        prefix = "operations/noop.DONE_OPERATION" if already else f"operations/acf.p2-{project['number']}-"
        op = start_operation(
            world, prefix + ("" if already else str(uuid.uuid4())[:8] + "-"), finish, polls=0 if already else None
        )
        if already:
            op.poll()
        return operation_json(op, {"@type": META_TYPE, "resourceNames": resources})

    async def list_services(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE, "serviceusage.services.list")
        if err is not None:
            return err
        assert project is not None
        wanted = request.query.get("filter", "").replace(" ", "").upper()
        rows = [service_json(project, n) for n in catalog(project)]
        if wanted.startswith("STATE:"):
            rows = [r for r in rows if r["state"] == wanted[6:]]
        size = int(request.query.get("pageSize") or 0) or 50
        start = int(request.query.get("pageToken") or 0)
        body: dict[str, Any] = {}
        if rows[start : start + size]:
            body["services"] = rows[start : start + size]
        if start + size < len(rows):
            body["nextPageToken"] = str(start + size)
        return ok(body)

    async def get_service(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE, "serviceusage.services.get")
        if err is not None:
            return err
        assert project is not None
        name = request.match_info["service"]
        if name not in catalog(project):
            return not_found()
        return ok(service_json(project, name))

    async def batch_get(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE, "serviceusage.services.get")
        if err is not None:
            return err
        assert project is not None
        names = [n.rsplit("/", 1)[-1] for n in request.query.getall("names", [])]
        return ok({"services": [service_json(project, n) for n in names]})

    async def enable(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE)
        if err is not None:
            return err
        assert project is not None
        name = request.match_info["service"]
        if not has_permission(project, "serviceusage.services.enable", world, caller(request)):
            return serviceusage_forbidden(f"Permission denied to enable service [{name}]\nHelp Token: {HELP_TOKEN}")
        if name not in catalog(project):
            return _unknown([name])
        return ok(start_enable(project, [name], batch=False))

    async def batch_enable(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        project, err = guard(request, world, request.match_info["project"], SERVICE)
        if err is not None:
            return err
        assert project is not None
        names = [str(n) for n in body.get("serviceIds") or []]
        if names and not has_permission(project, "serviceusage.services.enable", world, caller(request)):
            return serviceusage_forbidden(f"Permission denied to enable service [{names[0]}]\nHelp Token: {HELP_TOKEN}")
        if not names or len(names) > 20:
            return error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        unknown = [n for n in names if n not in catalog(project)]
        if unknown:
            return _unknown(unknown)
        return ok(start_enable(project, names, batch=True))

    async def get_operation(request: web.Request) -> web.Response:
        await read_json(request, world)
        if caller(request) is None:
            return unauthenticated(request, SERVICE)
        op = world.operations.get("operations/" + request.match_info["op"])
        if op is None:
            return not_found()
        with world.lock:
            op.poll()
        return ok(operation_json(op, {"@type": META_TYPE}))

    # The parent arrives as `projects/<id or number>`; both forms resolve to the same project.
    app.router.add_get("/v1/projects/{project:[^/]+}/services", list_services)
    app.router.add_get("/v1/projects/{project:[^/]+}/services:batchGet", batch_get)
    app.router.add_post("/v1/projects/{project:[^/]+}/services:batchEnable", batch_enable)
    app.router.add_get("/v1/projects/{project:[^/]+}/services/{service:[^/:]+}", get_service)
    app.router.add_post("/v1/projects/{project:[^/]+}/services/{service:[^/:]+}:enable", enable)
    app.router.add_get("/v1/operations/{op:[^/]+}", get_operation)
