"""`kftui demo` as a person sees it: a real terminal (tmux, 120x40), real keys, the screen read back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import tool, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Terminal:
    """One tmux session on its own tmux server (never the user's default one); keys in, screen text out."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"kftui-e2e-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name]  # a private socket: no user session seen, touched or killed
        self.env = env
        # COLUMNS/LINES (set by some runners, e.g. pytest-xdist workers) would override the real terminal size.
        shell = "env -u COLUMNS -u LINES " + " ".join(command)
        env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
        # tmux hands a new session the server's environment, so pass ours explicitly.
        pairs = [
            arg
            for key in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PATH")
            for arg in ("-e", f"{key}={env[key]}")
        ]
        subprocess.run(
            [*self.tmux, "-f", "/dev/null", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40", *pairs, shell],
            env=env,
            check=True,
        )
        # With no client attached a fresh tmux server may still size the window 80x24: pin it.
        subprocess.run([*self.tmux, "set-option", "-t", self.name, "window-size", "manual"], check=True)
        subprocess.run([*self.tmux, "resize-window", "-t", self.name, "-x", "120", "-y", "40"], check=True)

    def screen(self) -> str:
        out = subprocess.run([*self.tmux, "capture-pane", "-t", self.name, "-p"], capture_output=True, text=True)
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Terminal]:
    tool("gcloud")  # the demo's account step runs the real gcloud against the sandbox
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TERM": "xterm-256color",
    }
    kftui = Path(sys.executable).with_name("kftui")
    term = Terminal([str(kftui), "demo"], env)
    try:
        yield term
    finally:
        term.close()


def lines_shown(screen: str) -> int:
    match = re.search(r"([\d,]+) kept", screen)
    return int(match.group(1).replace(",", "")) if match else -1


def test_demo_setup_then_watch_with_live_log(demo: Terminal) -> None:
    wait_for(lambda: "Account" in demo.screen() and "Permissions" in demo.screen(), timeout=90, what="setup steps")
    screen = demo.screen()
    for step in ("Account", "Project", "Billing", "APIs", "Permissions", "OAuth"):
        assert step in screen
    assert "f2" in screen  # the mode switch is shown in the footer
    # The demo's disabled API and missing permission are found.
    wait_for(lambda: "✖ APIs" in demo.screen() and "✖ Permissions" in demo.screen(), timeout=60, what="findings")

    demo.keys("F2")
    try:
        wait_for(lambda: "ImagePullBackOff" in demo.screen(), timeout=30, what="pods in watch mode")
    except AssertionError:
        print(demo.screen())
        raise
    assert "kubeflow-user-example-com" in demo.screen()

    demo.keys("/")
    wait_for(lambda: "filter pods (regex" in demo.screen(), timeout=10, what="the filter box")
    demo.keys("-l", "train-resnet")
    wait_for(lambda: "filter /train-resnet/" in demo.screen(), timeout=10, what="the typed filter")
    demo.keys("Enter")
    try:
        wait_for(lambda: "resnet50 epoch" in demo.screen(), timeout=30, what="training log lines")
    except AssertionError:
        print(demo.screen())
        raise
    first = lines_shown(demo.screen())
    wait_for(lambda: lines_shown(demo.screen()) > first, timeout=30, what="more log lines arriving")
