"""`kftui runs local` as a user runs it: a child kfp.local run, every task's state and log lines, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "train_pipeline_local.py"
TASKS = ["download-data", "train", "evaluate", "notify"]


def kftui(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "kftui", *args], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
    )


def test_local_run_completes_with_each_tasks_log_and_is_listed(tmp_path: Path) -> None:
    out = kftui(
        "runs", "local", "examples/train_pipeline_local.py", "--param", "epochs=3", "-p", "samples=50", state=tmp_path
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [ln.split()[1] for ln in lines if ln.startswith("▶ ")] == TASKS
    assert [ln for ln in lines if ln.startswith("✓ ") and "SUCCEEDED" in ln and "pipeline" not in ln] == [
        f"✓ {task} SUCCEEDED" for task in TASKS
    ]
    assert any(ln.startswith("[download-data] wrote 50 samples") for ln in lines)
    assert [ln.split(" loss")[0] for ln in lines if ln.startswith("[train] epoch ")] == [
        "[train] epoch 0",
        "[train] epoch 1",
        "[train] epoch 2",
    ]
    assert any(ln.startswith("[notify] grasp-net trained on 50 samples") for ln in lines)
    assert not any("[KFP Executor" in ln or "@@kftui" in ln for ln in lines)  # chatter stays in the log file
    assert "  download-data.Output = 50" in lines
    assert any(ln.startswith("✓ pipeline SUCCEEDED in ") for ln in lines)
    # each task's log lines come between its start and its end, not all at the end
    first_epoch = next(i for i, ln in enumerate(lines) if ln.startswith("[train] epoch 0"))
    assert lines.index("▶ train started") < first_epoch < lines.index("✓ train SUCCEEDED")
    listed = kftui("runs", "local", "--list", "--json", state=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [record] = json.loads(listed.stdout)
    assert record["state"] == "SUCCEEDED" and record["tasks"] == dict.fromkeys(TASKS, "SUCCEEDED")
    assert record["parameters"] == {"epochs": "3", "samples": "50"}
    assert "[KFP Executor" in Path(record["log"]).read_text(encoding="utf-8")


def test_local_run_failure_exits_1_with_the_tasks_error(tmp_path: Path) -> None:
    out = kftui("runs", "local", str(EXAMPLE), "-p", "fail=true", "-p", "epochs=2", state=tmp_path)
    assert out.returncode == 1
    assert "✗ train FAILED: RuntimeError: CUDA out of memory (simulated: fail=true)" in out.stdout
    assert "[train] RuntimeError: CUDA out of memory (simulated: fail=true)" in out.stdout
    assert "✗ pipeline FAILED" in out.stdout
    listed = kftui("runs", "local", "--list", state=tmp_path)
    assert listed.stdout.split()[1] == "FAILED"


def test_local_without_a_pipeline_is_a_usage_error(tmp_path: Path) -> None:
    out = kftui("runs", "local", state=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("kftui: give a PIPELINE file")
    missing = kftui("runs", "local", "nope.py", state=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip() == "kftui: no pipeline file at nope.py"


def test_container_pipeline_says_why_in_one_line_and_points_to_the_local_variant(tmp_path: Path) -> None:
    result = kftui("runs", "local", "examples/train_pipeline.py", state=tmp_path)
    assert result.returncode == 1
    summary = [line for line in result.stdout.splitlines() if line.startswith("✗ pipeline FAILED")]
    assert len(summary) == 1 and "examples/train_pipeline_local.py (its local variant)" in summary[0]
    assert "SubprocessRunner only supports" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
