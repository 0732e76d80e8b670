"""Test helpers: waiting by polling, never by fixed sleeps."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

MIN_WAIT = 30.0
"""Every wait's bound is at least this: a bound catches a hang, it never measures speed (that is bench/'s job),
so a loaded machine or a parallel run cannot fail a test that would pass given time."""

_HELD: list[socket.socket] = []
"""Sockets behind closed_port(), kept bound for the life of the test process."""


def closed_port() -> int:
    """A loopback port that refuses connections: bound and never listening, and held, so no other test (nor the
    other xdist worker's next server) can be given it while this one counts on it being closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    port: int = sock.getsockname()[1]
    return port


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.02, what: str = "") -> Any:
    """Poll until `condition()` is truthy and return it; fail with a message after `timeout` seconds."""
    timeout = max(timeout, MIN_WAIT)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or condition} (last value: {value!r})")
        time.sleep(interval)


async def until(pilot: Any, condition: Callable[[], Any], what: str = "", timeout: float = 30.0) -> Any:
    """In an app test: poll the app's own state between frames until `condition()` is truthy, and return it."""
    timeout = max(timeout, MIN_WAIT)
    for _ in range(int(timeout / 0.05)):
        value = condition()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or condition}")


async def press(pilot: Any, *keys: str) -> None:
    """Press keys as `pilot.press` does, each one handled before the next, but know that by the app's own message
    queues instead of textual's CPU-idle guess: the guess waits its full second twice a key whenever a sandbox or a
    log stream in this process keeps the CPU busy, so typing a 15-key command took 30 s on a loaded machine.

    After each key, rounds of `pilot.pause(0)` (each returns once the app and every widget of its screen have
    processed what was queued before it) until a round leaves every one of those queues empty: the key, what its
    handler forwarded or posted (Input.Changed, a pushed screen's mount and focus) have all been handled; then the
    animations it started (a page scroll) are waited for, as `press` does, and the queues drained again. One idle
    wait at the end, as `press` ends with."""
    app = pilot.app
    for key in keys:
        post_key(app, key)
        await _drained(pilot)
        await app.animator.wait_until_complete()  # a key that scrolls animates on timers, not on queues
        await _drained(pilot)
    await pilot.pause()


def post_key(app: Any, key: str) -> None:
    """Queue one key for the app as the terminal driver would (a key name such as "enter", or a character)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(name, name)))
    except KeyError:
        char = name if len(name) == 1 else None
    event = events.Key(name, char)
    event.set_sender(app)
    app.post_message(event)


async def _drained(pilot: Any) -> None:
    """Rounds of `pilot.pause(0)` until one leaves the app's and its screen's message queues all empty."""
    for _ in range(100):  # a bound for a message storm, never reached by one key
        await pilot.pause(0)
        pumps = [pilot.app, *pilot.app.screen.walk_children(with_self=True)]
        if not any(pump.message_queue_size for pump in pumps):
            return


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


def tool(name: str) -> str:
    """A real CLI found on PATH, or skip the test saying which one is missing (never a machine path)."""
    import shutil

    import pytest

    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not on PATH")
    return found


CLI_CALLS = {("subprocess", "run"), ("subprocess", "Popen"), ("subprocess", "check_output"),
             ("subprocess", "check_call"), (None, "tool")}
"""Calls that drive a real CLI, tmux or the app as a subprocess (`tool()` finds a real CLI to run)."""


def cli_driving_tests(source: str) -> set[str]:
    """Test functions in a module's source that drive a real CLI or subprocess app, directly or through a
    helper function of the same module (so the conftest marks them `e2e` without anyone remembering to)."""
    import ast

    tree = ast.parse(source)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]

    def calls(fn: ast.AST) -> set[tuple[str | None, str]]:
        found: set[tuple[str | None, str]] = set()
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute):
                    found.add((func.value.id if isinstance(func.value, ast.Name) else None, func.attr))
                elif isinstance(func, ast.Name):
                    found.add((None, func.id))
        return found

    called = {fn.name: calls(fn) for fn in functions}
    driving = {name for name, c in called.items() if c & CLI_CALLS}
    for _ in range(3):  # helpers calling helpers
        driving |= {name for name, c in called.items() if any((None, d) in c for d in driving)}
    return {name for name in driving if name.startswith("test")}


async def settled(pilot: Any, quiet: int = 4, interval: float = 0.15, limit: float = 15.0) -> None:
    """In a snapshot test: wait until `quiet` screenshots in a row, `interval` apart, are the same (late messages,
    polls and cursor moves have landed), so the snapshot is of a still screen even on a loaded machine."""
    previous, same = None, 0
    for _ in range(int(limit / interval)):
        shot = pilot.app.export_screenshot()
        same = same + 1 if shot == previous else 0
        if same >= quiet:
            return
        previous = shot
        await pilot.pause(interval)
