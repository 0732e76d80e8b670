"""Snapshots of the cockpit's screens at 80x24 and 160x50: help, YAML, describe, stern tail, new-notebook form.

A world of its own with a fixed epoch, so the absolute times YAML and describe print are the same in every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.sandbox import Sandbox
from kftui.screens.tail import TailScreen
from kftui.widgets.help import HelpScreen
from kftui.widgets.notebook_form import NotebookForm
from kftui.widgets.textview import TextScreen
from tests.helpers import press, settled, until
from tests.ui.test_watch_screen import PROFILE, select_pod

EPOCH = datetime(2026, 4, 12, 10, 0, tzinfo=UTC)
SIZES = [(80, 24), (160, 50)]


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox("demo", tmp_path_factory.mktemp("cockpit-snapshots"), still=True, epoch=EPOCH)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def app(pinned: Sandbox, monkeypatch: pytest.MonkeyPatch) -> KftuiApp:
    for key, value in pinned.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KFTUI_REGISTRY_OVERRIDES", "*=http://127.0.0.1:9")  # the form's check is not the subject
    return KftuiApp(services=Services(now=lambda: EPOCH), mode="watch", persist=False)


async def _on_pod(pilot: Any, pod: str = "ecr-notebook-0") -> Any:
    screen = pilot.app.screen
    await until(pilot, lambda: screen.pods_live and f"{PROFILE}/{pod}" in screen.pods.rows, "the pods")
    await select_pod(pilot, f"{PROFILE}/{pod}")
    return screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_help(app: KftuiApp, snap_compare: Any, size: tuple[int, int]) -> None:
    async def ready(pilot: Any) -> None:
        await _on_pod(pilot)
        await press(pilot, "question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["y", "d"], ids=["yaml", "describe"])
def test_snapshot_yaml_and_describe(app: KftuiApp, snap_compare: Any, size: tuple[int, int], key: str) -> None:
    async def ready(pilot: Any) -> None:
        await _on_pod(pilot)
        await press(pilot, key)
        await until(pilot, lambda: isinstance(pilot.app.screen, TextScreen), "the text screen")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_tail(app: KftuiApp, snap_compare: Any, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    # The first lines wait BACKLOG seconds for the other pods' backlogs; on a loaded machine a third pod's backlog can
    # come later than 0.4 s and be appended after the others, so the picture is taken with a wait no machine misses.
    monkeypatch.setattr("kftui.screens.tail.BACKLOG", 5.0)

    async def ready(pilot: Any) -> None:
        screen = await _on_pod(pilot)
        screen.run_command("logs ^ml-pipeline -n kubeflow")  # three pods; their backlogs are shown in time order
        tail = await until(pilot, lambda: isinstance(pilot.app.screen, TailScreen) and pilot.app.screen, "tail")
        await until(pilot, lambda: len({p for p, _ in tail.containers}) == 3, "the three pods")
        await until(pilot, lambda: any(v.line_count == 6 for v in tail.query("#tail-log")), "their six lines")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_notebook_form(app: KftuiApp, snap_compare: Any, size: tuple[int, int]) -> None:
    async def ready(pilot: Any) -> None:
        screen = await _on_pod(pilot)
        screen.run_command("ns " + PROFILE)
        await until(pilot, lambda: pilot.app.services.options.namespace == PROFILE, "the namespace")
        await press(pilot, "c")
        await until(pilot, lambda: isinstance(pilot.app.screen, NotebookForm), "the form")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)
