"""UI fixtures: a still sandbox per test worker, and one at a fixed path for screens that show file paths."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox import Sandbox


@pytest.fixture(scope="session")
def fixed_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A still sandbox (no timed changes) shared by this worker's UI tests."""
    sb = Sandbox("demo", tmp_path_factory.mktemp("ui-sandbox"), still=True)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def fixed_path_sandbox() -> Iterator[Any]:
    """A still sandbox whose files live at one fixed path, for snapshots that show credential paths."""
    workdir = Path("/tmp/kftui-snapshot-sandbox")
    with open("/tmp/kftui-snapshot-sandbox.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run on this machine waits for this module only
        shutil.rmtree(workdir, ignore_errors=True)
        sb = Sandbox("demo", workdir, still=True)
        sb.start()
        yield sb
        sb.stop()
