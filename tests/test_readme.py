"""The README tells the truth: every command it shows is found here and tried as written (placeholders filled in),
against a sandbox of its own, or left out with the reason said."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from kftui.cli import cli
from tests.helpers import tool, wait_for

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
QUOTA_TEXT = "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally."

NOT_RUN = {
    "make demo": "opens the full-screen app on a terminal; tests/e2e/test_demo_tmux.py drives `kftui demo` in tmux",
    "make test": "is this test suite plus ruff and mypy; a test cannot run the suite it is part of",
    "make test-fast": "is this test suite without e2e; a test cannot run the suite it is part of",
    "make bench": "prints timings (bench/), which are measurements, not pass/fail checks",
    "kftui": "opens the full-screen app; tests/ui runs it in-process, here its --help is checked",
    "kftui setup": "opens the full-screen wizard; tests/ui/test_setup_screen.py runs it, here --help is checked",
    "kftui watch": "opens the full-screen cockpit; tests/ui/test_watch_screen.py runs it, here --help is checked",
    "kftui quota request": "is the story's quota fix; test_quota_request_then_status runs it as the table shows it,"
                           " and tests/e2e/test_demo_fixes.py runs the fix doctor prints",
    "kftui deploy --yes": "creates a cluster; tests/e2e/test_demo_fixes.py runs it after the story's fixes, and"
                          " tests/adapters/test_deploy_cli.py runs it against the sandbox",
    "kubectl exec -it": "is what `s` runs in the watch screen; tests/adapters/test_cluster_forward.py runs that command"
                        " line with the real kubectl (stdin piped)",
    "kubectl logs -f": "needs a pod name; tests/sandbox/test_kube_api.py follows a pod with the real kubectl",
    "python docs/screenshots.py": "rewrites docs/*.svg in the checkout; tests/ui's snapshots cover those screens",
    "pytest -m \"not e2e\"": "runs the suite this test is part of; test_e2e_marker_selects_the_e2e_tests checks it",
}
"""Commands the README shows that a test does not run as written, and why."""

RUN = {
    "kftui doctor", "kftui explain [TEXT] [--json]", "python -m kftui.sandbox --workdir DIR --env sh",
    "kubectl get pods -A", "pytest -m e2e",
    "kftui doctor [--project P] [--json] [--gpu TYPE --gpu-count N [--zone Z] [--max-gpu-nodes N]]",
    "kftui quota status [--project P] [--json]", "kftui runs list|submit PIPELINE|local PIPELINE [--param k=v ...]",
    "kftui quota request --project P --gpu TYPE --region R|global --count N --email E [--yes] [--json]",
    "kftui demo [--mode setup|watch] [--scenario NAME|DIR]",
    "kftui watch [--context CTX] [-n NAMESPACE] [--kubeconfig F] [--kfp-host URL]",
    "kftui logs [POD_REGEX] [-l SELECTOR] [-n NS|-A] [--context C] [-c CONTAINER_REGEX] [--since D] [--tail N]"
    " [--timestamps] [--no-follow] [--json]",
    "kftui notebook create|stop|start|delete|watch NAME [-n NS] [--image IMAGE] [--gpu N] [--gpu-type T]",
    "kftui forward dashboard|notebook NAME|tensorboard NAME|svc/NAME|pod/NAME [-n NS] [--local-port N]",
    "kftui image check IMAGE [--pull-secret NAME] [--json]",
    "kftui pullsecret create NAME --registry HOST [--username U --password-stdin|--json-key FILE|--from-gcloud]",
    "kftui deploy [--project P] [--zone Z] [--cluster NAME] [--gpu TYPE] [--gpu-count N] [--max-gpu-nodes N]"
    " [--release TAG] [--manifests DIR] [--ready-timeout S] [--plan-only] [--yes] [--destroy]",
}
"""Commands (or synopses from the command table) a test below runs or checks against the real command line."""

COMMAND = re.compile(r"^(kftui|python -m kftui\S*|python \S+\.py|kubectl \S|make \S|pytest \S)")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def shown_commands(text: str) -> list[str]:
    """Every command the README shows: lines of its shell blocks, its table's first column, inline code."""
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        found += [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    for raw in re.findall(r"`([^`\n]+)`", text):
        span = raw.replace("\\|", "|").strip()
        if COMMAND.match(span) and span not in found:
            found.append(span)
    return found


def synopses(text: str) -> list[str]:
    """The command table's first column (`| `kftui ...` | what it does |`), pipes unescaped."""
    return [m.replace("\\|", "|") for m in re.findall(r"^\| `(kftui[^`]*)`", text, flags=re.M)]


def command_of(synopsis: str) -> tuple[list[click.Command], list[str]]:
    """The click commands a synopsis names (`runs list|submit ...` names three) and the options it shows."""
    words = synopsis.split()[1:]
    group: click.Command = cli
    commands: list[click.Command] = []
    while words and isinstance(group, click.Group) and not words[0].startswith(("[", "-")):
        names = words.pop(0).split("|")
        ctx = click.Context(group)
        found = [group.get_command(ctx, n) for n in names]
        assert all(found), f"{synopsis}: no command among {names}"
        commands = [c for c in found if c is not None]
        group = commands[0]
        if len(commands) > 1:
            break
    options = re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", synopsis)
    return commands or [cli], options


def test_every_shown_command_is_tried_or_excused() -> None:
    shown = shown_commands(readme())
    assert "make demo" in shown and "python -m kftui.sandbox --workdir DIR --env sh" in shown  # the parser sees them
    untried = [c for c in shown if c not in RUN and c not in NOT_RUN]
    assert untried == [], f"README commands no test tries (add a test, or a reason to NOT_RUN): {untried}"
    gone = [c for c in [*RUN, *NOT_RUN] if c not in shown]
    assert gone == [], f"commands tried here that the README no longer shows: {gone}"


@pytest.mark.parametrize("synopsis", synopses(readme()))
def test_each_table_synopsis_names_real_commands_and_options(synopsis: str) -> None:
    commands, options = command_of(synopsis)
    for option in options:
        owners = [c for c in commands if any(option in p.opts for p in c.params)]
        assert owners, f"{synopsis}: {option} is not an option of {[c.name for c in commands]}"
    for command in commands:
        out = run("kftui", *synopsis_path(synopsis, command), "--help")
        assert out.returncode == 0 and out.stdout.startswith("Usage: "), out.stderr


def synopsis_path(synopsis: str, command: click.Command) -> list[str]:
    """The words that reach a command from a synopsis (`quota request`, `runs local`)."""
    words = [w.split("|") for w in synopsis.split()[1:3]]
    if command is cli:
        return []
    if len(words) > 1 and command.name in words[1]:
        return [words[0][0], str(command.name)]
    return [str(command.name)]


def run(*argv: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A README command as a person types it: `kftui` and `python` are this interpreter's."""
    args = list(argv)
    if args[0] == "kftui":
        args = [sys.executable, "-m", "kftui", *args[1:]]
    elif args[0] == "python":
        args = [sys.executable, *args[1:]]
    return subprocess.run(
        args, capture_output=True, text=True, env={**os.environ, **(env or {})}, input=stdin, timeout=180, cwd=ROOT
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A sandbox of this module's own (the quota request below changes its world)."""
    from kftui.sandbox import Sandbox

    sb = Sandbox("demo", tmp_path_factory.mktemp("readme-sandbox"))
    sb.start()
    yield sb
    sb.stop()


def test_every_command_in_help_has_a_table_row() -> None:
    listed = run("kftui", "--help").stdout.partition("\nCommands:\n")[2]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    documented = {s.split()[1] for s in synopses(readme()) if len(s.split()) > 1}
    assert len(names) >= 8 and [n for n in names if n not in documented] == []


def test_logs_prints_a_pods_lines_and_exits(world: Any) -> None:
    out = run("kftui", "logs", "train-resnet", "-A", "--no-follow", "--json", env=world.env)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines and {line["pod"] for line in lines} == {"train-resnet-0"}, lines[:3]


def test_explain_argument_stdin_and_json() -> None:
    text = run("kftui", "explain", QUOTA_TEXT)
    assert text.returncode == 0 and text.stdout.startswith("No GPU quota: GPUS_ALL_REGIONS is 0"), text.stdout
    piped = run("kftui", "explain", stdin=QUOTA_TEXT)
    assert piped.returncode == 0 and piped.stdout == text.stdout
    as_json = run("kftui", "explain", QUOTA_TEXT, "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["cause"] == "quota-exceeded"
    unknown = run("kftui", "explain", "the printer is on fire")
    assert unknown.returncode == 1  # "exit 1 if unknown"


def test_doctor_table_and_json_on_the_sandbox_story(world: Any) -> None:
    tool("gcloud")
    table = run("kftui", "doctor", env=world.env)
    assert table.returncode == 1, table.stderr  # the story: an API disabled, a permission missing
    assert "✖" in table.stdout and "✔" in table.stdout
    report = run("kftui", "doctor", "--project", "robot-ml-demo", "--json", env=world.env)
    assert report.returncode == 1
    checks = {c["id"]: c["status"] for c in json.loads(report.stdout)["checks"]}
    assert checks["apis.enabled"] == "fail" and checks["project.access"] == "pass"
    gpu = run("kftui", "doctor", "--json", "--gpu", "nvidia-tesla-t4", "--gpu-count", "1", "--zone", "us-central1-a",
              "--max-gpu-nodes", "2", env=world.env)
    assert gpu.returncode == 1
    quota = next(c for c in json.loads(gpu.stdout)["checks"] if c["id"] == "quota.region-gpus")
    assert "The plan needs 2 (2 node(s) x 1 x nvidia-tesla-t4)" in quota["message"]


def test_quota_request_then_status(world: Any) -> None:
    state = world.gcp.state
    with state.lock:  # the story's missing permission would refuse the request: grant it in this module's world
        state.scenario["projects"]["robot-ml-demo"]["iam"].update(granted=["*"], denied=[])
    filed = run("kftui", "quota", "request", "--project", "robot-ml-demo", "--gpu", "nvidia-tesla-t4", "--region",
                "us-central1", "--count", "1", "--email", "ada@example.com", "--yes", "--json", env=world.env)
    assert filed.returncode == 0, filed.stderr
    request = json.loads(filed.stdout)
    assert request["quota_id"] == "NVIDIA-T4-GPUS-per-project-region" and request["preferred_value"] == 1
    assert request["dimensions"] == {"region": "us-central1"} and request["state"] == "pending"
    status = run("kftui", "quota", "status", "--project", "robot-ml-demo", "--json", env=world.env)
    assert status.returncode == 0, status.stderr
    assert [(r["name"], r["state"]) for r in json.loads(status.stdout)] == [(request["name"], "pending")]


def test_runs_list_on_the_sandbox(world: Any) -> None:
    listed = run("kftui", "runs", "list", env=world.env)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0][:4] == ["ID", "NAME", "EXPERIMENT", "STATE"]
    assert {(r[1], r[3]) for r in rows[1:]} >= {("train-grasp-net", "FAILED"), ("train-grasp-net-baseline", "SUCCEEDED")}


def test_deploy_plan_only_prints_a_script(world: Any) -> None:
    plan = run("kftui", "deploy", "--project", "robot-ml-demo", "--zone", "us-central1-a", "--gpu", "nvidia-tesla-t4",
               "--gpu-count", "1", "--max-gpu-nodes", "2", "--plan-only", env=world.env)
    assert plan.returncode == 0, plan.stderr
    assert "gcloud container clusters create kubeflow" in plan.stdout


def test_demo_and_watch_refuse_bad_input_in_one_line() -> None:
    mode = run("kftui", "demo", "--mode", "sideways")
    assert mode.returncode == 2 and len(mode.stderr.strip().splitlines()) == 1 and "--mode" in mode.stderr
    watch = run("kftui", "watch", "--kubeconfig", str(ROOT / "no-such-kubeconfig"))
    assert watch.returncode == 1 and "does not exist" in watch.stderr


def test_sandbox_env_sh_then_kubectl_and_doctor(tmp_path: Path) -> None:
    tool("gcloud")  # the sandbox's gcloud configuration and doctor's account step need it
    kubectl = tool("kubectl")
    workdir = tmp_path / "DIR"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kftui.sandbox", "--workdir", str(workdir), "--env", "sh"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")) if proc.stdout else None)
    reader.start()
    try:
        wanted = ("export KF_PIPELINES_ENDPOINT=", "export KFTUI_REGISTRY_OVERRIDES=")  # the last two it prints
        wait_for(lambda: all(any(ln.startswith(w) for ln in list(lines)) for w in wanted), timeout=120,
                 what="the export lines")
        shown = list(lines)
        assert shown[0].startswith("# ") and all(ln.startswith("export ") for ln in shown[1:]), shown
        script = tmp_path / "env.sh"
        script.write_text("".join(shown), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
        sourced = subprocess.run(["sh", "-c", f". {shlex.quote(str(script))} && env"], capture_output=True,
                                 text=True, env=env, timeout=30, check=True).stdout
        exported = dict(ln.split("=", 1) for ln in sourced.splitlines() if "=" in ln)
        assert Path(exported["KUBECONFIG"]) == workdir / "kubeconfig"
        assert Path(exported["GOOGLE_APPLICATION_CREDENTIALS"]).is_file()
        doctor = run("kftui", "doctor", "--json", env=exported)
        assert doctor.returncode == 1 and json.loads(doctor.stdout)["project"] == "robot-ml-demo", doctor.stderr
        pods = subprocess.run([kubectl, "get", "pods", "-A"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "KUBECONFIG": exported["KUBECONFIG"]})
        assert pods.returncode == 0 and "gpu-notebook-0" in pods.stdout, pods.stderr
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
        proc.wait(timeout=60)
        reader.join(timeout=10)
    assert proc.returncode == 0


def test_sandbox_env_fish_and_json_are_the_same_environment() -> None:
    from kftui.sandbox.__main__ import announce

    env = {"KUBECONFIG": "/tmp/it's here/kubeconfig", "CLOUDSDK_CORE_PROJECT": "robot-ml-demo", "X": "a\\b"}
    assert json.loads(announce(env, "json")) == env
    assert announce(env, None) == "READY " + json.dumps(env)
    sh_lines = announce(env, "sh").splitlines()[1:]
    assert sh_lines[0] == "export KUBECONFIG='/tmp/it'\"'\"'s here/kubeconfig'"
    fish_lines = announce(env, "fish").splitlines()[1:]
    assert fish_lines == [
        "set -gx KUBECONFIG '/tmp/it\\'s here/kubeconfig'", "set -gx CLOUDSDK_CORE_PROJECT 'robot-ml-demo'",
        "set -gx X 'a\\\\b'",
    ]
    sourced = subprocess.run(["sh", "-c", "\n".join([*sh_lines, "printf %s \"$KUBECONFIG|$X\""])],
                             capture_output=True, text=True, timeout=30, check=True)
    assert sourced.stdout == "/tmp/it's here/kubeconfig|a\\b"


def test_sandbox_env_fish_lines_read_back_in_fish() -> None:
    from kftui.sandbox.__main__ import announce

    env = {"KUBECONFIG": "/tmp/it's here/kubeconfig", "X": "a\\b"}
    fish_lines = announce(env, "fish").splitlines()[1:]
    fish = tool("fish")
    back = subprocess.run([fish, "-c", "\n".join([*fish_lines, "printf %s \"$KUBECONFIG|$X\""])],
                          capture_output=True, text=True, timeout=30, check=True)
    assert back.stdout == "/tmp/it's here/kubeconfig|a\\b"


@pytest.mark.e2e
def test_e2e_marker_selects_the_e2e_tests() -> None:
    collected = run("python", "-m", "pytest", "-m", "e2e", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.stdout[-2000:]
    ids = [ln for ln in collected.stdout.splitlines() if "::" in ln]
    assert any(i.startswith("tests/e2e/test_runs_local.py::") for i in ids), "tests/e2e is marked by directory"
    assert any(i.startswith("tests/e2e/test_demo_tmux.py::") for i in ids)
    assert any(i.startswith("tests/test_cli.py::") for i in ids), "a test running `kftui` as a subprocess is e2e"
    assert not [i for i in ids if i.startswith("tests/unit/test_validate.py::")], "pure unit tests are not"
