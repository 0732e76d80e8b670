"""Shared fixtures: private XDG directories for every test, and the whole sandbox for UI and e2e tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def private_xdg(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's real kftui settings or state."""
    home = tmp_path_factory.mktemp("xdg")
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    return home


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo sandbox (fake GCP, Kubernetes, KFP) with its credentials and kubeconfig, once per worker."""
    from kftui.sandbox import Sandbox

    sb = Sandbox("demo", tmp_path_factory.mktemp("sandbox"))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def sandbox_env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point ADC, gcloud, kubectl and KFP at the sandbox for one test, the way a user's shell would."""
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("CLOUDSDK_") and key not in sandbox.env and key != "CLOUDSDK_CONFIG":
            monkeypatch.delenv(key, raising=False)
    return dict(sandbox.env)
