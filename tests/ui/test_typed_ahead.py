"""Keys typed right after the key that opens a box land in that box, as they do in k9s: a fast `/gpu` filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from kftui.app import KftuiApp
from kftui.factory import Services
from tests.helpers import post_key, press, until

SIZE = (120, 40)


@asynccontextmanager
async def watching(env: Any) -> AsyncIterator[tuple[Any, Any, Any]]:
    """Watch mode on the sandbox, its pods listed: the app, its pilot, the watch screen."""
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        yield app, pilot, screen


def burst(app: Any, keys: str) -> None:
    """Queue every key at once, as a terminal delivers what was typed (or pasted) in one read (⏎ is Enter)."""
    for key in keys:
        post_key(app, "enter" if key == "⏎" else key)


async def test_a_filter_typed_at_speed_filters(env: Any) -> None:
    async with watching(env) as (app, pilot, screen):
        burst(app, "/gpu")
        model = screen.view_model("pods")
        await until(pilot, lambda: model.filter_text == "gpu", what="the filter the keys typed")
        assert 0 < model.shown < len(model)


async def test_a_command_typed_at_speed_runs(env: Any) -> None:
    async with watching(env) as (app, pilot, screen):
        burst(app, ":events⏎")
        await until(pilot, lambda: str(screen.query_one("#top-pane").border_title).startswith("events"),
                    what="the events view the command names")
        await press(pilot, "escape")


async def test_keys_after_a_second_slash_replace_the_filter_and_never_reach_the_table(env: Any) -> None:
    async with watching(env) as (app, pilot, screen):
        model = screen.view_model("pods")
        burst(app, "/gpu⏎/dy")  # `d` and `y` are Describe and YAML on the table: here they are the new filter
        await until(pilot, lambda: model.filter_text == "dy", what="the second filter")
        await press(pilot, "enter")
        assert app.screen is screen  # no Describe or YAML screen was opened by the typed letters


async def test_a_log_search_typed_at_speed_searches_and_its_slash_is_a_character(env: Any) -> None:
    async with watching(env) as (app, pilot, screen):
        await press(pilot, "l")  # the log pane takes the focus: `/` is its search, not the table's filter
        burst(app, "/a/b")
        box = screen.query_one("#log-input")
        await until(pilot, lambda: box.value == "a/b", what="the search typed, its slash kept")
        assert screen.view_model("pods").filter_text == ""
