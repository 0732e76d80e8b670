"""Test helpers: waiting by polling, never by fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02, what: str = "") -> Any:
    """Poll until `condition()` is truthy and return it; fail with a message after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or condition}")
        time.sleep(interval)


async def until(pilot: Any, condition: Callable[[], Any], what: str = "", timeout: float = 30.0) -> Any:
    """In an app test: poll the app's own state between frames until `condition()` is truthy, and return it."""
    for _ in range(int(timeout / 0.05)):
        value = condition()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or condition}")
