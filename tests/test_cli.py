"""Command-line behaviour a new user meets first: help, version, and bad input as one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kftui


def kftui_cmd(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kftui", *args], capture_output=True, text=True, env=full_env, input=stdin, timeout=120
    )


def test_version() -> None:
    out = kftui_cmd("--version")
    assert out.returncode == 0
    assert kftui.__version__ in out.stdout


def help_commands(text: str) -> list[str]:
    """The command names in click's `Commands:` section (not words that happen to be in the description)."""
    _, found, section = text.partition("\nCommands:\n")
    assert found, text
    names = []
    for line in section.splitlines():
        if not line.startswith("  "):
            break
        names.append(line.split()[0])
    return names


def test_help_lists_the_commands() -> None:
    out = kftui_cmd("--help")
    assert out.returncode == 0
    listed = help_commands(out.stdout)
    assert set(listed) >= {"demo", "deploy", "doctor", "explain", "quota", "runs", "setup", "watch"}, listed
    assert len(listed) == len(set(listed))
    quota = kftui_cmd("quota", "--help")
    assert quota.returncode == 0 and set(help_commands(quota.stdout)) >= {"request", "status"}
    runs = kftui_cmd("runs", "--help")
    assert runs.returncode == 0 and set(help_commands(runs.stdout)) >= {"list", "local", "submit"}


def test_unknown_subcommand_is_one_clear_line() -> None:
    out = kftui_cmd("frobnicate")
    assert out.returncode == 2
    assert out.stderr.strip() == "kftui: No such command 'frobnicate'. (see 'kftui --help')"


def test_bad_flag_is_one_clear_line() -> None:
    out = kftui_cmd("watch", "--bogus")
    assert out.returncode == 2
    assert out.stderr.strip() == "kftui: No such option '--bogus'. (see 'kftui watch --help')"


def test_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    out = kftui_cmd("watch", "--kubeconfig", str(missing))
    assert out.returncode == 1
    assert out.stderr.strip() == f"kftui: kubeconfig {missing} does not exist"


def test_directory_as_kubeconfig_is_a_usage_error(tmp_path: Path) -> None:
    out = kftui_cmd("watch", "--kubeconfig", str(tmp_path))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "is a directory" in out.stderr


def test_garbage_kubeconfig_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "config"
    bad.write_text("apiVersion: v1\ncontexts: [\n  - name: x\n  : : :\n")
    out = kftui_cmd("watch", "--kubeconfig", str(bad))
    assert out.returncode == 1
    assert out.stderr.startswith(f"kftui: kubeconfig {bad} is not valid YAML (line ")
    assert len(out.stderr.strip().splitlines()) == 1


def test_kubeconfig_from_env_is_checked_too(tmp_path: Path) -> None:
    bad = tmp_path / "config"
    bad.write_text("- just\n- a list\n")
    out = kftui_cmd("watch", env={"KUBECONFIG": str(bad)})
    assert out.returncode == 1
    assert (
        out.stderr.strip() == f"kftui: kubeconfig {bad} is not a kubeconfig: expected a mapping with a 'contexts' list"
    )
