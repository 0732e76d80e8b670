"""The sandbox's fault plan: which request fails how, so every real failure can be reproduced on purpose.

One plan is shared by every sandbox server (GCP APIs, Kubernetes, KFP). A fault names the service it hits, an
optional method and URL-path glob, and a kind; servers ask `match()` on each request and act out the kind.
Spec strings (for `python -m kftui.sandbox --fault` and the control endpoint) read
`SERVICE[:METHOD][:PATH_GLOB]=KIND[,key=value...]`, e.g. `compute:GET:/compute/v1/projects/*/zones=status,status=403`
or `kube::/api/v1/namespaces/*/pods/*/log=reset,after=4096,times=2`.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("status", "delay", "hang", "reset", "cut", "drop", "gone", "html", "truncated", "shape", "empty")
"""status: answer `status` with the API's real error body; delay: answer late; hang: never answer; reset: close the
connection after `after` bytes; cut: end a stream mid-line after `after` bytes; drop: end a watch early; gone: 410 on a
watch; html/truncated/shape/empty: a 200 whose body is an HTML page, cut JSON, JSON of another shape, or nothing."""


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
    times: int | None = None
    hits: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        """Refuse a plan that cannot be acted out, naming the field."""
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "status" and not 100 <= self.status <= 599:
            raise ValueError(f"fault status {self.status} must be an HTTP status (100-599)")
        if self.times is not None and self.times < 1:
            raise ValueError("fault times must be at least 1 (omit it for every request)")

    def hits_request(self, service: str, method: str, path: str) -> bool:
        """Whether this fault applies to one request."""
        return (
            self.service in ("*", service)
            and self.method in ("*", method.upper())
            and fnmatch.fnmatchcase(path, self.path)
        )


_INT_KEYS = {"status", "after", "retry_after", "times"}


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
            for fault in self._faults:
                if fault.hits_request(service, method, path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        """The plan as plain data, for the control endpoint and tests."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    @classmethod
    def from_data(cls, items: list[dict[str, Any]] | None) -> FaultPlan:
        """A plan from a scenario file's `faults:` list (each item a Fault's fields, or {spec: "..."})."""
        faults = [parse_spec(str(item["spec"])) if "spec" in item else Fault(**item) for item in items or []]
        return cls(faults)
