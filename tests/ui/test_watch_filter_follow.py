"""A filter that hides the selected pod moves the selection, and the log pane, to the first pod it shows."""

from __future__ import annotations

from typing import Any

from tests.helpers import press, until
from tests.ui.test_watch_screen import PROFILE, SIZE, still_app


async def test_filter_then_enter_follows_the_first_match(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = pilot.app.screen
        await until(pilot, lambda: screen.pods_live and len(screen.pods.rows) > 10, "pods")
        await until(pilot, lambda: screen.selected_key, "a first selection")
        assert screen.selected_key != f"{PROFILE}/train-resnet-0"
        await press(pilot, "slash", *"train-resnet", "enter")
        await until(pilot, lambda: screen.selected_key == f"{PROFILE}/train-resnet-0", "the match selected")
        pane = screen.query_one("#logs-pane")
        await until(pilot, lambda: "train-resnet-0" in str(pane.border_title), "the log pane following it")
