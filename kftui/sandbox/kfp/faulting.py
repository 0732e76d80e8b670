"""The shared fault plan acted out by the fake KFP API: late, hung, cut and garbage answers, and KFP's error bodies.

Requests ask `plan.match("kfp", method, path)` with the path as the API server sees it (the kube service-proxy
prefix removed), so one fault such as `kfp:GET:/apis/v2beta1/runs=hang` hits both ways of reaching the API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from kftui.sandbox.faults import Fault, garbled_answer, hang

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HANG_LIMIT = 600.0
"""A hung request is let go after this long even when the client never gives up (no task lives forever)."""

LOGIN_PAGE = """<!DOCTYPE html>
<html>
<head><title>Sign in · Kubeflow</title></head>
<body><form action="/dex/auth/local/login" method="post"><input name="login"><input name="password"></form></body>
</html>
"""
"""What a Kubeflow front door (Dex, oauth2-proxy, IAP) answers a client whose session expired, written for the
sandbox: the most common HTML a pipelines client meets in place of JSON."""

OTHER_SHAPE = '{"kind": "Status", "apiVersion": "v1", "items": [{"name": "not-a-run"}]}'
"""JSON from something that is not the pipelines API (a Kubernetes object, here)."""

MESSAGES = {
    400: "Invalid input error: the request is not valid",
    401: "Unauthenticated: Request header error: there is no user identity header.",
    403: "PermissionDenied: Failed to authorize with API: User is not authorized",
    404: "Not Found",
    500: "Internal Server Error",
    503: "the pipelines API server is not ready",
}
"""grpc-gateway answers per status, in KFP's words where its sources give them."""

CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}
"""The google.rpc.Code grpc-gateway puts beside each HTTP status."""


def error_body(status: int, message: str) -> bytes:
    """KFP's grpc-gateway error JSON (error, code, message, details)."""
    code = CODES.get(status, 2)
    body = {
        "error": message,
        "code": code,
        "message": message,
        "details": [{"@type": "type.googleapis.com/google.rpc.Status", "code": code, "message": message}],
    }
    return json.dumps(body).encode()


async def act(fault: Fault, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer one request the way the fault says (status, delay, hang, reset/cut/drop, html, truncated, shape,
    empty; `gone` answers 410); the garbage kinds are the sandbox's shared ones with KFP's front-door page."""
    kind = fault.kind
    if kind == "delay":
        await asyncio.sleep(max(0.0, fault.delay))
        return await handler(request)
    if kind == "hang":
        if await hang(request, fault.delay if fault.delay > 0 else HANG_LIMIT):
            return web.Response(status=499)
        return await handler(request)
    if kind in ("status", "gone"):
        status = fault.status or 410
        body = (
            fault.body.encode()
            if fault.body is not None
            else error_body(status, MESSAGES.get(status, f"HTTP {status}"))
        )
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return web.Response(body=body, status=status, content_type="application/json", headers=headers)
    return await garbled_answer(fault, request, handler, html=lambda _status: LOGIN_PAGE, shape=OTHER_SHAPE)
