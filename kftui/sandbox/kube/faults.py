"""The fault plan acted out on the Kubernetes API: real Status bodies, resets and cuts mid-stream, dropped watches.

The API server's failures are reproduced as clients meet them: a `metav1.Status` body with the reason the
apiserver's `apierrors` package gives for the code (`429` with `Retry-After`, as the max-in-flight and priority
filters answer), a watch that ends early or carries an `ERROR` event with a 410 `Expired` Status (what a watch from a
compacted resourceVersion gets), a TCP reset after N body bytes (RST, not FIN: the client's read raises), a stream
cut mid-line that ends cleanly, a hang, a delay, and garbage 200s. Server handlers call `stream_response()` for
their streamed answers so byte-level faults reach log follows and watches too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from kftui.sandbox.faults import Fault, FaultPlan

FAULT_KEY = web.RequestKey("kftui_fault", Fault)
STREAM_KINDS = ("reset", "cut", "drop")

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}
"""metav1.StatusReason per HTTP code, as k8s.io/apimachinery/pkg/api/errors sets them."""

HTML_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
"""What a proxy in front of the API server answers when it cannot reach it."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _target(path: str) -> tuple[str, str, str]:
    """(namespace, resource, name) named by an API path, for the messages the apiserver builds."""
    parts = path.strip("/").split("/")
    parts = parts[2:] if parts[:1] == ["api"] else parts[3:]
    ns = ""
    if len(parts) >= 2 and parts[0] == "namespaces" and len(parts) > 2:
        ns, parts = parts[1], parts[2:]
    resource = parts[0] if parts else ""
    name = parts[1] if len(parts) > 1 else ""
    if len(parts) > 2:
        resource = f"{resource}/{parts[2]}"
    return ns, resource, name


def default_message(code: int, method: str, path: str, watch: bool = False) -> str:
    """The message the apiserver writes for this code on this request (RBAC, not-found, throttling, timeouts)."""
    ns, resource, name = _target(path)
    verb = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete"}.get(method.upper(), method.lower())
    base = resource.split("/")[0]
    if code == 401:
        return "Unauthorized"
    if code == 403:
        subject = f'{base} "{name}"' if name else base
        where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
        return (f'{subject} is forbidden: User "kftui-sandbox@example.com" cannot {verb} resource "{resource}" '
                f'in API group ""{where}')
    if code == 404:
        return f'{base} "{name}" not found' if name else "the server could not find the requested resource"
    if code == 409:
        return f'Operation cannot be fulfilled on {base} "{name}": the object has been modified; please apply your ' \
               "changes to the latest version and try again"
    if code == 410:
        return "too old resource version: 1 (1000)"
    if code == 429:
        return "Too many requests, please try again later."
    if code == 500:
        return "Internal error occurred: etcdserver: request timed out"
    if code == 503:
        return "the server is currently unable to handle the request"
    if code == 504:
        return "Timeout: request did not complete within requested timeout - context deadline exceeded"
    return f"the server answered {code}"


def status_body(fault: Fault, method: str, path: str, code: int, watch: bool = False) -> dict[str, Any]:
    """A metav1.Status failure for this fault: its own reason/message (body) or the apiserver's for the code."""
    _, resource, name = _target(path)
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": fault.body or default_message(code, method, path, watch),
                            "reason": fault.reason or REASONS.get(code, ""), "code": code}
    details: dict[str, Any] = {}
    if name and code in (403, 404, 409):
        details = {"name": name, "kind": resource.split("/")[0]}
    if code == 429 or fault.retry_after is not None:
        details["retryAfterSeconds"] = fault.retry_after if fault.retry_after is not None else 1
    if code == 500:
        details["causes"] = [{"message": body["message"]}]
    if details:
        body["details"] = details
    if not body["reason"]:
        del body["reason"]
    return body


def _status_response(fault: Fault, request: web.Request, code: int) -> web.Response:
    """The Status answer, with Retry-After where the apiserver sends it."""
    body = status_body(fault, request.method, request.path, code)
    headers: dict[str, str] = {}
    retry = (body.get("details") or {}).get("retryAfterSeconds")
    if retry is not None:
        headers["Retry-After"] = str(retry)
    return web.json_response(body, status=code, headers=headers)


