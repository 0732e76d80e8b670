"""Shared pieces of the fake Google APIs: the world's state, Google-shaped errors and operations."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# HTTP status -> google.rpc.Code name, as Google puts it in `error.status`.
CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class Recorded:
    """One request as the sandbox saw it, so tests can assert what a client really sent."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class World:
    """The mutable state behind every fake GCP service, seeded from a scenario."""

    scenario: dict[str, Any]
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    operations: dict[str, Operation] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        """Monotonic ids for operations and generated names."""
        return next(self._ids)

    def record(self, request: web.Request, body: Any) -> None:
        """Keep the request for tests that check what the client sent."""
        with self.lock:
            self.requests.append(Recorded(request.method, request.path, dict(request.query), body))

    def sent(self, method: str, path_contains: str) -> list[Recorded]:
        """Requests of one method whose path contains a fragment."""
        with self.lock:
            return [r for r in self.requests if r.method == method and path_contains in r.path]


@dataclass
class Operation:
    """A long-running operation that finishes after a number of polls (or at once when 0)."""

    name: str
    polls_left: int
    finish: Callable[[], Any]
    started: float = field(default_factory=time.time)
    done: bool = False
    result: Any = None
    error: dict[str, Any] | None = None

    def poll(self) -> bool:
        """Advance one poll; run the side effect exactly once when the operation completes."""
        if not self.done:
            if self.polls_left <= 0:
                self.result = self.finish()
                self.done = True
            else:
                self.polls_left -= 1
        return self.done


def error_body(
    status: int,
    message: str,
    reason: str | None = None,
    *,
    domain: str = "googleapis.com",
    metadata: dict[str, str] | None = None,
    extra_details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Google's JSON error envelope with an ErrorInfo detail, as real REST services send it."""
    details: list[dict[str, Any]] = []
    if reason:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": domain,
                "metadata": metadata or {},
            }
        )
    details.extend(extra_details or [])
    err: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": CANONICAL.get(status, "UNKNOWN"),
    }
    if details:
        err["details"] = details
    return {"error": err}


def error(status: int, message: str, reason: str | None = None, **kw: Any) -> web.Response:
    """An aiohttp response carrying a Google-shaped error."""
    return web.json_response(error_body(status, message, reason, **kw), status=status)


def ok(payload: Any) -> web.Response:
    """A JSON success response; proto3 JSON omits empty fields, so callers pass what they have."""
    return web.Response(text=json.dumps(payload), content_type="application/json")


async def read_json(request: web.Request, world: World) -> Any:
    """The request body as JSON (or None) and record the request."""
    body: Any = None
    if request.can_read_body:
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
    world.record(request, body)
    return body
