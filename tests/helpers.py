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


def kftui_parses(argv: list[str]) -> list[str]:
    """Parse a kftui command line the way click would, without running it; the command path, or click's error."""
    import click

    from kftui.cli import cli

    command: click.Command = cli
    path = ["kftui"]
    args = list(argv)
    parent: click.Context | None = None
    while True:
        ctx = command.make_context(path[-1], args, parent=parent, resilient_parsing=False)
        if not isinstance(command, click.Group):
            return path
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args  # click < 8.2
        rest = [*protected, *ctx.args]
        if not rest:
            return path
        name, sub, args = command.resolve_command(ctx, rest)
        if sub is None or name is None:
            raise click.UsageError(f"no command {rest[0]!r}", ctx)
        command, parent = sub, ctx
        path.append(name)
