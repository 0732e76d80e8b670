"""`kftui demo` draws at once: "starting the sandbox" first, the mode on the sandbox once it is up; a sandbox that
cannot start closes the app with one line. The sandbox runs as the real child process `kftui demo` starts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.commands.demo import SandboxProcess, demo_app
from kftui.screens.starting import SandboxStarting
from tests.helpers import until


@pytest.fixture
def own_env(tmp_path: Path) -> Iterator[Path]:
    """The demo puts the sandbox's environment in os.environ: give it back afterwards, whole."""
    saved = dict(os.environ)
    os.environ["XDG_STATE_HOME"] = str(tmp_path / "state")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    try:
        yield tmp_path
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def test_the_first_screen_says_it_is_starting_then_watch_opens_on_the_sandbox(own_env: Path) -> None:
    sandbox = SandboxProcess("demo", own_env / "sandbox")
    try:
        app: Any = demo_app("demo", "watch", sandbox)
        async with app.run_test(size=(100, 30)) as pilot:
            assert isinstance(app.screen, SandboxStarting)  # before the sandbox could possibly be up
            text = str(app.screen.query_one("#starting").render())
            assert "Starting the sandbox" in text and "scenario demo" in text
            await pilot.press("f2")  # setup would read the real world: it waits for the sandbox
            assert isinstance(app.screen, SandboxStarting)
            await until(pilot, lambda: app.current_mode == "watch", "the watch screen on the sandbox", timeout=90)
            assert os.environ["KUBECONFIG"].startswith(str(own_env / "sandbox"))
            screen = app.screen
            await until(pilot, lambda: len(screen.rows) > 0, "the sandbox's pods", timeout=60)
            assert app.failure == ""
    finally:
        sandbox.close()
    assert sandbox.proc is not None and sandbox.proc.returncode is not None  # closing the demo stops it


async def test_a_sandbox_that_cannot_start_is_one_line_and_the_app_closes(own_env: Path) -> None:
    broken = own_env / "broken"
    broken.mkdir()
    (broken / "kube.yaml").write_text("kube: [\n", encoding="utf-8")
    sandbox = SandboxProcess(str(broken), own_env / "sandbox")
    try:
        app: Any = demo_app(str(broken), "watch", sandbox)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.failure != "", "the sandbox to fail", timeout=90)
        assert app.failure.startswith("the sandbox did not start: ") or app.failure.startswith(
            "the sandbox exited early: ")
        assert "\n" not in app.failure and "Traceback" not in app.failure
        assert "KUBECONFIG" not in os.environ or not os.environ["KUBECONFIG"].startswith(str(own_env))
    finally:
        sandbox.close()


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_starting_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    from textual.app import App

    class Shown(App[None]):
        TITLE = "kftui"

        def on_mount(self) -> None:
            ticks = iter([100.0, *([101.5] * 1000)])  # began at 100 s; every later look says 1.5 s have passed
            self.push_screen(SandboxStarting("demo", clock=lambda: next(ticks, 101.5)))

    async def ready(pilot: Any) -> None:
        await pilot.pause(0.6)  # one tick of the elapsed time

    assert snap_compare(Shown(), terminal_size=size, run_before=ready)


async def test_the_starting_screen_fails_in_words() -> None:
    from textual.app import App

    screen = SandboxStarting("demo")

    class Shown(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Shown().run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen.failed("the sandbox exited early: port in use")
        await pilot.pause()
        text = str(screen.query_one("#starting").render())
        assert "The sandbox did not start" in text and "port in use" in text
