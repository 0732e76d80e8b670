"""Which launches start the prefetch child: `kftui watch`, and bare `kftui` once setup has passed."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from kftui.cluster.prefetch import DISABLE_ENV
from kftui.commands.launch import _opens_watch, launch
from kftui.errors import ConfigError
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


def test_launch_gives_collection_back_however_it_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch pauses the collector for start-up; an error before the app runs must not leave it off."""
    monkeypatch.setenv(DISABLE_ENV, "0")  # no child from the test process
    assert gc.isenabled()
    with pytest.raises(ConfigError, match="does not exist"):
        launch("watch", kubeconfig=str(tmp_path / "missing"), persist=False)
    assert gc.isenabled()
