"""Account step adapter: the real gcloud CLI configured by write_env, ADC files, the kubectl plugin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kftui.errors import ToolMissingError
from kftui.gcp import auth
from kftui.gcp.projects import Projects
from tests.adapters.gcp_fixtures import GcpSandbox, gcloud_env, gcp_sandbox

__all__ = ["gcloud_env", "gcp_sandbox"]

ADA = "ada@robot-ml-demo.iam.gserviceaccount.com"
needs_gcloud = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud CLI not installed")


@needs_gcloud
@pytest.mark.e2e
def test_auth_state_reads_gcloud_and_adc_from_write_env(gcloud_env: dict[str, str]) -> None:
    state = auth.auth_state()
    assert state.account == ADA and state.project == "robot-ml-demo"
    assert state.active_configuration == "default"
    assert [(c.name, c.is_active, c.account, c.project) for c in state.configurations] == [
        ("default", True, ADA, "robot-ml-demo")
    ]
    assert [(a.account, a.active) for a in state.accounts] == [(ADA, True)]
    assert state.adc is not None and state.adc.kind == "service_account" and state.adc.email == ADA
    assert state.adc.quota_project is None
    assert state.identities_match


@needs_gcloud
@pytest.mark.e2e
def test_adc_from_write_env_reaches_the_sandbox(gcloud_env: dict[str, str], gcp_sandbox: GcpSandbox) -> None:
    assert Projects().get(gcloud_env["CLOUDSDK_CORE_PROJECT"]).number == "123456789012"
    assert gcp_sandbox.world.sent("GET", "/v3/projects/robot-ml-demo")


def test_missing_gcloud_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError) as caught:
        auth.auth_state()
    assert "gcloud" in str(caught.value) and "\n" not in str(caught.value)


def test_auth_plugin_is_found_only_when_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert auth.auth_plugin() is None
    plugin = tmp_path / "gke-gcloud-auth-plugin"
    plugin.write_text("#!/bin/sh\nexit 0\n")
    plugin.chmod(0o755)
    assert auth.auth_plugin() == str(plugin)


def test_user_adc_reports_quota_project_and_no_email(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adc = tmp_path / "application_default_credentials.json"
    adc.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "x",
                "client_secret": "y",
                "refresh_token": "z",
                "quota_project_id": "robot-ml-demo",
            }
        )
    )
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_QUOTA_PROJECT", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    identity = auth.adc_identity()
    assert identity is not None
    assert (identity.kind, identity.email, identity.quota_project) == ("authorized_user", None, "robot-ml-demo")
    assert identity.path == str(adc)


def test_no_adc_at_all_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    assert auth.adc_identity() is None


def test_impersonated_adc_names_the_target_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adc = tmp_path / "adc.json"
    url = f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{ADA}:generateAccessToken"
    adc.write_text(json.dumps({"type": "impersonated_service_account", "service_account_impersonation_url": url}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    identity = auth.adc_identity()
    assert identity is not None and identity.email == ADA
