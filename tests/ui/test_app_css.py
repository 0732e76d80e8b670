"""The app's stylesheet parses each CSS text once, where Textual's own parses it three times before the first frame."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import textual.css.stylesheet

from kftui.app import KftuiApp, ParsedOnce
from kftui.factory import Services
from tests.helpers import until


def counted_parses(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[object, ...]]:
    """Count Textual's real parses of each text (a spy: every call still parses), with the memory of parses
    emptied as in a new process."""
    calls: Counter[tuple[object, ...]] = Counter()
    real = textual.css.stylesheet.parse

    def parse(scope: str, css: str, read_from: Any, *args: Any, **kwargs: Any) -> Any:
        calls[(read_from, scope, kwargs.get("is_default_rules"), kwargs.get("tie_breaker"))] += 1
        return real(scope, css, read_from, *args, **kwargs)

    monkeypatch.setattr(textual.css.stylesheet, "parse", parse)
    monkeypatch.setattr(ParsedOnce, "_parsed", {})
    return calls


async def test_each_css_text_is_parsed_once_through_textuals_resets(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counted_parses(monkeypatch)
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        counts = calls
        app_css = [key for key in counts if str(key[0][0]).endswith("app.tcss")]
        assert app_css and counts[app_css[0]] == 1  # Textual alone: 3 (first screen, mode entry, next widget)
        assert counts and max(counts.values()) == 1, counts.most_common(3)
        assert isinstance(app.stylesheet, ParsedOnce)
        # the rules are applied as before: the pods pane has the app's border, the details pane its width
        assert screen.query_one("#top-pane").styles.border_top[0] == "round"


async def test_a_new_theme_is_parsed_anew_and_an_earlier_one_is_remembered(env: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counted_parses(monkeypatch)
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        dark = app.screen.styles.background
        before = sum(calls.values())
        app.theme = "textual-light"
        await until(pilot, lambda: app.screen.styles.background != dark, what="the light theme's background")
        light = sum(calls.values())
        assert light > before  # its variables differ: the texts are parsed under them
        app.theme = "textual-dark"
        await until(pilot, lambda: app.screen.styles.background == dark, what="the dark background again")
        assert sum(calls.values()) == light  # parsed before under these variables: nothing parsed again
