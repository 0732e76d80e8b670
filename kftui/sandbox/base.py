"""The contract every sandbox server keeps, so one runner can start them all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Served:
    """A running loopback server: where it listens, how to stop it, and its live state for tests."""

    name: str
    url: str
    close: Callable[[], Awaitable[None]]
    state: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
