"""UI fixtures: one sandbox at a fixed path, so what the screens show (file paths) is the same in every run."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox import Sandbox


@pytest.fixture(scope="session")
def fixed_sandbox() -> Iterator[Any]:
    """A sandbox whose files live at a fixed path, so paths shown on screen are the same in every run."""
    workdir = Path("/tmp/kftui-snapshot-sandbox")
    with open("/tmp/kftui-snapshot-sandbox.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs on one machine must not share the fixed path
        shutil.rmtree(workdir, ignore_errors=True)
        sb = Sandbox("demo", workdir, still=True)
        sb.start()
        yield sb
        sb.stop()


