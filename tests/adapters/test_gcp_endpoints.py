"""Endpoint resolution the way gcloud does it, and error mapping at the border."""

from __future__ import annotations

import pytest

from kftui.gcp.endpoints import api_endpoint, client_kwargs
from kftui.gcp.errors import GcpApiError
from kftui.gcp.services import Services
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox
from tests.helpers import closed_port

__all__ = ["gcp_env", "gcp_sandbox"]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("http://127.0.0.1:8080/compute/v1/", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/compute/beta/", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://private.example.com/v1/", "https://private.example.com"),
        ("http://127.0.0.1:8080/prefix/", "http://127.0.0.1:8080/prefix"),
    ],
)
def test_override_loses_only_the_version_path(override: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", override)
    assert api_endpoint("compute") == expected


def test_without_override_the_google_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBILLING", raising=False)
    assert api_endpoint("cloudbilling") == "https://cloudbilling.googleapis.com"


def test_client_kwargs_are_rest_with_adc(gcp_env: GcpSandbox) -> None:
    kwargs = client_kwargs("serviceusage")
    assert kwargs["transport"] == "rest"
    assert kwargs["client_options"].api_endpoint == gcp_env.url
    assert kwargs["credentials"].service_account_email == "ada@robot-ml-demo.iam.gserviceaccount.com"


def test_a_dead_endpoint_fails_fast_as_unreachable(gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()  # refuses connections for the whole test
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE", f"http://127.0.0.1:{port}/")
    with pytest.raises(GcpApiError) as caught:
        Services().enabled("robot-ml-demo")
    assert caught.value.kind == "refused" and caught.value.status == 503
    assert f"port={port}" in caught.value.raw_text and "Connection refused" in caught.value.raw_text
    assert f"http://127.0.0.1:{port}/v1/projects/robot-ml-demo/services" in str(caught.value)
    chain, cause = [], caught.value.__cause__ or caught.value.__context__
    while cause is not None and len(chain) < 20:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    assert "RetryError" not in chain, f"no silent retry loop on a dead endpoint: {chain}"


def test_a_revoked_key_is_a_refresh_error(gcp_env: GcpSandbox) -> None:
    # The token endpoint refuses revoked keys with invalid_grant; google-auth raises RefreshError.
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request

    from kftui.gcp.endpoints import credentials
    from kftui.gcp.errors import to_gcp_error

    gcp_env.world.scenario["revoked_keys"] = ["ada@robot-ml-demo.iam.gserviceaccount.com"]
    creds = credentials()
    with pytest.raises(RefreshError) as caught:
        creds.refresh(Request())
    err = to_gcp_error(caught.value)
    assert (err.kind, err.status) == ("refresh", 401)
    assert "invalid_grant" in err.raw_text
    assert gcp_env.world.sent("POST", "/token")[-1].body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
