"""Bad input on the command line: one line naming the field and the rule, exit 2, no traceback, no screen."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest


def kftui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "kftui", *args], capture_output=True, text=True, timeout=90,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def one_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr, done.stderr
    assert all(w in done.stderr for w in words), done.stderr


def test_unknown_scenario() -> None:
    one_line(kftui("demo", "--scenario", "nope"), "--scenario", "'nope'", "built-in: demo")


def test_unknown_context(sandbox_env: dict[str, str]) -> None:
    one_line(kftui("watch", "--context", "nope"), "--context", "'nope'", "kftui-sandbox")


@pytest.mark.parametrize("prefetch", ["1", "0"], ids=["asked-by-the-prefetch-child", "asked-in-process"])
def test_unknown_namespace(sandbox_env: dict[str, str], sandbox: Any, prefetch: str) -> None:
    one_line(kftui("watch", "-n", "nope", env={"KFTUI_PREFETCH": prefetch}), "--namespace", "no namespace 'nope'")


@pytest.mark.parametrize("name", ["Bad_Name", "x" * 64, "-a"])
def test_impossible_namespace_names(name: str) -> None:
    one_line(kftui("watch", "-n", name), "--namespace", "is not a namespace name")


@pytest.mark.parametrize(("args", "words"), [
    (("doctor", "--gpu", "nvidia-tesla-t4", "--gpu-count", "99999999999999999999"), ("GPUs per node must be at most 16",)),
    (("deploy", "--plan-only", "--project", "robot-ml-demo", "--zone", "us-central1-a", "--gpu", "none",
      "--release", "v9.9.9"), ("Kubeflow release", "26.03, v1.11.0", "'v9.9.9'")),
    (("deploy", "--plan-only", "--project", "robot-ml-demo", "--zone", "us-central1-a", "--gpu", "none",
      "--manifests", "/nonexistent-kftui-manifests"), ("--manifests", "/nonexistent-kftui-manifests")),
])
def test_numbers_releases_and_directories(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    one_line(kftui(*args), *words)
