"""The fake GCP on the wire: token endpoint, auth, Google error bodies, operations, and real gcloud."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from kftui.sandbox.gcp.common import issue_token
from kftui.sandbox.gcp.token import JWT_BEARER
from tests.adapters.gcp_fixtures import GcpSandbox, gcloud_env, gcp_sandbox, wait_for

__all__ = ["gcloud_env", "gcp_sandbox"]

ADA = "ada@robot-ml-demo.iam.gserviceaccount.com"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One HTTP request; returns (status, parsed JSON)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_token_endpoint_trades_a_jwt_grant_for_access_and_id_tokens(gcp_sandbox: GcpSandbox) -> None:
    assertion = ".".join([_b64({"alg": "RS256"}), _b64({"iss": ADA, "scope": "x", "aud": "t"}), "sig"])
    form = urllib.parse.urlencode({"grant_type": JWT_BEARER, "assertion": assertion}).encode()
    with urllib.request.urlopen(f"{gcp_sandbox.url}/token", data=form, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert gcp_sandbox.world.tokens[answer["access_token"]] == ADA
    claims = json.loads(base64.urlsafe_b64decode(answer["id_token"].split(".")[1] + "=="))
    assert claims["email"] == ADA
    status, project = call(f"{gcp_sandbox.url}/v3/projects/robot-ml-demo", token=answer["access_token"])
    assert status == 200 and project["name"] == "projects/123456789012" and "parent" not in project


def test_bad_grant_is_an_oauth_error(gcp_sandbox: GcpSandbox) -> None:
    form = urllib.parse.urlencode({"grant_type": "password"}).encode()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{gcp_sandbox.url}/token", data=form, timeout=10)
    assert json.loads(caught.value.read())["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("token", [None, "not-a-token", "ya29.sbx.YWRh.0000.forged"])
def test_requests_without_a_valid_token_are_401(gcp_sandbox: GcpSandbox, token: str | None) -> None:
    status, body = call(f"{gcp_sandbox.url}/v1/projects/robot-ml-demo/services", token=token)
    assert status == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["details"][0]["reason"] in {"CREDENTIALS_MISSING", "ACCESS_TOKEN_TYPE_UNSUPPORTED"}


def test_disabled_api_answers_service_disabled_with_google_body(gcp_sandbox: GcpSandbox) -> None:
    gcp_sandbox.project("robot-ml-demo")["services"]["cloudbilling.googleapis.com"] = "DISABLED"
    status, body = call(f"{gcp_sandbox.url}/v1/projects/robot-ml-demo/billingInfo", token=issue_token(ADA))
    assert status == 403
    error = body["error"]
    assert error["status"] == "PERMISSION_DENIED"
    info = error["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == "SERVICE_DISABLED" and info["domain"] == "googleapis.com"
    assert info["metadata"]["service"] == "cloudbilling.googleapis.com"
    assert info["metadata"]["consumer"] == "projects/123456789012"
    assert error["message"].startswith("Cloud Billing API has not been used in project 123456789012 before")


def test_always_on_apis_answer_even_if_the_scenario_says_disabled(gcp_sandbox: GcpSandbox) -> None:
    gcp_sandbox.project("robot-ml-demo")["services"]["serviceusage.googleapis.com"] = "DISABLED"
    status, _ = call(f"{gcp_sandbox.url}/v1/projects/robot-ml-demo/services", token=issue_token(ADA))
    assert status == 200


def test_enable_operation_flips_state_after_polls(gcp_sandbox: GcpSandbox) -> None:
    token = issue_token(ADA)
    base = f"{gcp_sandbox.url}/v1/projects/123456789012/services"
    status, op = call(f"{base}/container.googleapis.com:enable", "POST", {}, token)
    assert status == 200 and not op.get("done")
    assert call(f"{base}/container.googleapis.com", token=token)[1]["state"] == "DISABLED"

    def finished() -> Any:
        body = call(f"{gcp_sandbox.url}/v1/{op['name']}", token=token)[1]
        return body if body.get("done") else None

    final = wait_for(finished)
    assert final["response"]["service"]["state"] == "ENABLED"
    assert call(f"{base}/container.googleapis.com", token=token)[1]["state"] == "ENABLED"


def test_test_iam_permissions_returns_the_granted_subset(gcp_sandbox: GcpSandbox) -> None:
    """Ada's roles (Editor, Project IAM Admin) decide; Kubeflow's RBAC permission is not among them."""
    wanted = ["container.clusters.create", "container.clusterRoles.create", "resourcemanager.projects.setIamPolicy"]
    status, body = call(
        f"{gcp_sandbox.url}/v3/projects/robot-ml-demo:testIamPermissions",
        "POST",
        {"permissions": wanted},
        issue_token(ADA),
    )
    assert status == 200 and body == {
        "permissions": ["container.clusters.create", "resourcemanager.projects.setIamPolicy"]}
    assert gcp_sandbox.world.checked == []  # a question about permissions is not a call that needs them


def test_set_iam_policy_checks_the_etag_and_grants_the_roles_permissions(gcp_sandbox: GcpSandbox) -> None:
    base, token = f"{gcp_sandbox.url}/v1/projects/robot-ml-demo", issue_token(ADA)
    status, policy = call(f"{base}:getIamPolicy", "POST", {"options": {"requestedPolicyVersion": 3}}, token)
    assert status == 200 and policy["version"] == 1 and policy["etag"] and policy["bindings"]
    grant = {"role": "roles/container.admin", "members": [f"serviceAccount:{ADA}"]}
    stale = {**policy, "bindings": [*policy["bindings"], grant]}
    status, changed = call(f"{base}:setIamPolicy", "POST", {"policy": stale}, token)
    assert status == 200 and grant in changed["bindings"] and changed["etag"] != policy["etag"]
    status, body = call(f"{base}:setIamPolicy", "POST", {"policy": stale}, token)  # the old etag again
    assert status == 409 and body["error"]["status"] == "ABORTED"
    status, body = call(f"{base}:setIamPolicy", "POST",
                        {"policy": {"bindings": [{"role": "roles/viewer", "members": ["ada"]}]}}, token)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    status, body = call(f"{gcp_sandbox.url}/v3/projects/robot-ml-demo:testIamPermissions", "POST",
                        {"permissions": ["container.clusterRoles.create"]}, token)
    assert body == {"permissions": ["container.clusterRoles.create"]}
    assert ("robot-ml-demo", "resourcemanager.projects.setIamPolicy") in gcp_sandbox.world.checked


def test_set_iam_policy_needs_the_permission(gcp_sandbox: GcpSandbox) -> None:
    status, body = call(f"{gcp_sandbox.url}/v1/projects/robot-ml-sandbox:setIamPolicy", "POST",
                        {"policy": {"bindings": []}}, issue_token(ADA))
    assert status == 403 and body["error"]["details"][0]["metadata"]["permission"] == (
        "resourcemanager.projects.setIamPolicy")


def test_unknown_operation_is_404(gcp_sandbox: GcpSandbox) -> None:
    status, body = call(f"{gcp_sandbox.url}/v3/operations/cp.nope", token=issue_token(ADA))
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"


def _gcloud(*args: str) -> Any:
    done = subprocess.run(
        ["gcloud", *args, "--format=json"], capture_output=True, text=True, env=os.environ.copy(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud CLI not installed")
def test_gcloud_configured_by_write_env_answers_offline(gcloud_env: dict[str, str], gcp_sandbox: GcpSandbox) -> None:
    assert _gcloud("auth", "list") == [{"account": ADA, "status": "ACTIVE"}]
    config = _gcloud("config", "list")
    assert config["core"]["project"] == "robot-ml-demo" and config["core"]["account"] == ADA
    assert config["api_endpoint_overrides"]["compute"] == f"{gcp_sandbox.url}/compute/v1/"
    assert config["api_endpoint_overrides"]["serviceusage"] == f"{gcp_sandbox.url}/"
    project = _gcloud("projects", "describe", "robot-ml-demo")
    assert project["projectNumber"] == "123456789012" and project["lifecycleState"] == "ACTIVE"
    billing = _gcloud("billing", "projects", "describe", "robot-ml-demo")
    assert billing["billingEnabled"] is True
    assert gcp_sandbox.world.sent("POST", "/token"), "gcloud fetched its token from the sandbox"


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud CLI not installed")
def test_real_gcloud_add_iam_policy_binding_reads_then_sets(gcloud_env: dict[str, str], gcp_sandbox: GcpSandbox) -> None:
    """The command the Permissions step prints, run by the real gcloud: getIamPolicy, then setIamPolicy with its etag."""
    policy = _gcloud("projects", "add-iam-policy-binding", "robot-ml-demo", f"--member=serviceAccount:{ADA}",
                     "--role=roles/container.admin")
    assert {"role": "roles/container.admin", "members": [f"serviceAccount:{ADA}"]} in policy["bindings"]
    gets, sets = gcp_sandbox.world.sent("POST", ":getIamPolicy"), gcp_sandbox.world.sent("POST", ":setIamPolicy")
    assert len(gets) == 1 and len(sets) == 1 and sets[0].body["policy"]["etag"]
    again = _gcloud("projects", "get-iam-policy", "robot-ml-demo")
    assert again["bindings"] == policy["bindings"] and again["etag"] == policy["etag"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud CLI not installed")
def test_gcloud_sees_the_hidden_project_as_forbidden(gcloud_env: dict[str, str]) -> None:
    done = subprocess.run(
        ["gcloud", "projects", "describe", "acme-prod-ml"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "acme-prod-ml" in done.stderr and "permission" in done.stderr.lower()