async def reset(request: web.Request) -> None:
    """Close the client's connection with a TCP RST once what was written has left (a read then raises)."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(200):
        if transport.is_closing() or transport.get_write_buffer_size() == 0:
            break
        await asyncio.sleep(0.005)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class FaultyStream(web.StreamResponse):
    """A streamed answer that resets, cuts or drops itself after `fault.after` body bytes."""

    def __init__(self, fault: Fault, request: web.Request, *, status: int = 200,
                 headers: Mapping[str, str] | None = None) -> None:
        """Remember the fault and the request whose connection it kills."""
        super().__init__(status=status, headers=headers)
        self.fault = fault
        self._request = request
        self.sent = 0
        self.over = False

    async def write(self, data: bytes | bytearray | memoryview) -> None:  # type: ignore[override]
        """Pass bytes until the fault's offset, then act it out and end the handler's loop."""
        if self.over:
            raise ConnectionResetError("sandbox fault: the stream already ended")
        chunk = bytes(data)
        room = self.fault.after - self.sent
        if len(chunk) < room:
            await super().write(chunk)
            self.sent += len(chunk)
            return
        end = max(room, 0)
        if self.fault.kind == "drop":  # a clean end at the next line boundary (a whole event or log line)
            newline = chunk.find(b"\n", max(room - 1, 0))
            end = len(chunk) if newline < 0 else newline + 1
        if end:
            await super().write(chunk[:end])
            self.sent += end
        self.over = True
        if self.fault.kind == "reset":
            await reset(self._request)
        raise ConnectionResetError(f"sandbox fault: {self.fault.kind} after {self.sent} bytes")

    async def write_eof(self, data: bytes = b"") -> None:
        """A cut or drop ends the chunked body cleanly; after a reset there is no connection left."""
        if self.over and self.fault.kind == "reset":
            raise ConnectionResetError("sandbox fault: connection reset")
        await super().write_eof(data)


def stream_response(request: web.Request, headers: Mapping[str, str]) -> web.StreamResponse:
    """The StreamResponse a streaming handler (log, watch) should write to: faulty when the plan says so."""
    fault = request.get(FAULT_KEY)
    if fault is not None and fault.kind in STREAM_KINDS:
        return FaultyStream(fault, request, headers=headers)
    return web.StreamResponse(headers=headers)


async def _hang(request: web.Request, fault: Fault) -> None:
    """Never answer: wait until the client gives up (or `delay` seconds, then reset like a dying proxy)."""
    waited = 0.0
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.05)
        waited += 0.05
        if fault.delay and waited >= fault.delay:
            await reset(request)
            return


async def _replay(fault: Fault, request: web.Request, resp: web.Response) -> web.StreamResponse:
    """A plain answer sent through a faulty stream, so reset/cut/drop hit list and get calls too."""
    out = FaultyStream(fault, request, status=resp.status, headers={"Content-Type": resp.content_type})
    out.enable_chunked_encoding()
    await out.prepare(request)
    body = resp.body if isinstance(resp.body, bytes) else b""
    with contextlib.suppress(ConnectionResetError):
        await out.write(body)
    with contextlib.suppress(ConnectionResetError):
        await out.write_eof()
    return out


def _is_watch(request: web.Request) -> bool:
    """Whether the request is a watch (query `watch=true`)."""
    return request.query.get("watch") in ("true", "True", "1")


async def _gone(fault: Fault, request: web.Request) -> web.StreamResponse:
    """410: a watch gets a 200 stream with one ERROR event (as the apiserver does), anything else a 410 Status."""
    if not _is_watch(request):
        return _status_response(fault, request, 410)
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    body = status_body(fault, request.method, request.path, 410, watch=True)
    with contextlib.suppress(ConnectionResetError):
        await resp.write(json.dumps({"type": "ERROR", "object": body}).encode() + b"\n")
        await resp.write_eof()
    return resp


def middleware(plan: FaultPlan) -> Any:
    """The aiohttp middleware that consults the plan on every request and acts out the fault it names."""

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = plan.match("kube", request.method, request.path)
        if fault is None:
            return await handler(request)
        kind = fault.kind
        if kind == "delay":
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if kind == "hang":
            await _hang(request, fault)
            return web.Response(status=504)
        if kind == "status":
            return _status_response(fault, request, fault.status)
        if kind == "gone":
            return await _gone(fault, request)
        if kind == "html":
            return web.Response(text=HTML_PAGE, status=fault.status or 200, content_type="text/html")
        if kind == "empty":
            return web.Response(body=b"", status=fault.status or 200, content_type="application/json")
        if kind == "drop" and fault.after == 0:  # a watch or follow the server ends before its first line
            return web.Response(body=b"", content_type="text/plain" if request.path.endswith("/log")
                                else "application/json")
        if kind == "reset" and fault.after == 0:
            await reset(request)  # before a byte of the answer: "connection reset by peer" on the request
            return web.Response(status=502)
        request[FAULT_KEY] = fault
        resp = await handler(request)
        if isinstance(resp, web.Response) and not resp.prepared:
            body = resp.body if isinstance(resp.body, bytes) else b""
            if kind in STREAM_KINDS:
                return await _replay(fault, request, resp)
            if kind == "truncated":
                return web.Response(body=body[: max(1, len(body) // 2)], status=resp.status,
                                    content_type=resp.content_type)
            if kind == "shape":
                return web.json_response(["unexpected", {"shape": True}], status=resp.status)
        return resp

    return faults
