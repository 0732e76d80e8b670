"""UI fixtures: a still sandbox per test worker, and one whose paths on screen are the same on every machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox import Sandbox
from tests.helpers import tool

PLUGIN_STUB = "#!/bin/sh\necho 'gke-gcloud-auth-plugin stub: snapshot tests only look it up on PATH' >&2\nexit 1\n"


@pytest.fixture(scope="session")
def fixed_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A still sandbox (no timed changes) shared by this worker's UI tests."""
    sb = Sandbox("demo", tmp_path_factory.mktemp("ui-sandbox"), still=True)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def fixed_path_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A still sandbox for snapshots that show credential and tool paths: under this run's own temp dir, with
    its environment naming files relative to that dir (the test runs there), so each snapshot is byte-identical
    wherever the temp dir or the tools live. It needs the real gcloud, as the account step does."""
    tool("gcloud")
    workdir = tmp_path_factory.mktemp("snapshot-sandbox")
    sb = Sandbox("demo", workdir, still=True)
    sb.start()
    plugin = workdir / "bin" / "gke-gcloud-auth-plugin"  # found first on PATH, so every machine shows the same
    plugin.parent.mkdir()
    plugin.write_text(PLUGIN_STUB, encoding="utf-8")
    plugin.chmod(0o755)
    adc = Path(sb.env["GOOGLE_APPLICATION_CREDENTIALS"])
    sb.env = {**sb.env, "GOOGLE_APPLICATION_CREDENTIALS": str(adc.relative_to(workdir))}
    yield sb
    sb.stop()


@pytest.fixture(autouse=True)
def shown_paths_are_relative(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test on the fixed-path sandbox runs in its directory with its `bin` first on PATH (see above)."""
    if "fixed_path_sandbox" not in request.fixturenames:
        return
    sb = request.getfixturevalue("fixed_path_sandbox")
    monkeypatch.chdir(sb.workdir)
    monkeypatch.setenv("PATH", "bin" + os.pathsep + os.environ.get("PATH", ""))


@pytest.fixture
def env(fixed_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The worker's still sandbox, with its environment set for the app under test."""
    for key, value in fixed_sandbox.env.items():
        monkeypatch.setenv(key, value)
    return fixed_sandbox
