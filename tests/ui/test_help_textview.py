"""The `?` help and the YAML/describe text screens, on a small app whose bindings they must reflect."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from kftui.widgets.help import HelpScreen, key_label, key_rows
from kftui.widgets.textview import TextScreen, object_yaml, save_text
from tests.helpers import press, until


class Toy(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "noop", "YAML"), Binding("shift+f", "noop", "Port-forward"), Binding("ctrl+d", "noop", "Delete"),
        Binding("x", "noop", "", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield Footer()

    def action_noop(self) -> None:
        """Nothing: the bindings are what is under test."""


def test_key_labels_read_as_k9s_writes_them() -> None:
    assert [key_label(k) for k in ("shift+f", "ctrl+d", "escape", "question_mark", "y")] == [
        "F", "ctrl+d", "Esc", "?", "y"]


async def test_help_lists_every_described_binding_and_closes_on_escape() -> None:
    app = Toy()
    async with app.run_test(size=(80, 24)) as pilot:
        rows = key_rows(app.screen)
        described = {(keys, what) for _where, keys, what in rows}
        assert {("y", "YAML"), ("F", "Port-forward"), ("ctrl+d", "Delete")} <= described
        assert all(what for _w, _k, what in rows)  # undescribed keys (x) are not listed
        await app.push_screen(HelpScreen("toy", rows))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await press(pilot, "escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help to close")


def test_yaml_drops_managed_fields_and_is_inert() -> None:
    text = object_yaml({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "p\x1b]0;t\x07", "managedFields": [{"manager": "kubectl"}]}})
    assert "managedFields" not in text
    assert "\x1b" not in text
    assert text.splitlines()[0] == "apiVersion: v1"


def test_save_refuses_a_directory_and_writes_atomically(tmp_path: Path) -> None:
    target = save_text("kind: Pod", str(tmp_path / "out" / "pod.yaml"))
    assert target.read_text() == "kind: Pod\n"
    assert not list(tmp_path.rglob("*.partial"))
    try:
        save_text("x", str(tmp_path))
    except ValueError as exc:
        assert "is a directory" in str(exc)
    else:
        raise AssertionError("saving onto a directory must be refused")


async def test_text_screen_saves_where_the_user_confirms_and_esc_goes_back(tmp_path: Path) -> None:
    app = Toy()
    target = tmp_path / "saved.yaml"
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(TextScreen("pod p", "kind: Pod\nmetadata: {}", "yaml", str(target)))
        await pilot.pause()
        await press(pilot, "ctrl+s")
        await press(pilot, "enter")
        await until(pilot, target.exists, "the file to be saved")
        assert target.read_text() == "kind: Pod\nmetadata: {}\n"
        await press(pilot, "escape")
        await until(pilot, lambda: not isinstance(app.screen, TextScreen), "the text screen to close")
