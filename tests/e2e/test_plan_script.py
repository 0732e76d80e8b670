"""The script `kftui deploy --plan-only` writes, run as a person runs it: real bash, the real gcloud and kubectl,
pointed at the sandbox (gcloud through CLOUDSDK_API_ENDPOINT_OVERRIDES_*, kubectl through the KUBECONFIG gcloud
writes). It must do what `kftui deploy` does, Dex password included, and stop in one line when it cannot."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from kftui.core.plan import DEX_DEFAULT_HASH
from kftui.sandbox import Sandbox
from tests.deploy_world import MINI, PROJECT, ZONE, assert_google_login, ready_scenario, seed_oauth2_proxy
from tests.release_data import EXAMPLE

MISSING = [tool for tool in ("bash", "kubectl", "gcloud") if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(MISSING), reason=f"the plan script runs the real {', '.join(MISSING)}, not on PATH"),
]
PASSWORD = "correct-horse-42-battery"
CONTEXT = f"gke_{PROJECT}_{ZONE}_kubeflow"
PLAN = ["--project", PROJECT, "--zone", ZONE, "--gpu", "nvidia-tesla-t4", "--gpu-count", "1", "--max-gpu-nodes", "2"]
HERE = str(Path(sys.executable).parent)
"""This checkout's virtualenv: its python3 has bcrypt (a dev dependency), the tool the script hashes with."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Sandbox, dict[str, str]]]:
    sb = Sandbox(ready_scenario(tmp_path / "scenario"), tmp_path / "work")
    env = {**os.environ, **sb.start(), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": f"{HERE}{os.pathsep}{os.environ['PATH']}"}
    env.pop("KFTUI_DEX_PASSWORD", None)
    try:
        yield sb, env
    finally:
        sb.stop()


def plan_script(env: dict[str, str], target: Path, *flags: str) -> Path:
    """What `kftui deploy --plan-only` prints, saved as the person would save it."""
    done = subprocess.run([sys.executable, "-m", "kftui", "deploy", "--plan-only", *PLAN, *flags], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    target.write_text(done.stdout)
    return target


def run(script: Path, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    """`bash plan.sh` without a terminal (so the password comes from the environment, or not at all)."""
    return subprocess.run(["bash", str(script)], env={**env, **extra}, cwd=script.parent, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)


def dex_hash(sb: Sandbox) -> str:
    secret = sb.kube.state.get("secrets", "auth", "dex-passwords")
    assert secret is not None
    data: dict[str, Any] = secret.get("data") or {}
    return base64.b64decode(data["DEX_USER_PASSWORD"]).decode()


def cluster_creates(sb: Sandbox) -> list[Any]:
    return [r for r in sb.gcp.state.sent("POST", "/clusters") if r.path.endswith("/clusters")]


def tools_except(tmp_path: Path, *left_out: str, python: str | None = None) -> str:
    """A PATH with only the tools the script names (links), minus some: what a machine without them has."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wanted = ["bash", "awk", "base64", "cut", "grep", "gzip", "mktemp", "sed", "sort", "rm", "cat", "head", "tail",
              "tr", "wc", "basename", "cp", "seq", "gcloud", "kubectl", "dirname", "env", "uname", "readlink"]
    for tool in wanted:
        found = shutil.which(tool)
        if tool not in left_out and found:
            (bin_dir / tool).symlink_to(found)
    if python:
        (bin_dir / "python3").symlink_to(python)
    return str(bin_dir)


def test_the_script_runs_to_done_and_never_while_the_default_login_stands(
        world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    sb, env = world
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(MINI))

    first = run(script, env)  # no password: Kubeflow is installed, but the script does not end done
    assert first.returncode == 1, first.stdout[-2000:] + first.stderr[-2000:]
    assert "Dex still has its default login user@example.com / 12341234" in first.stderr
    assert "KFTUI_DEX_PASSWORD" in first.stderr and "Kubeflow is running" not in first.stdout
    assert dex_hash(sb) == DEX_DEFAULT_HASH
    assert "component kubeflow-mini: waiting for 1 CRDs to be established" in first.stdout
    assert "component kubeflow-mini: 10 applied" in first.stdout and "ready: all 3 deployments" in first.stdout

    again = run(script, env, KFTUI_DEX_PASSWORD=PASSWORD)  # the same script continues where it stopped
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    out = again.stdout
    assert "cluster kubeflow: exists, skipped" in out and "node pool gpu-pool: exists, skipped" in out
    assert "password: read and hashed with python3-bcrypt" in out
    assert "password: Dex's password for user@example.com replaced (bcrypt)" in out
    assert f"Kubeflow is running on {CONTEXT}" in out and "kftui forward dashboard" in out
    assert PASSWORD not in out + again.stderr + script.read_text()

    # what the cluster holds afterwards, read from the sandbox itself
    assert len(cluster_creates(sb)) == 1
    pool = sb.gcp.state.sent("POST", "/nodePools")
    assert len(pool) == 1 and pool[0].body["nodePool"]["config"]["accelerators"][0]["acceleratorType"] == \
        "nvidia-tesla-t4"
    kube = sb.kube.state
    for namespace, name in (("kubeflow", "ml-pipeline"), ("auth", "dex")):
        assert kube.get("deployments", namespace, name) is not None, name
    assert kube.get("profiles", None, "kubeflow-user-example-com") is not None  # the CR after its CRD
    hashed = dex_hash(sb)
    assert hashed != DEX_DEFAULT_HASH and hashed.startswith("$2")
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    dex = kube.get("deployments", "auth", "dex")
    assert dex is not None
    assert "kubectl.kubernetes.io/restartedAt" in dex["spec"]["template"]["metadata"].get("annotations", {})


def test_the_real_release_rendered_runs_to_done(world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"real release fixture {EXAMPLE.name} is absent (expected in {EXAMPLE.parent})")
    sb, env = world
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(EXAMPLE))
    done = run(script, env, KFTUI_DEX_PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    name = f"component rendered {EXAMPLE.name}"
    assert f"{name}: waiting for 74 CRDs to be established" in out and f"{name}: 675 applied" in out
    assert "carries Istio's default CNI" in out  # said, not hidden
    assert "ready: all" in out and f"Kubeflow is running on {CONTEXT}" in out
    kube = sb.kube.state
    assert kube.get("clusterservingruntimes", None, "kserve-sklearnserver") is not None  # past KServe's webhook
    assert kube.get("deployments", "kubeflow", "ml-pipeline") is not None
    assert kube.get("profiles", None, "kubeflow-user-example-com") is not None
    assert bcrypt.checkpw(PASSWORD.encode(), dex_hash(sb).encode())


def test_a_missing_kubectl_stops_the_script_before_anything_is_created(
        world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    sb, env = world
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(MINI))
    done = run(script, env, PATH=tools_except(tmp_path, "kubectl", python=sys.executable),
               KFTUI_DEX_PASSWORD=PASSWORD)
    assert done.returncode == 2
    assert done.stderr.strip() == "plan: kubectl is needed and is not on PATH (gcloud components install kubectl)"
    assert cluster_creates(sb) == []


def test_a_missing_bcrypt_tool_is_named_before_anything_is_created(
        world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    sb, env = world
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(MINI))
    done = run(script, env, PATH=tools_except(tmp_path), KFTUI_DEX_PASSWORD=PASSWORD)  # no python3, no htpasswd
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "plan: a bcrypt tool is needed to replace Dex's default password, and none was found: python3 is not on "
        "PATH (pip install bcrypt), and htpasswd is not on PATH (apt-get install apache2-utils)")
    assert cluster_creates(sb) == []


def test_a_weak_password_is_refused_by_the_deploys_rule(world: tuple[Sandbox, dict[str, str]],
                                                        tmp_path: Path) -> None:
    sb, env = world
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(MINI))
    done = run(script, env, KFTUI_DEX_PASSWORD="onlylettersherexx")
    assert done.returncode == 2
    assert done.stderr.strip() == ("plan: KFTUI_DEX_PASSWORD: Dex password must be at least 12 characters, mixing "
                                   "letters with digits or symbols, and not the default 12341234.")
    assert cluster_creates(sb) == []


def test_a_cluster_that_refuses_an_object_stops_the_script_after_bounded_retries(
        world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    sb, env = world
    own = tmp_path / "own"
    own.mkdir()
    (own / "kustomization.yaml").write_text("resources:\n- widget.yaml\n")
    (own / "widget.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
                                     "  namespace: default\n")  # a kind no CRD serves
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(own))
    done = run(script, env, KFTUI_DEX_PASSWORD=PASSWORD)
    assert done.returncode == 1
    assert 'no matches for kind "Widget" in version "example.com/v1"' in done.stderr
    assert "plan: component own did not apply after 6 attempts (kubectl's words above)" in done.stderr
    assert done.stdout.count("component own: applying 1 objects") == 6  # bounded: six attempts, then one line
    assert "Kubeflow is running" not in done.stdout and len(cluster_creates(sb)) == 1  # the cluster stays


def test_the_oauth_steps_client_signs_people_in_with_google_as_the_deploy_does(
        world: tuple[Sandbox, dict[str, str]], tmp_path: Path) -> None:
    """With an OAuth client from the OAuth step, the script points oauth2-proxy at Google exactly as `kftui deploy`
    does (the same Secret, ConfigMap and Deployment edit); the secret is read from the environment, never written
    into the script, and without it the script stops before anything is created."""
    sb, env = world
    client_id = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
    client_secret = "GOCSPX-scriptSecretValue0123456789"
    remember = ("from kftui.settings import load_state, save_state; s = load_state(); "
                f"s.answers['oauth_client_id'] = {client_id!r}; save_state(s)")
    subprocess.run([sys.executable, "-c", remember], env=env, check=True, timeout=60)
    script = plan_script(env, tmp_path / "plan.sh", "--manifests", str(MINI))
    assert client_id in script.read_text() and client_secret not in script.read_text()

    refused = run(script, env, KFTUI_DEX_PASSWORD=PASSWORD)  # no secret, no terminal: one line, nothing created
    assert refused.returncode == 2, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert "KFTUI_OAUTH_CLIENT_SECRET" in refused.stderr and "nothing was created" in refused.stderr
    assert not cluster_creates(sb)

    kube = sb.kube.state
    seed_oauth2_proxy(kube)
    done = run(script, env, KFTUI_DEX_PASSWORD=PASSWORD, KFTUI_OAUTH_CLIENT_SECRET=client_secret)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"login: Google through oauth2-proxy (client {client_id})" in done.stdout
    assert "sign in with your Google account" in done.stdout
    assert client_secret not in done.stdout + done.stderr
    assert_google_login(kube, client_id, client_secret)
    assert bcrypt.checkpw(PASSWORD.encode(), dex_hash(sb).encode())  # and Dex's default replaced, as the deploy
