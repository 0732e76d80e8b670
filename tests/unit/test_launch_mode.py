"""Which launches start the prefetch child: `kftui watch`, and bare `kftui` once setup has passed."""

from __future__ import annotations

from pathlib import Path

from kftui.commands.launch import _opens_watch
from kftui.factory import Services
from kftui.settings import StateStore


def services_with(tmp_path: Path, passed: bool | None) -> Services:
    store = StateStore(tmp_path / "state.json")
    if passed is not None:
        with store.change() as state:
            state.setup_passed = passed
    return Services(state=StateStore(tmp_path / "state.json"))  # a fresh store reads the file, as a new process


def test_watch_and_setup_say_so_themselves(tmp_path: Path) -> None:
    services = services_with(tmp_path, passed=True)
    assert _opens_watch("watch", services, persist=True)
    assert not _opens_watch("setup", services, persist=True)
    assert not _opens_watch(None, services, persist=False)  # a throwaway session starts in setup


def test_bare_kftui_opens_watch_only_once_setup_has_passed(tmp_path: Path) -> None:
    assert not _opens_watch(None, services_with(tmp_path / "new", passed=None), persist=True)
    assert not _opens_watch(None, services_with(tmp_path / "failed", passed=False), persist=True)
    assert _opens_watch(None, services_with(tmp_path / "passed", passed=True), persist=True)
    assert StateStore(tmp_path / "passed" / "state.json").read().opening_mode == "watch"


def test_an_unreadable_state_file_starts_no_child(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    services = Services(state=StateStore(tmp_path / "state.json"))
    assert not _opens_watch(None, services, persist=True)
    assert services.state.problems, "the file was set aside and said, for the app to report"
