"""Shared fixtures: no test reaches a real cloud or real user files; the whole sandbox for UI and e2e tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOWHERE = "http://127.0.0.1:9/"
"""The discard port on loopback: nothing listens there, so a client pointed at it fails at once, offline."""

GOOGLE_APIS = (
    "compute", "container", "cloudquotas", "cloudresourcemanager", "serviceusage", "cloudbilling",
    "iam", "iamcredentials", "sts", "oauth2", "storage", "logging", "monitoring", "artifactregistry",
)
"""Every Google API kftui, gcloud or a client library might be asked to call from a test."""

os.environ["NO_GCE_CHECK"] = "true"
"""google-auth reads this once, when `google.auth.compute_engine._metadata` is first imported, and only the exact
word "true" counts: without it every failed ADC lookup pings the (absent) metadata server three times with backoff,
about 5 s each, instead of failing at once as it does on a laptop that is not on GCE."""

E2E_DIRS = ("e2e",)
"""Test directories whose every test drives a real CLI, tmux or a subprocess app (marked `e2e` here)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `e2e` by directory, and every test that runs a real CLI or a subprocess (found by reading its code),
    so a new end-to-end test cannot forget the marker `-m "not e2e"` relies on."""
    from tests.helpers import cli_driving_tests

    driving: dict[Path, set[str]] = {}
    for item in items:
        path = Path(str(item.path))
        if path not in driving:
            driving[path] = cli_driving_tests(path.read_text(encoding="utf-8")) if path.suffix == ".py" else set()
        name = getattr(item, "originalname", item.name)
        if path.parent.name in E2E_DIRS or name in driving[path]:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def private_xdg(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's real kftui settings or state."""
    home = tmp_path_factory.mktemp("xdg")
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    return home


@pytest.fixture(autouse=True)
def offline(private_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every Google endpoint, ADC, gcloud, kubectl and KFP at nothing, so only a sandbox a test asks for
    answers: with real credentials on the machine, no test can call Google, a real cluster or the user's files.
    A test (or fixture) that wants the sandbox sets its environment after this, which wins."""
    nothing = private_xdg / "nothing"
    nothing.mkdir()
    for key in list(os.environ):
        if key.startswith(("CLOUDSDK_", "GOOGLE_", "GCE_", "KFTUI_")) or key in ("KUBECONFIG", "KF_PIPELINES_ENDPOINT"):
            monkeypatch.delenv(key, raising=False)
    for api in GOOGLE_APIS:
        monkeypatch.setenv(f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}", NOWHERE)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(nothing / "no-adc.json"))  # missing: ADC fails fast
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(nothing / "gcloud"))  # no account, no credentials
    monkeypatch.setenv("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # google-auth never probes a real metadata server
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth compares with "true" exactly (see above)
    monkeypatch.setenv("KUBECONFIG", str(nothing / "no-kubeconfig"))
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", NOWHERE.rstrip("/"))
    monkeypatch.setenv("KFTUI_REGISTRY_OVERRIDES", "*=http://127.0.0.1:9")  # no image check reaches a real registry
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")  # never the user's keyring
    monkeypatch.setenv("HOME", str(nothing / "home"))  # ~/.kube, ~/.config/gcloud: none of the user's
    return nothing


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
    for key in list(os.environ):
        if key.startswith("CLOUDSDK_") and key not in sandbox.env and key != "CLOUDSDK_CONFIG":
            monkeypatch.delenv(key, raising=False)
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    return dict(sandbox.env)
