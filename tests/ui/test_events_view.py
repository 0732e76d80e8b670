"""The events view (one file in kftui/views plus this test): `:events`, newest first, details, the pod's log."""

from __future__ import annotations

from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.views import VIEWS, view_for
from tests.helpers import press, settled, until

SIZE = (120, 40)
PROFILE = "kubeflow-user-example-com"


@pytest.fixture
def env(fixed_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in fixed_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return fixed_sandbox


def still_app(sandbox: Any) -> KftuiApp:
    return KftuiApp(services=Services(now=lambda: sandbox.epoch), mode="watch", persist=False)


def test_the_registry_names_each_view_once() -> None:
    keys = [v.key for v in VIEWS]
    aliases = [a for v in VIEWS for a in v.aliases]
    assert len(set(keys)) == len(keys) and len(set(aliases)) == len(aliases)
    assert view_for("events") is view_for("ev") is view_for("EVENTS")
    assert view_for("nb") is view_for("notebooks") and view_for("runs") is not None and view_for("nope") is None


async def test_colon_events_shows_the_events_newest_first_and_explains_one(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        model = screen.view_model("events")
        assert not screen.feeds["events"].started  # a view's watch starts when it is first shown
        await press(pilot, "colon", *"events", "enter")
        await until(pilot, lambda: len(model) >= 3, what="events listed")
        assert str(screen.query_one("#top-pane").border_title).startswith("events · all namespaces · ")
        keys = model.visible()
        ages = [model.rows[k].last for k in keys]
        assert ages == sorted(ages, key=lambda t: t.timestamp() if t else 0, reverse=True)
        table = screen.query_one("#events")
        key = next(k for k in keys if model.rows[k].reason == "FailedScheduling")
        table.move_to(key)
        details = screen.query_one("#details")
        await until(pilot, lambda: "FailedScheduling" in str(details.render()), what="event details")
        assert "Insufficient nvidia.com/gpu" in str(details.render())
        await until(pilot, lambda: "gpu-notebook-0" in str(screen.query_one("#logs-pane").border_title),
                    what="the pod's log followed")


async def test_w_keeps_only_warnings_and_keys_switch_views(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await press(pilot, "4")
        model = screen.view_model("events")
        await until(pilot, lambda: len(model) >= 3, what="events listed")
        total = len(model)
        assert any(r.type == "Normal" for r in model.rows.values())
        await press(pilot, "w")
        assert model.shown < total and all(model.rows[k].type == "Warning" for k in model.visible())
        await press(pilot, "w")
        assert model.shown == total
        await press(pilot, "2")
        await until(pilot, lambda: str(screen.query_one("#top-pane").border_title).startswith("notebooks"),
                    what="the notebooks title")
        await press(pilot, "colon", *"runs", "enter")
        await until(pilot, lambda: str(screen.query_one("#top-pane").border_title).startswith("runs"),
                    what="the runs title")
        await press(pilot, "colon", *"po", "enter")
        await until(pilot, lambda: str(screen.query_one("#top-pane").border_title).startswith("pods"),
                    what="the pods title again")


def test_snapshot_events_view(env: Any, snap_compare: Any) -> None:
    async def ready(pilot: Any) -> None:
        screen = pilot.app.screen
        # the first event follows its pod into the log pane: that pod must be listed first, and its log state read
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods")
        await press(pilot, "4")
        model = screen.view_model("events")
        await until(pilot, lambda: len(model) >= 3, what="events")
        await until(pilot, lambda: "not-started" in str(screen.query_one("#log-status").render()), what="log state")
        await settled(pilot)

    assert snap_compare(still_app(env), terminal_size=SIZE, run_before=ready)
