"""The demo story rehearses the real journey: each fix doctor shows, run as printed with the real gcloud (and
kftui's own commands), turns its check green, until nothing blocks the deploy."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.core.plan import DEFAULT_RELEASE, MANIFESTS_REPO_ENV
from kftui.sandbox import Sandbox
from tests.deploy_world import MINI

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="needs the real gcloud CLI"),
]
ZONE, GPU = "us-central1-a", "nvidia-l4"
CONTACT = "ada.lovelace@example.com"
"""The person the quota fix names: the demo identity is a service account, so kftui takes the project's owner
from its IAM policy (Google needs a person to write to about a quota request)."""


def mirror(where: Path) -> str:
    """A git mirror of kubeflow/manifests holding the small test kustomization at the release tag, so the deploy
    command runs as printed without the network (KFTUI_MANIFESTS_REPO, as an air-gapped site sets it)."""
    shutil.copytree(MINI, where)
    if not (where / "example").is_dir():  # a checkout of the release has it (kftui never applies it on GKE)
        (where / "example").mkdir()
        (where / "example" / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
    git = ["git", "-C", str(where), "-c", "user.name=kftui", "-c", "user.email=kftui@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "mini"], ["tag", DEFAULT_RELEASE]):
        subprocess.run([*git, *args], check=True, capture_output=True, timeout=60)
    return where.as_uri()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, str]]:
    sb = Sandbox("demo", tmp_path / "work")
    env = {**os.environ, **sb.start(), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), MANIFESTS_REPO_ENV: mirror(tmp_path / "manifests"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    try:
        yield env
    finally:
        sb.stop()


def run(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    """A command as a person would paste it; `kftui` is this checkout's."""
    argv = shlex.split(command)
    if argv[0] == "kftui":
        argv = [sys.executable, "-m", "kftui", *argv[1:]]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)


def doctor(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    done = run(env, f"kftui doctor --json --gpu {GPU} --zone {ZONE}")
    assert done.returncode in (0, 1), done.stderr
    return {c["id"]: c for c in json.loads(done.stdout)["checks"]}


def first_command(check: dict[str, Any]) -> str:
    return next(f["command"] for f in check["fixes"] if f.get("command"))


def test_every_fix_the_demo_shows_works_as_printed(demo: dict[str, str]) -> None:
    before = doctor(demo)
    failing = sorted(i for i, c in before.items() if c["status"] == "fail")
    assert failing == ["apis.enabled", "deploy.checks", "iam.permissions", "quota.gpus-all-regions"], failing

    for check in ("apis.enabled", "iam.permissions"):
        command = first_command(before[check])
        assert command.startswith("gcloud "), command
        done = run(demo, command)
        assert done.returncode == 0, f"{command}: {done.stderr}"

    request = first_command(before["quota.gpus-all-regions"])
    assert request.startswith("kftui quota request ") and request.endswith(f"--email {CONTACT} --yes"), request
    done = run(demo, request)  # exactly as printed: no placeholder to fill in
    assert done.returncode == 0, done.stderr
    for _ in range(10):  # Google decides in its own time; `kftui quota status` follows the request
        status = run(demo, "kftui quota status --project robot-ml-demo --json")
        assert status.returncode == 0, status.stderr
        if all(r["state"] == "granted" for r in json.loads(status.stdout)):
            break
    assert json.loads(status.stdout)[0]["state"] == "granted"

    after = doctor(demo)
    still = sorted(i for i, c in after.items() if c["status"] == "fail")
    assert still == [], {i: after[i]["message"] for i in still}
    deploy = first_command(after["deploy.script"])
    assert deploy.startswith("kftui deploy --yes "), deploy
    # The deploy refuses to end green with Dex's default login: a person sets a password first, as it tells them.
    demo = {**demo, "KFTUI_DEX_PASSWORD": "robot-arms-2026!"}
    started = run(demo, deploy)  # exactly as printed (the mirror holds a small kustomization: no network)
    assert "the plan is refused" not in started.stdout, started.stdout
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr
    assert "BLOCKED" not in started.stdout and "Kubeflow is running" in started.stdout, started.stdout[-3000:]
