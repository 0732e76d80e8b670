"""The fault plan acted out by the fake Google APIs: real error bodies per API, late, hung, cut and garbage answers.

Every request passes one aiohttp middleware, which asks the shared FaultPlan (kftui.sandbox.faults) about it with
the API's gcloud override name (`compute`, `container`, `serviceusage`, `cloudresourcemanager`, `cloudbilling`,
`cloudquotas`, `oauth2`). Error bodies follow each API's own published shape:

- Service Usage refuses an enable with "Permission denied to enable service [X]", a PreconditionFailure and an
  ErrorInfo `AUTH_PERMISSION_DENIED` in domain serviceusage.googleapis.com carrying no metadata.
- Compute speaks its legacy form: `Required 'compute.zones.list' permission for 'projects/P'` with
  `errors: [{domain: global, reason: forbidden}]` and no ErrorInfo; 404s say "The resource '...' was not found".
- GKE says `Required "container.clusters.get" permission(s) for "projects/P/locations/L/clusters/C".`
- 429 is RESOURCE_EXHAUSTED with ErrorInfo `RATE_LIMIT_EXCEEDED` (per-minute request quota) and `Retry-After`.

The loopback control endpoint `/_sandbox/faults` reads (GET), adds to (POST) and clears (DELETE) the plan at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kftui.sandbox.faults import Fault, FaultPlan, faults_from_data, garbled_answer, hang
from kftui.sandbox.gcp.common import (
    CANONICAL,
    World,
    consumer_invalid,
    error_body,
    permission_denied,
    project_of,
    service_disabled,
)

CONTROL = "/_sandbox/faults"
PLAN_KEY = web.AppKey("kftui_faults", FaultPlan)
CLOSING_KEY = web.AppKey("kftui_closing", asyncio.Event)
"""Set when the server shuts down, so hung requests end at once instead of holding the shutdown."""
FAIL_KEY = "kftui_fail_operation"
"""Request key a `failop` fault leaves for the handler: the google.rpc.Status its operation must end with."""

HELP_TOKEN = "AVsandbox-kftui-0000000000000000000000000000000000000000000000000000000000"
"""Service Usage ends its refusals with an opaque support token; this one is obviously the sandbox's."""

HANG_LIMIT = 600.0
"""A hung request gives up after this long even if the client never goes away (no task lives forever)."""

_MODULE_SERVICE = {
    "billing": "cloudbilling",
    "compute": "compute",
    "container": "container",
    "quotas": "cloudquotas",
    "resourcemanager": "cloudresourcemanager",
    "serviceusage": "serviceusage",
    "token": "oauth2",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def service_of(request: web.Request) -> str:
    """Which fake API answers this request: the module of the matched route, else a guess from the path."""
    handler = getattr(request.match_info.route, "handler", None)
    module = str(getattr(handler, "__module__", "")).rsplit(".", 1)[-1]
    if module in _MODULE_SERVICE:
        return _MODULE_SERVICE[module]
    path = request.path
    if path.startswith("/compute/"):
        return "compute"
    if path.startswith("/token"):
        return "oauth2"
    if path.startswith("/v3/") or (path.startswith("/v1/projects/") and path.count("/") == 3):
        return "cloudresourcemanager"
    if "billing" in path:
        return "cloudbilling"
    if "quotaInfos" in path or "quotaPreferences" in path:
        return "cloudquotas"
    if "/clusters" in path or ("/locations/" in path and "/operations/" in path):
        return "container"
    return "serviceusage"


def _project_key(path: str) -> str:
    """The project named in a path (id or number), or `unknown`."""
    found = re.search(r"projects/([^/:]+)", path)
    return found.group(1) if found else "unknown"


def _number(world: World, key: str) -> str:
    """A project's number, as Google writes it in consumer names (the key itself when unknown)."""
    with world.lock:
        project = project_of(world, key)
    return str(project["number"]) if project else key


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with Google's content type."""
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", charset="UTF-8", headers=headers
    )


