"""A reused gcloud activation works as a real one: the real gcloud, pointed at a second sandbox, is that sandbox's
account, reads that sandbox's project with a token of that sandbox, and nothing in its files names the first."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox.gcp.common import token_identity
from kftui.sandbox.gcp.env import gcloud_env, write_env
from tests.adapters.gcp_fixtures import GcpSandbox, demo_scenario, start_sandbox

GCLOUD = shutil.which("gcloud")
pytestmark = [
    pytest.mark.skipif(GCLOUD is None, reason="the real gcloud is not on PATH"),
    pytest.mark.e2e,  # every test here runs the real gcloud (its activation, then its commands)
]
PROJECT = "robot-ml-demo"


@pytest.fixture
def worlds() -> Iterator[Callable[[dict[str, Any]], GcpSandbox]]:
    """Start fake GCPs on demand; all stopped at the end."""
    stops: list[Callable[[], None]] = []

    def start(scenario: dict[str, Any]) -> GcpSandbox:
        sandbox, stop = start_sandbox(scenario)
        stops.append(stop)
        return sandbox

    yield start
    for stop in stops:
        stop()


def scenario_of(identity: str) -> dict[str, Any]:
    """The demo world seen by an identity of its own (so this test makes the process's first activation of it)."""
    scenario = demo_scenario()
    scenario["identity"] = identity
    scenario["projects"][PROJECT]["iam"]["granted"] = ["*"]
    return scenario


def gcloud(env: dict[str, str], *args: str) -> Any:
    assert GCLOUD is not None
    done = subprocess.run([GCLOUD, *args, "--format=json", "--quiet"], env={**gcloud_env(Path(env["CLOUDSDK_CONFIG"])),
                          **env}, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tokens(sandbox: GcpSandbox) -> int:
    return len(sandbox.world.sent("POST", "/token"))


def activated_twice(worlds: Callable[[dict[str, Any]], GcpSandbox], tmp_path: Path,
                    prefix: str) -> tuple[str, GcpSandbox, GcpSandbox]:
    """A fresh identity, two sandboxes that know it, and its first (real) activation against the first one."""
    who = f"{prefix}-{secrets.token_hex(4)}@robot-ml-demo.iam.gserviceaccount.com"
    first, second = worlds(scenario_of(who)), worlds(scenario_of(who))
    write_env(first.url, tmp_path / "first", scenario_of(who), reuse=True)
    return who, first, second


def test_the_second_sandbox_of_an_identity_gets_a_copy_that_gcloud_uses_as_its_own(
    worlds: Callable[[dict[str, Any]], GcpSandbox], tmp_path: Path
) -> None:
    who, first, second = activated_twice(worlds, tmp_path, "reuse")
    assert tokens(first) >= 1, "the first activation is real: gcloud traded the key at the first sandbox"
    env = write_env(second.url, tmp_path / "second", scenario_of(who), reuse=True)
    assert tokens(second) == 0, "the second is a copy: no gcloud ran"
    config = Path(env["CLOUDSDK_CONFIG"])
    for path in config.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert str(tmp_path / "first").encode() not in data and first.url.encode() not in data, path
    key = json.loads(Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    legacy = json.loads((config / "legacy_credentials" / who / "adc.json").read_text())
    assert legacy["token_uri"] == key["token_uri"] == f"{second.url}/token"
    assert legacy["private_key_id"] == key["private_key_id"]

    assert gcloud(env, "auth", "list") == [{"account": who, "status": "ACTIVE"}]
    listed = gcloud(env, "config", "list")
    assert listed["core"]["account"] == who and listed["core"]["project"] == PROJECT
    assert listed["api_endpoint_overrides"]["compute"] == f"{second.url}/compute/v1/"
    before = len(first.world.requests)
    described = gcloud(env, "projects", "describe", PROJECT)
    assert described["projectNumber"] == "123456789012"
    assert second.world.sent("GET", f"/v1/projects/{PROJECT}") and len(first.world.requests) == before
    assert token_identity(gcloud(env, "auth", "print-access-token")["token"]) == who
    assert tokens(second) == 0, "gcloud used the copied access token as its own, with no refresh"


def test_a_revoked_key_is_refused_even_when_the_identity_was_activated_before(
    worlds: Callable[[dict[str, Any]], GcpSandbox], tmp_path: Path
) -> None:
    who = f"revoked-{secrets.token_hex(4)}@robot-ml-demo.iam.gserviceaccount.com"
    write_env(worlds(scenario_of(who)).url, tmp_path / "first", scenario_of(who), reuse=True)
    revoked = {**scenario_of(who), "revoked_keys": [who]}
    with pytest.raises(RuntimeError, match="activate-service-account failed"):
        write_env(worlds(revoked).url, tmp_path / "second", revoked, reuse=True)


def test_a_copy_that_would_still_name_the_first_sandboxs_url_falls_back_to_a_real_activation(
    worlds: Callable[[dict[str, Any]], GcpSandbox], tmp_path: Path
) -> None:
    from kftui.sandbox.gcp import env as sandbox_env

    who, _first, second = activated_twice(worlds, tmp_path, "stale")
    assert GCLOUD is not None
    template = sandbox_env._ACTIVATED[(GCLOUD, who)]
    template.files["notes"] = (f"token from {template.token_uri}\n".encode(), 0o600)  # a URL is not patched
    env = write_env(second.url, tmp_path / "second", scenario_of(who), reuse=True)
    assert tokens(second) >= 1, "gcloud activated the key at the second sandbox itself"
    config = Path(env["CLOUDSDK_CONFIG"])
    assert not (config / "notes").exists() and not config.with_name("gcloud.staging").exists()
    assert gcloud(env, "auth", "list") == [{"account": who, "status": "ACTIVE"}]
