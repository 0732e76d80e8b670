"""gcloud's answers about its own configuration are asked once, and asked again as soon as that configuration
changes: checked with the real gcloud behind a wrapper on PATH that counts its starts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kftui.gcp import auth

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud CLI not installed")]


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private gcloud configuration, and a `gcloud` first on PATH that logs each start and runs the real one."""
    real = shutil.which("gcloud")
    assert real is not None
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud-config"))
    for name in [n for n in os.environ if n.startswith("CLOUDSDK_") and n != "CLOUDSDK_CONFIG"]:
        monkeypatch.delenv(name)
    subprocess.run([real, "config", "set", "project", "first-project", "--quiet"], check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "starts.log"
    wrapper = bin_dir / "gcloud"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def starts(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_question_is_asked_once_while_the_configuration_stays(counted: Path) -> None:
    first = auth.effective_config()
    assert first["core"]["project"] == "first-project"
    first["core"]["project"] = "changed by the caller"  # a caller's edit must not reach the next caller
    assert auth.effective_config()["core"]["project"] == "first-project"
    assert auth.configurations() == auth.configurations()
    assert auth.accounts() == auth.accounts() == []
    assert [s.split(" --")[0] for s in starts(counted)] == ["config list", "config configurations list", "auth list"]


def test_a_change_to_the_configuration_is_seen_at_once(counted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert auth.effective_config()["core"]["project"] == "first-project"
    subprocess.run(["gcloud", "config", "set", "project", "second-project", "--quiet"], check=True,
                   capture_output=True)  # as a user would in another terminal
    assert auth.effective_config()["core"]["project"] == "second-project"
    subprocess.run(["gcloud", "config", "configurations", "create", "other", "--no-activate", "--quiet"],
                   check=True, capture_output=True)
    assert sorted(c.name for c in auth.configurations()) == ["default", "other"]
    monkeypatch.setenv("CLOUDSDK_CORE_PROJECT", "from-the-environment")  # an override is part of the answer
    assert auth.effective_config()["core"]["project"] == "from-the-environment"
    asked = [s.split(" --")[0] for s in starts(counted)]
    assert asked.count("config list") == 3, asked


def test_the_installation_properties_are_where_the_real_gcloud_reads_them() -> None:
    """`gcloud config set --installation` writes them: the key of the answers watches the file gcloud names."""
    real = shutil.which("gcloud")
    assert real is not None
    told = subprocess.run([real, "info", "--format=value(config.paths.installation_properties_path)"],
                          capture_output=True, text=True, check=True, timeout=120).stdout.strip()
    assert told, "gcloud names its installation properties file"
    assert auth.installation_properties(real) == Path(told)


def test_a_change_to_the_installation_properties_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK laid out as Google's is (SDK_ROOT/bin/gcloud, reached through a link on PATH, and SDK_ROOT/properties):
    rewriting the installation's properties changes what the answers are kept under."""
    root = tmp_path / "google-cloud-sdk"
    (root / "bin").mkdir(parents=True)
    script = root / "bin" / "gcloud"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "gcloud").symlink_to(script)
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "config"))
    properties = root / "properties"
    properties.write_text("[core]\nproject = first\n")
    before = auth.config_state()
    assert auth.config_state() == before, "nothing changed: the same key"
    properties.write_text("[core]\nproject = second-project\n")
    assert auth.config_state() != before