def _compute_error(status: int, message: str, reason: str, domain: str = "global") -> dict[str, Any]:
    """Compute's legacy envelope: code, message, the `errors` list, and the rpc status name; no ErrorInfo."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": CANONICAL.get(status, "UNKNOWN"),
        }
    }


def _compute_permission(method: str, path: str) -> tuple[str, str]:
    """The permission and resource compute names in its 403 for one request path."""
    parts = path.removeprefix("/compute/v1/").strip("/").split("/")
    if len(parts) <= 2:
        return "compute.projects.get", "/".join(parts)
    if parts[2] == "aggregated" and len(parts) > 3:
        return f"compute.{parts[3]}.list", "/".join(parts[:2])
    if len(parts) % 2 == 1:
        verb = "create" if method.upper() == "POST" else "list"
        return f"compute.{parts[-1]}.{verb}", "/".join(parts[:-1])
    return f"compute.{parts[-2]}.get", "/".join(parts)


def _container_permission(method: str, path: str) -> tuple[str, str]:
    """The permission and resource GKE names in its 403 for one request path."""
    name = path.removeprefix("/v1/")
    if "/operations" in name:
        return ("container.operations.get" if name.rstrip("/").count("/") >= 5 else "container.operations.list"), name
    if "/nodePools" in name:
        verb = {"POST": "update", "DELETE": "update"}.get(method.upper(), "get")
        return f"container.clusters.{verb}", name.split("/nodePools")[0]
    single = name.rstrip("/").endswith("/clusters") is False and "/clusters/" in name
    if method.upper() == "POST":
        return "container.clusters.create", "/".join(name.split("/")[:2])
    if method.upper() == "DELETE":
        return "container.clusters.delete", name
    return ("container.clusters.get", name) if single else ("container.clusters.list", "/".join(name.split("/")[:2]))


def compute_forbidden(permission: str, resource: str) -> web.Response:
    """Compute's 403: `Required 'P' permission for 'R'`, reason `forbidden` in domain `global`, no ErrorInfo."""
    return _json(403, _compute_error(403, f"Required '{permission}' permission for '{resource}'", "forbidden"))


def container_forbidden(permission: str, resource: str) -> web.Response:
    """GKE's 403: `Required "P" permission(s) for "R".` with no details."""
    return _json(403, error_body(403, f'Required "{permission}" permission(s) for "{resource}".'))


def serviceusage_forbidden(message: str) -> web.Response:
    """Service Usage's 403: PreconditionFailure (subject 110002) and ErrorInfo AUTH_PERMISSION_DENIED, no metadata."""
    body = error_body(403, message)
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
            "violations": [{"type": "googleapis.com", "subject": "110002"}],
        },
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "AUTH_PERMISSION_DENIED",
            "domain": "serviceusage.googleapis.com",
        },
    ]
    return _json(403, body)


def _forbidden(service: str, request: web.Request, world: World, sent: Any = None) -> web.Response:
    """Each API's own way of saying the caller lacks a permission."""
    path, method = request.path, request.method
    project = _project_key(path)
    if service == "serviceusage":
        if path.endswith((":enable", ":batchEnable")):
            named = re.search(r"/services/([^/:]+):enable$", path)
            ids = sent.get("serviceIds") if isinstance(sent, dict) else None
            first = str(ids[0]) if isinstance(ids, list) and ids else "serviceusage.googleapis.com"
            what = named.group(1) if named else first
            message = f"Permission denied to enable service [{what}]"
        else:
            message = f"Permission denied to list services for consumer container [projects/{_number(world, project)}]"
        return serviceusage_forbidden(message + f"\nHelp Token: {HELP_TOKEN}")
    if service == "compute":
        return compute_forbidden(*_compute_permission(method, path))
    if service == "container":
        return container_forbidden(*_container_permission(method, path))
    if service == "cloudbilling":
        return _json(403, error_body(403, "The caller does not have permission"))
    if service == "cloudquotas":
        resource = f"//cloudquotas.googleapis.com/projects/{project}/locations/global"
        return permission_denied("cloudquotas.quotas.get", resource, "cloudquotas.googleapis.com")
    if service == "oauth2":
        return _json(403, {"error": "access_denied", "error_description": "Request had insufficient authentication."})
    return permission_denied(
        "resourcemanager.projects.get", f"//cloudresourcemanager.googleapis.com/projects/{project}",
        "cloudresourcemanager.googleapis.com",
    )  # fmt: skip


