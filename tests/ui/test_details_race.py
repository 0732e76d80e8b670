"""The details pane keeps the selected pod's details when a load for a pod the user left ends late."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.screens.watch import PodDetails
from tests.helpers import until

SIZE = (120, 40)
PROFILE = "kubeflow-user-example-com"


async def test_a_late_load_of_another_pod_does_not_evict_the_selected_pods_details(env: Any) -> None:
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        chosen = f"{PROFILE}/ecr-notebook-0"
        table = screen.query_one("#pods")
        await until(pilot, lambda: table.move_to(chosen) and screen.selected_key == chosen, what="selected")
        details = screen.query_one("#details")
        await until(pilot, lambda: "Why" in str(details.render()), what="its details")
        left = next(k for k in screen.rows if k != chosen)
        # both in the queue before either is handled: the selected pod's, then a late one for a pod left behind.
        # They are the newest reads there are, so the screen's own re-reads of this stuck pod (every few seconds,
        # and on each change of its row) count as older and cannot replace them while the test looks.
        newest = 10**9
        screen.post_message(PodDetails(chosen, Text("the selected pod, refreshed"), seq=newest))
        screen.post_message(PodDetails(left, Text("a pod the user left"), seq=newest + 1))
        await until(pilot, lambda: "the selected pod, refreshed" in str(details.render()),
                    what="the selected pod's details, not evicted by the late one")
        await pilot.pause()
        assert "a pod the user left" not in str(details.render())
        # a newer load of the same pod still replaces its older one
        screen.post_message(PodDetails(chosen, Text("older"), seq=newest + 2))
        screen.post_message(PodDetails(chosen, Text("newest"), seq=newest + 3))
        await until(pilot, lambda: "newest" in str(details.render()), what="the newest details")
