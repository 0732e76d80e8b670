"""The generic form: a valid placeholder is a required field's default, and fast typing lands in the right field."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.widgets import Input, Static

from kftui.steps.base import Field, StepContext
from kftui.widgets.form import FormScreen
from tests.helpers import until

UNSET = "unset"


def at_least_one(label: str) -> Any:
    def check(value: str) -> str | None:
        return None if value.isdigit() and int(value) >= 1 else f"{label} must be a whole number of at least 1"

    return check


def gpu_types(_ctx: StepContext, text: str) -> list[tuple[str, str]]:
    offered = [("nvidia-tesla-t4", "NVIDIA T4"), ("nvidia-l4", "NVIDIA L4")]
    return [(value, label) for value, label in offered if text in value]


COUNT = Field("count", "GPUs per node", placeholder="1", validate=at_least_one("GPUs per node"))
PICK = Field("flavour", "Flavour", placeholder="(pick one)")
ZONE = Field("zone", "Zone", placeholder="us-central1-a", required=False)
TOKEN = Field("token", "Token", kind="secret", placeholder="s3cret", required=False)
GPU = Field("gpu_type", "GPU type", kind="choice", placeholder="nvidia-tesla-t4", suggest=gpu_types)
MAX_NODES = Field("max_nodes", "Maximum GPU nodes", placeholder="1", validate=at_least_one("Maximum GPU nodes"))


class FormApp(App[None]):
    """Opens one FormScreen and keeps what it returns."""

    def __init__(self, fields: tuple[Field, ...], values: dict[str, str] | None = None) -> None:
        super().__init__()
        self.form = FormScreen("Test form", fields, values or {}, StepContext(answers={}, services=None))
        self.result: dict[str, str] | str | None = UNSET

    def on_mount(self) -> None:
        self.push_screen(self.form, self._done)

    def _done(self, result: dict[str, str] | None) -> None:
        self.result = result


def error(app: FormApp, name: str) -> str:
    return str(app.form.query_one(f"#error-{name}", Static).render())


def value(app: FormApp, name: str) -> str:
    return app.form.query_one(f"#field-{name}", Input).value


def labels(app: FormApp) -> list[str]:
    return [str(s.render()) for s in app.form.query(Static) if not (s.id or "").startswith("error-")]


async def opened(pilot: Any) -> None:
    await until(pilot, lambda: pilot.app.screen is pilot.app.form and pilot.app.form.focused is not None, "the form")


async def test_valid_placeholder_is_the_default_and_a_description_is_not() -> None:
    app = FormApp((COUNT, PICK, ZONE, TOKEN))
    async with app.run_test() as pilot:
        await opened(pilot)
        assert "GPUs per node (default 1)" in labels(app)  # the user sees what an empty field keeps
        assert "Flavour" in labels(app) and "Zone (optional)" in labels(app) and "Token (optional)" in labels(app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error(app, "flavour"), "the required error")
        assert error(app, "flavour") == "Flavour is required"
        assert error(app, "count") == ""
        assert app.result == UNSET  # the form stays open
        assert app.form.focused is app.form.query_one("#field-flavour", Input)
        await pilot.press(*"vanilla")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result != UNSET, "the form to close")
    # the optional zone stays empty (the step applies its own default); the secret never takes its placeholder
    assert app.result == {"count": "1", "flavour": "vanilla"}


async def test_typed_value_wins_and_is_still_validated() -> None:
    app = FormApp((COUNT,))
    async with app.run_test() as pilot:
        await opened(pilot)
        await pilot.press("0")
        await until(pilot, lambda: error(app, "count"), "the validator's message")
        assert error(app, "count") == "GPUs per node must be a whole number of at least 1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == UNSET
        await pilot.press("backspace", "3", "ctrl+s")
        await until(pilot, lambda: app.result != UNSET, "the form to close")
    assert app.result == {"count": "3"}


async def test_required_field_without_a_usable_default_is_named() -> None:
    """An invalid placeholder, a secret's and an example's are never saved: each field says it is required."""
    fields = (
        Field("min_count", "Node count", placeholder="0", validate=at_least_one("Node count")),
        Field("token", "Token", kind="secret", placeholder="s3cret"),
        Field("email", "Contact email", placeholder="you@example.com", validate=lambda v: None),
        Field("project", "Project ID", placeholder="my-kubeflow-project"),
    )
    app = FormApp(fields)
    async with app.run_test() as pilot:
        await opened(pilot)
        assert not any("default" in label for label in labels(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error(app, "project"), "the required errors")
        assert [error(app, f.name) for f in fields] == [
            "Node count is required",
            "Token is required",
            "Contact email is required",
            "Project ID is required",
        ]
        assert app.result == UNSET


async def test_fast_typing_after_tab_lands_in_the_next_field() -> None:
    app = FormApp((GPU, COUNT, MAX_NODES))
    async with app.run_test() as pilot:
        await opened(pilot)
        await pilot.press(*"nvidia-tesla-t4", "tab", "2", "shift+tab", "tab", "tab", "3")
        assert (value(app, "gpu_type"), value(app, "count"), value(app, "max_nodes")) == ("nvidia-tesla-t4", "2", "3")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result != UNSET, "the form to close")
    assert app.result == {"gpu_type": "nvidia-tesla-t4", "count": "2", "max_nodes": "3"}


async def test_keys_arriving_in_one_burst_follow_tab_and_enter() -> None:
    """Like tmux send-keys: every key is queued before the first is handled, so focus must move as Tab is read."""
    app = FormApp((GPU, COUNT, MAX_NODES))
    async with app.run_test() as pilot:
        await opened(pilot)
        burst = [*"nvidia-tesla-t4", "tab", "2", "enter", "5"]
        for key in burst:
            name = {"-": "minus"}.get(key, key)
            app.post_message(events.Key(name, key if len(key) == 1 else None))
        typed = len("nvidia-tesla-t4") + 2

        def landed() -> int:
            return sum(len(value(app, f.name)) for f in (GPU, COUNT, MAX_NODES))

        await until(pilot, lambda: landed() == typed, "every typed key to land")
        assert (value(app, "gpu_type"), value(app, "count"), value(app, "max_nodes")) == ("nvidia-tesla-t4", "2", "5")


async def test_down_reaches_the_suggestions_and_enter_picks_one() -> None:
    app = FormApp((GPU, COUNT))
    async with app.run_test() as pilot:
        await opened(pilot)
        await pilot.press(*"l4")
        await until(pilot, lambda: app.form.query_one("#suggest-gpu_type").display, "the suggestions")
        await pilot.press("down", "enter")
        await until(pilot, lambda: value(app, "gpu_type") == "nvidia-l4", "the picked suggestion")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result != UNSET, "the form to close")
    assert app.result == {"gpu_type": "nvidia-l4", "count": "1"}