def _rate_limited(service: str, request: web.Request, world: World) -> dict[str, Any]:
    """429 RESOURCE_EXHAUSTED: the per-minute request quota of the API, with ErrorInfo RATE_LIMIT_EXCEEDED."""
    full = f"{service}.googleapis.com"
    number = _number(world, _project_key(request.path))
    metric, limit = ("Read requests", "Read requests per minute") if service == "compute" else (
        "Queries", "Queries per minute"
    )  # fmt: skip
    message = (
        f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service '{full}' "
        f"for consumer 'project_number:{number}'."
    )
    body = error_body(
        429,
        message,
        "RATE_LIMIT_EXCEEDED",
        metadata={
            "service": full,
            "consumer": f"projects/{number}",
            "quota_metric": f"{full}/{'read_requests' if service == 'compute' else 'default_requests'}",
            "quota_limit": ("ReadRequests" if service == "compute" else "DefaultRequests") + "PerMinutePerProject",
            "quota_limit_value": "1500" if service == "compute" else "600",
            "quota_location": "global",
        },
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Request a higher quota limit.",
                        "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                    }
                ],
            }
        ],
    )
    if service == "compute":
        body["error"]["errors"] = [{"message": message, "domain": "usageLimits", "reason": "rateLimitExceeded"}]
    return body


def status_response(fault: Fault, service: str, request: web.Request, world: World, sent: Any = None) -> web.Response:
    """The error a real API answers with for this status (and `reason`, for the several kinds of 403)."""
    status, reason = fault.status, fault.reason.upper()
    if fault.body is not None:
        return web.Response(text=fault.body, status=status, content_type="application/json")
    full = f"{service}.googleapis.com"
    project = _project_key(request.path)
    if status == 403 and reason == "SERVICE_DISABLED":
        return service_disabled(full, _number(world, project))
    if status == 403 and reason == "CONSUMER_INVALID":
        return consumer_invalid(project, full)
    if status == 403 and reason == "IAM_PERMISSION_DENIED":
        return permission_denied(f"{service}.resource.get", f"//{full}/projects/{project}", full)
    if status == 403 and reason == "BILLING_DISABLED":
        number = _number(world, project)
        url = f"https://console.developers.google.com/billing/enable?project={number}"
        message = (
            f"This API method requires billing to be enabled. Please enable billing on project #{number} by "
            f"visiting {url} then retry. If you enabled billing for this project recently, wait a few minutes "
            "for the action to propagate to our systems and retry."
        )
        return _json(403, error_body(403, message, "BILLING_DISABLED",
                                     metadata={"consumer": f"projects/{number}", "service": full}))  # fmt: skip
    if status == 403:
        return _forbidden(service, request, world, sent)
    if status == 429:
        wait = {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 1)}
        return _json(429, _rate_limited(service, request, world), wait)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    if service == "compute":
        if status == 404:
            resource = request.path.removeprefix("/compute/v1/")
            return _json(404, _compute_error(404, f"The resource '{resource}' was not found", "notFound"), headers)
        if status >= 500:
            message = "Internal error. Please try again or contact Google Support. (Code: '-1234567890123456789')"
            if status == 503:
                message = "The service is currently unavailable."
            return _json(status, _compute_error(status, message, "backendError"), headers)
    if service == "container" and status == 404:
        return _json(404, error_body(404, f"Not found: {request.path.removeprefix('/v1/')}."), headers)
    if service == "oauth2":
        return _json(status, {"error": "internal_failure", "error_description": "Backend Error"}, headers)
    message = {
        400: "Request contains an invalid argument.",
        404: "Requested entity was not found.",
        409: "Requested entity already exists",
        500: "Internal error encountered.",
        503: "The service is currently unavailable.",
        504: "The request timed out. Please try again.",
    }.get(status, f"HTTP {status}")
    return _json(status, error_body(status, message), headers)


