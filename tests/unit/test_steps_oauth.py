"""OAuth step: Google sign-in through oauth2-proxy, the Console walk-through, the redirect URI and the client inputs."""

from __future__ import annotations

from typing import Any

from kftui.commands.forward import DEFAULT_LOCAL
from kftui.core.findings import Finding, Status
from kftui.core.plan import GOOGLE_REDIRECT, google_proxy_config
from kftui.secrets import SecretStore
from kftui.steps.base import StepContext
from kftui.steps.oauth import STEP, OAuthStep, redirect_uri, store_client_secret
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]

CLIENT = "1234567890-abc123def456.apps.googleusercontent.com"
SECRET = "GOCSPX-abcdefghijklmnopqrstuvwxyz12"


class DictKeyring:
    """A stand-in OS keyring with keyring's backend interface."""

    priority = 5
    name = "test keyring"

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, password: str) -> None:
        self.items[(service, user)] = password

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.items.pop((service, user), None)


def run(step: OAuthStep, **answers: Any) -> dict[str, Finding]:
    """Findings keyed by id."""
    return {f.id: f for f in step.run(StepContext(answers=answers, services=None))}


def memory_step() -> OAuthStep:
    """The step with its own memory-only store, so tests never touch a real keyring."""
    return OAuthStep(SecretStore(use_system=False))


def test_personal_project_walks_through_a_web_client_for_oauth2_proxy(gcp_env: GcpSandbox) -> None:
    found = run(memory_step(), project="robot-ml-demo")
    route = found["oauth.route"]
    assert route.status is Status.PASS and "Dex and a password" in route.title
    assert "oauth2-proxy" in route.message and "no IAP" in route.message and "External" in route.message
    assert "iap.googleapis.com" not in route.message + found["oauth.client"].message
    client = found["oauth.client"]
    assert client.status is Status.WARN and client.title.endswith("(optional)")
    assert "Do NOT upload a logo" in client.message
    assert "Authorised redirect URIs add http://localhost:8080/oauth2/callback" in client.message
    assert "`kftui forward dashboard` serves Kubeflow on port 8080" in client.message
    urls = [f.url for f in client.fixes]
    assert "https://console.cloud.google.com/auth/branding?project=robot-ml-demo" in urls
    assert "https://console.cloud.google.com/auth/clients/create?project=robot-ml-demo" in urls
    assert "only in memory" in client.message


def test_the_redirect_uri_is_the_one_the_deploy_configures_and_forward_serves() -> None:
    """One source: the step's URI is what oauth2-proxy is told and where `kftui forward dashboard` listens."""
    assert redirect_uri() == GOOGLE_REDIRECT == "http://localhost:8080/oauth2/callback"
    assert f'redirect_url = "{redirect_uri()}"' in google_proxy_config(GOOGLE_REDIRECT)
    assert redirect_uri().startswith(f"http://localhost:{DEFAULT_LOCAL['dashboard']}/")


def test_organization_project_keeps_sign_in_to_its_members(gcp_env: GcpSandbox) -> None:
    gcp_env.project("acme-prod-ml")["visible"] = True
    found = run(memory_step(), project="acme-prod-ml")
    route = found["oauth.route"]
    assert route.status is Status.PASS
    assert "organizations/444444444444" in route.message and "audience Internal" in route.message
    assert "audience Internal" in found["oauth.client"].message


def test_external_users_make_the_audience_external_even_with_an_organization(gcp_env: GcpSandbox) -> None:
    gcp_env.project("acme-prod-ml")["visible"] = True
    found = run(memory_step(), project="acme-prod-ml", oauth_audience="external")
    assert "audience External" in found["oauth.client"].message
    assert found["oauth.client"].status is Status.WARN


def test_client_id_and_secret_given_pass_and_say_where_the_secret_is(gcp_env: GcpSandbox) -> None:
    step = memory_step()
    found = run(step, project="robot-ml-demo", oauth_client_id=CLIENT, oauth_client_secret=SECRET)
    client = found["oauth.client"]
    assert client.status is Status.PASS and "signs people in with Google" in client.title
    assert f"authorised redirect URI {GOOGLE_REDIRECT} exactly" in client.message
    assert found["oauth.route"].title == "Sign-in: Google accounts through oauth2-proxy"
    assert "only in memory" in client.message
    assert SECRET not in client.message and SECRET not in repr(found)
    again = run(step, project="robot-ml-demo", oauth_client_id=CLIENT)  # secret remembered by the store
    assert again["oauth.client"].status is Status.PASS


def test_secret_goes_to_a_usable_keyring(gcp_env: GcpSandbox) -> None:
    keyring = DictKeyring()
    step = OAuthStep(SecretStore(keyring))
    assert store_client_secret(SECRET, step.store) == "keyring"
    client = run(step, project="robot-ml-demo", oauth_client_id=CLIENT)["oauth.client"]
    assert client.status is Status.PASS and "OS keyring (test keyring)" in client.message
    assert keyring.items[("kftui", "oauth_client_secret")] == SECRET


def test_invalid_client_id_fails_naming_the_rule(gcp_env: GcpSandbox) -> None:
    client = run(memory_step(), project="robot-ml-demo", oauth_client_id="my-client")["oauth.client"]
    assert client.status is Status.FAIL and ".apps.googleusercontent.com" in client.message


def test_only_the_id_given_still_warns_for_the_secret(gcp_env: GcpSandbox) -> None:
    client = run(memory_step(), project="robot-ml-demo", oauth_client_id=CLIENT)["oauth.client"]
    assert client.status is Status.WARN and client.title == "Google sign-in waits for the OAuth client secret (optional)"
    assert GOOGLE_REDIRECT in client.message


def test_fields_are_a_validated_id_and_a_masked_secret() -> None:
    by_name = {f.name: f for f in STEP.fields}
    assert by_name["oauth_client_secret"].kind == "secret"
    id_check = by_name["oauth_client_id"].validate
    assert id_check is not None and id_check(CLIENT) is None and id_check("x") is not None
