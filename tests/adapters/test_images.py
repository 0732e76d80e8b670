"""Custom notebook images checked against a registry speaking the V2 API, and pull secrets that make them pullable."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cluster.images import check_image, overrides, secret_credentials
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.pullsecret import apply_pull_secret, ecr_refresh_cronjob
from kftui.core.images import parse_reference
from kftui.sandbox.base import Served
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube
from tests.adapters.registry_fixtures import running_registry

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def registry() -> Iterator[Served]:
    with running_registry() as served:
        yield served


@pytest.fixture
def table(registry: Served) -> dict[str, str]:
    return overrides(registry.extra["KFTUI_REGISTRY_OVERRIDES"])


def test_the_web_apps_default_image_passes(table: dict[str, str]) -> None:
    assert check_image("ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:latest", table=table).ok


def test_kubeflow_image_passes_every_notebook_check(table: dict[str, str]) -> None:
    report = check_image("kubeflownotebookswg/jupyter-scipy:v1.9.0", table=table)
    assert report.ok, report
    assert report.image == "docker.io/kubeflownotebookswg/jupyter-scipy:v1.9.0"
    assert [c.status for c in report.checks] == ["pass", "pass", "pass"]
    assert report.digest.startswith("sha256:")


def test_a_desktop_image_is_told_what_it_lacks(table: dict[str, str]) -> None:
    report = check_image("tiryoh/ros2-desktop-vnc:humble", table=table)
    assert not report.ok
    by_status = {c.status: c.message for c in reversed(report.checks)}
    assert "does not expose 8888/tcp (exposes: 6080/tcp)" in by_status["fail"]
    assert any("runs as root" in c.message for c in report.checks)
    assert any("NB_PREFIX" in c.message and c.status == "warn" for c in report.checks)


def test_private_ecr_image_cannot_be_checked_without_credentials_and_says_why(table: dict[str, str]) -> None:
    report = check_image(f"{ECR}/robotics/jupyter-ros:1.4", table=table)
    assert (report.ok, report.error_kind) == (False, "auth")
    assert "is private (or does not exist): cannot check it without credentials" in report.error


def test_private_image_checks_with_the_right_credentials_and_refuses_wrong_ones(table: dict[str, str]) -> None:
    good = check_image(f"{ECR}/robotics/jupyter-ros:1.4", ("AWS", "sandbox-ecr-password"), table)
    assert good.error == ""
    assert any("NB_PREFIX" in c.message and c.status == "warn" for c in good.checks)
    bad = check_image(f"{ECR}/robotics/jupyter-ros:1.4", ("AWS", "expired"), table)
    assert "refused the credentials" in bad.error


def test_missing_tag_and_unreachable_registry_are_named(table: dict[str, str]) -> None:
    missing = check_image("kubeflownotebookswg/jupyter-scipy:v0.0.0", table=table)
    assert (missing.error_kind, "MANIFEST_UNKNOWN: manifest unknown" in missing.error) == ("missing", True)
    gone = check_image("ghcr.io/org/image:1", table={"ghcr.io": "http://127.0.0.1:9"})
    assert gone.error_kind == "transport"
    assert "ghcr.io (http://127.0.0.1:9) did not answer" in gone.error


@pytest.mark.parametrize(("text", "message"), [("UPPER/case", "lower-case"), ("a b", "no spaces"),
                                              ("x@sha256:12", "64 hex"), ("x:bad tag", "no spaces")])
def test_bad_references_name_the_broken_part(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_reference(text)


def test_references_normalise_like_docker() -> None:
    assert str(parse_reference("ubuntu")) == "docker.io/library/ubuntu:latest"
    assert parse_reference("localhost:5000/a/b:1").registry == "localhost:5000"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def test_pull_secret_is_made_attached_and_read_back(kube: KubeSandbox, table: dict[str, str]) -> None:
    client = api_client(path=kube.kubeconfig)
    assert apply_pull_secret(client, PROFILE, "ecr-pull", ECR, "AWS", "sandbox-ecr-password") is True
    assert apply_pull_secret(client, PROFILE, "ecr-pull", ECR, "AWS", "sandbox-ecr-password") is False
    sa = kube.world.get("serviceaccounts", PROFILE, "default-editor")
    assert sa is not None
    assert sa["imagePullSecrets"] == [{"name": "ecr-pull"}]
    secret: dict[str, Any] = kube.world.get("secrets", PROFILE, "ecr-pull") or {}
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"][ECR]["username"] == "AWS"
    assert secret_credentials(client, PROFILE, "ecr-pull", ECR) == ("AWS", "sandbox-ecr-password")
    report = check_image(f"{ECR}/robotics/jupyter-ros:1.4", secret_credentials(client, PROFILE, "ecr-pull", ECR),
                         table)
    assert report.error == ""


def test_ecr_cronjob_renews_before_the_12_hours_run_out() -> None:
    text = ecr_refresh_cronjob(PROFILE, "ecr-pull", ECR)
    assert 'schedule: 0 */8 * * *' in text
    assert "aws ecr get-login-password --region us-east-1" in text
    assert "--docker-username=AWS" in text


def _kftui(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kftui", *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, **env}, timeout=120)


def test_cli_image_check_and_pull_secret_as_a_user_types_them(kube: KubeSandbox, registry: Served) -> None:
    env = {"KUBECONFIG": str(kube.kubeconfig), "KFTUI_REGISTRY_OVERRIDES": registry.extra["KFTUI_REGISTRY_OVERRIDES"]}
    image = f"{ECR}/robotics/jupyter-ros:1.4"
    before = _kftui(["image", "check", image], env)
    assert before.returncode == 1
    assert f"kftui pullsecret create NAME --registry {ECR} -n NAMESPACE" in before.stdout
    wrong_user = _kftui(["pullsecret", "create", "ecr-pull", "--registry", ECR, "--username", "admin",
                         "--password-stdin"], env, "x\n")
    assert wrong_user.returncode == 2
    assert "takes the user 'AWS'" in wrong_user.stderr
    made = _kftui(["pullsecret", "create", "ecr-pull", "--registry", ECR, "--password-stdin"], env,
                  "sandbox-ecr-password\n")
    assert made.returncode == 0, made.stderr
    assert "ECR passwords expire after 12 hours" in made.stdout
    after = _kftui(["image", "check", image, "--pull-secret", "ecr-pull", "--json"], env)
    data = json.loads(after.stdout)
    assert data["error"] == ""
    assert [c["status"] for c in data["checks"]] == ["pass", "pass", "warn"]  # no NB_PREFIX in its command
    assert after.returncode == 0


def test_an_unlisted_host_goes_to_the_catch_all_and_is_unknown_there(table: dict[str, str]) -> None:
    report = check_image("quay.io/org/notebook:1", table=table)
    assert report.error_kind == "auth"  # a registry answers "authentication required" for a name it does not know
    assert "quay.io" in report.error