_HTML = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <title>{title}</title>
  <p><b>{status}.</b> <ins>That's an error.</ins>
  <p>The server cannot process the request because it is malformed or was not meant for this address.
  <ins>That's all we know.</ins>
</html>
"""
"""What a front end, proxy or captive portal answers in place of JSON (written for the sandbox)."""
OTHER_SHAPE = '["unexpected", {"kind": "sandbox#notTheResourceAsked"}]'
"""JSON of another shape than the resource asked for."""


def _html_page(status: int) -> str:
    """Google's front-end error page for an error status, a captive portal's page for a 200."""
    title = f"Error {status} (Server Error)!!1" if status >= 400 else "Sign in to the network"
    return _HTML.format(title=title, status=status)


async def act(fault: Fault, service: str, request: web.Request, handler: Handler, world: World) -> web.StreamResponse:
    """Answer one request the way the fault says."""
    kind = fault.kind
    if kind == "delay":
        await asyncio.sleep(max(0.0, fault.delay))
        return await handler(request)
    if kind == "hang":
        if await hang(request, fault.delay if fault.delay > 0 else HANG_LIMIT, request.app.get(CLOSING_KEY)):
            return web.Response(status=499)
        return await handler(request)
    if kind == "status":
        sent: Any = None
        if request.can_read_body:
            with contextlib.suppress(ValueError):
                sent = json.loads(await request.read() or b"null")
        return status_response(fault, service, request, world, sent)
    if kind == "failop":
        request[FAIL_KEY] = {
            "code": fault.code or 13,
            "message": fault.message or "Internal error encountered while creating the resource.",
        }
        return await handler(request)
    return await garbled_answer(fault, request, handler, html=_html_page, shape=OTHER_SHAPE, charset="UTF-8",
                                streamed=b'{"kind": "sandbox#streamed"}')


def middleware(plan: FaultPlan, world: World, calls: Counter[str] | None = None) -> Any:
    """The aiohttp middleware that consults the plan before every API request (and counts requests per API)."""

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        service = service_of(request)
        if calls is not None:
            calls[service] += 1
        fault = plan.match(service, request.method, request.path)
        if fault is None:
            return await handler(request)
        return await act(fault, service, request, handler, world)

    return faults


def _loopback(request: web.Request) -> bool:
    """Only this machine may change the plan."""
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def add_control(app: web.Application, plan: FaultPlan) -> None:
    """GET lists the plan, POST adds faults (spec strings or objects), DELETE clears it."""
    closing = asyncio.Event()
    app[CLOSING_KEY] = closing

    async def on_shutdown(_app: web.Application) -> None:
        closing.set()

    app.on_shutdown.append(on_shutdown)

    async def control(request: web.Request) -> web.Response:
        if not _loopback(request):
            return _json(403, error_body(403, "The fault plan can only be changed from this machine."))
        if request.method == "POST":
            raw = await request.read()
            try:
                data = json.loads(raw) if raw.strip().startswith((b"{", b"[", b'"')) else raw.decode().split()
                if isinstance(data, dict) and "specs" in data:
                    data = data["specs"]
                plan.extend(faults_from_data(data))
            except (ValueError, UnicodeDecodeError) as exc:
                return _json(400, error_body(400, f"Bad fault: {exc}"))
        elif request.method == "DELETE":
            plan.clear()
        return _json(200, {"faults": plan.describe()})

    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, CONTROL, control)
