"""The sandbox's fault plan: which request fails how, so every real failure can be reproduced on purpose.

One plan is shared by every sandbox server (GCP APIs, Kubernetes, KFP). A fault names the service it hits, an
optional method and URL-path glob, and a kind; servers ask `match()` on each request and act out the kind.
Spec strings (for `python -m kftui.sandbox --fault` and the control endpoint) read
`SERVICE[:METHOD][:PATH_GLOB]=KIND[,key=value...]`, e.g. `compute:GET:/compute/v1/projects/*/zones=status,status=403`
or `kube::/api/v1/namespaces/*/pods/*/log=reset,after=4096,times=2`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kftui.sandbox.base import load_yaml

if TYPE_CHECKING:
    from aiohttp import web

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KINDS = (
    "status", "delay", "hang", "reset", "cut", "drop", "gone", "html", "truncated", "shape", "empty", "failop",
)  # fmt: skip
"""status: answer `status` with the API's real error body; delay: answer late; hang: never answer; reset: close the
connection after `after` bytes; cut: end a stream mid-line after `after` bytes; drop: end a watch early; gone: 410 on a
watch; html/truncated/shape/empty: a 200 whose body is an HTML page, cut JSON, JSON of another shape, or nothing;
failop: accept the call but finish its long-running operation DONE with `error` (`code`, `message`)."""

GCP_SERVICES = frozenset(
    {"compute", "container", "serviceusage", "cloudresourcemanager", "cloudbilling", "cloudquotas", "oauth2"}
)
"""The fake Google APIs by their gcloud endpoint-override names; the service `gcp` in a fault means any of them."""

GROUPS: dict[str, frozenset[str]] = {"gcp": GCP_SERVICES}


@dataclass
class Fault:
    """One planned failure; `times` None means every matching request, else it is used up after that many."""

    service: str
    kind: str
    method: str = "*"
    path: str = "*"
    status: int = 0
    reason: str = ""
    body: str | None = None
    delay: float = 0.0
    after: int = 0
    retry_after: int | None = None
    code: int = 0
    message: str = ""
    times: int | None = None
    hits: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        """Refuse a plan that cannot be acted out, naming the field."""
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "status" and not 100 <= self.status <= 599:
            raise ValueError(f"fault status {self.status} must be an HTTP status (100-599)")
        if self.kind == "html" and self.status and not 100 <= self.status <= 599:
            raise ValueError(f"fault status {self.status} must be an HTTP status (100-599)")
        if self.times is not None and self.times < 1:
            raise ValueError("fault times must be at least 1 (omit it for every request)")

    def hits_request(self, service: str, method: str, path: str) -> bool:
        """Whether this fault applies to one request."""
        return (
            (self.service in ("*", service) or service in GROUPS.get(self.service, ()))
            and self.method in ("*", method.upper())
            and fnmatch.fnmatchcase(path, self.path)
        )


_INT_KEYS = {"status", "after", "retry_after", "times", "code"}


def parse_spec(spec: str) -> Fault:
    """A fault from its spec string (see the module docstring); ValueError names what is wrong."""
    target, sep, rest = spec.partition("=")
    if not sep or not target:
        raise ValueError(f"fault {spec!r} must read SERVICE[:METHOD][:PATH]=KIND[,key=value...]")
    service, method, path = [*target.split(":", 2), "", ""][:3]  # the path keeps its own colons (`:enable`)
    kind, *pairs = rest.split(",")
    values: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in Fault.__dataclass_fields__ or key in ("service", "kind", "hits"):
            raise ValueError(f"fault option {pair!r} is not key=value with a known key")
        if key in _INT_KEYS:
            if not value.isdigit():
                raise ValueError(f"fault option {key} must be a whole number, not {value!r}")
            values[key] = int(value)
        elif key == "delay":
            values[key] = float(value)
        else:
            values[key] = value
    return Fault(service=service, kind=kind.strip(), method=(method or "*").upper(), path=path or "*", **values)


class FaultPlan:
    """The live list of faults, shared across the servers' threads."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        """Start with the given faults (from a scenario), in order: the first match wins."""
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults or [])
        self._paused = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No fault applies inside the block (the sandbox's own setup: gcloud trading its key for a token)."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def add(self, fault: Fault) -> None:
        """Plan one more failure."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Back to a healthy world."""
        with self._lock:
            self._faults.clear()

    def match(self, service: str, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, counting it against the fault's `times`."""
        with self._lock:
            if self._paused:
                return None
            for fault in self._faults:
                if fault.hits_request(service, method, path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def extend(self, faults: list[Fault]) -> None:
        """Plan several failures at once (the control endpoint's POST)."""
        with self._lock:
            self._faults.extend(faults)

    def __len__(self) -> int:
        """How many faults are still planned."""
        with self._lock:
            return len(self._faults)

    def describe(self) -> list[dict[str, Any]]:
        """The plan as plain data, for the control endpoint and tests."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    @classmethod
    def from_data(cls, items: list[dict[str, Any]] | None) -> FaultPlan:
        """A plan from a scenario file's `faults:` list (each item a Fault's fields, or {spec: "..."})."""
        return cls(faults_from_data(items))


def faults_from_data(items: Any) -> list[Fault]:
    """Faults from plain data: a list whose items are spec strings, {spec: ...} or a Fault's fields."""
    if items is None:
        return []
    if isinstance(items, str | dict):
        items = [items]
    if not isinstance(items, list):
        raise ValueError("faults must be a list of spec strings or fault objects")
    out: list[Fault] = []
    for item in items:
        if isinstance(item, str):
            out.append(parse_spec(item))
        elif isinstance(item, dict) and "spec" in item:
            out.append(parse_spec(str(item["spec"])))
        elif isinstance(item, dict):
            unknown = sorted(set(item) - set(Fault.__dataclass_fields__) | ({"hits"} & set(item)))
            if unknown:
                raise ValueError(f"fault field(s) {', '.join(map(str, unknown))} are not known")
            try:
                out.append(Fault(**item))
            except TypeError as exc:
                raise ValueError(f"fault {item!r}: {exc}") from exc
        else:
            raise ValueError(f"fault {item!r} is neither a spec string nor an object")
    return out


def scenario_faults(directory: Path) -> list[Fault]:
    """A scenario directory's planned faults: `faults:` in any `faults*.yaml` or `gcp*.yaml`, in name order."""
    found: list[Fault] = []
    for path in sorted([*directory.glob("faults*.yaml"), *directory.glob("gcp*.yaml")]):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("faults"):
            try:
                found.extend(faults_from_data(data["faults"]))
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from exc
    return found


# ---- acting a fault out on a JSON API (the fake Google APIs and the fake KFP share these) ----------------------

GARBAGE_KINDS = ("html", "empty", "shape", "truncated", "reset", "cut", "drop", "gone")
"""The kinds `garbled_answer` acts out: a 200 that is not the API's JSON, or the real answer cut or reset."""


def reset_connection(request: web.Request, head: bytes = b"") -> None:
    """Send `head` raw, then close the socket with RST (SO_LINGER 0), as a dying proxy or NAT does: the client's
    read raises "connection reset by peer" rather than seeing a clean end."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if head:
        transport.write(head)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def hang(request: web.Request, limit: float, closing: asyncio.Event | None = None) -> bool:
    """Hold the request open without a byte until the client goes (True), the server shuts down (True) or `limit`
    seconds pass (False: the caller answers after all, so no task lives forever)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing() or (closing is not None and closing.is_set()):
            return True
        await asyncio.sleep(0.05)
    return False


async def real_answer(request: web.Request, handler: Handler, streamed: bytes = b"{}") -> tuple[int, bytes, str]:
    """What the API would have answered: status, body bytes and content type (`streamed` for a streamed one)."""
    from aiohttp import web

    answer = await handler(request)
    if isinstance(answer, web.Response) and answer.body is not None:
        body = answer.body if isinstance(answer.body, bytes) else answer.text.encode() if answer.text else b""
        return answer.status, body, answer.content_type
    return 200, streamed, "application/json"


async def garbled_answer(fault: Fault, request: web.Request, handler: Handler, *, html: Callable[[int], str],
                         shape: str, charset: str | None = None, streamed: bytes = b"{}") -> web.StreamResponse:
    """One of GARBAGE_KINDS on a JSON API: `html` (the API's front-door page for a status), `empty`, `shape` (JSON
    of another shape), `truncated` (the real body cut at `after` or its middle), else the real answer's headers
    and `after` body bytes, then a TCP reset."""
    from aiohttp import web

    kind = fault.kind
    if kind == "html":
        status = fault.status or 200
        page = fault.body if fault.body is not None else html(status)
        return web.Response(text=page, status=status, content_type="text/html", charset=charset)
    if kind == "empty":
        return web.Response(body=b"", status=200, content_type="application/json")
    if kind == "shape":
        return web.Response(text=fault.body if fault.body is not None else shape, status=200,
                            content_type="application/json")
    status, body, ctype = await real_answer(request, handler, streamed)
    if kind == "truncated":
        cut = fault.after if 0 < fault.after < len(body) else max(1, len(body) // 2)
        return web.Response(body=body[:cut], status=status, content_type=ctype)
    # reset (and the stream kinds cut/drop/gone, which for a JSON API mean the same): headers, `after` bytes, RST.
    head = b""
    if fault.after > 0:
        full_type = f"{ctype}; charset={charset}" if charset else ctype
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {full_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body[: fault.after]
    reset_connection(request, head)
    return web.Response(status=499)
