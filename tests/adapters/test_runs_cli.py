"""`kftui runs submit | list` against the fake KFP through the real kfp client: ids, states, one-line errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.commands.runs import run_list, run_submit
from kftui.errors import KftuiError, UsageError
from tests.adapters.kfp_fixtures import (
    FAILED_RUN,
    OLD_RUN,
    RUNNING_RUN,
    KfpSandbox,
    demo_scenario,
    start_kfp,
)
from tests.helpers import closed_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_pipeline.py"


@pytest.fixture
def kfp() -> Iterator[KfpSandbox]:
    """The demo KFP world, fresh for each test (submit adds runs)."""
    sandbox, stop = start_kfp(demo_scenario())
    try:
        yield sandbox
    finally:
        stop()


def test_list_prints_every_run_with_its_state(kfp: KfpSandbox) -> None:
    out = io.StringIO()
    assert run_list(kfp.url, as_json=False, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["ID", "NAME", "EXPERIMENT", "STATE", "AGE", "DURATION"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[FAILED_RUN][1:4] == ["train-grasp-net", "robot-grasping", "FAILED"]
    assert rows[OLD_RUN][3] == "SUCCEEDED" and rows[RUNNING_RUN][3] == "RUNNING"


def test_list_json_filters_by_state(kfp: KfpSandbox) -> None:
    out = io.StringIO()
    assert run_list(kfp.url, as_json=True, states=["failed"], out=out) == 0
    [run] = json.loads(out.getvalue())
    assert run["id"] == FAILED_RUN and run["state"] == "FAILED" and run["error"] == "failed tasks: train"
    assert run["duration_seconds"] == 40 * 60


def test_list_unknown_state_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown run state 'broken'"):
        run_list("http://127.0.0.1:1", as_json=False, states=["broken"])


def test_submit_prints_the_new_run_id_and_state(kfp: KfpSandbox) -> None:
    out = io.StringIO()
    code = run_submit(str(EXAMPLE), ["epochs=3"], "robot-grasping", kfp.url, run_name="cli-run", out=out)
    assert code == 0
    first = out.getvalue().splitlines()[0].split()
    assert first[0] == "run" and first[2] in {"PENDING", "RUNNING"}
    run = kfp.world.runs[first[1]]
    assert run.name == "cli-run"
    assert kfp.world.experiments[run.experiment_id].name == "robot-grasping"


def test_submit_bad_params_name_the_param_before_any_call() -> None:
    host = f"http://127.0.0.1:{closed_port()}"  # nothing listens: the check must come first
    with pytest.raises(UsageError, match="epochs='lots' is not a valid"):
        run_submit(str(EXAMPLE), ["epochs=lots"], "Default", host)
    with pytest.raises(UsageError, match=r"unknown pipeline parameter\(s\) epoch "):
        run_submit(str(EXAMPLE), ["epoch=3"], "Default", host)
    with pytest.raises(UsageError, match="'epochs' must look like name=value"):
        run_submit(str(EXAMPLE), ["epochs"], "Default", host)


def test_unreachable_api_is_one_line_naming_the_url() -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(KftuiError, match=f"cannot reach the pipelines API at {host}: connection refused"):
        run_list(host, as_json=False)


def test_submit_of_a_py_prints_no_library_warnings(kfp: KfpSandbox) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    result = subprocess.run(
        [sys.executable, "-m", "kftui", "runs", "submit", str(EXAMPLE), "--kfp-host", kfp.url],
        capture_output=True, text=True, env=env, timeout=120, cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no FutureWarning or DeprecationWarning from kfp on the user's terminal
    assert result.stdout.startswith("run ")


def test_submit_without_a_required_parameter_is_refused_before_any_call(tmp_path: Path) -> None:
    package = tmp_path / "needs.yaml"
    package.write_text(
        json.dumps(
            {
                "pipelineInfo": {"name": "needs"},
                "components": {"comp-a": {"executorLabel": "exec-a"}},
                "root": {
                    "dag": {"tasks": {"a": {"componentRef": {"name": "comp-a"}}}},
                    "inputDefinitions": {"parameters": {"epochs": {"parameterType": "NUMBER_INTEGER"}}},
                },
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(UsageError, match=r"the pipeline needs parameter\(s\) epochs \(no default\): pass -p epochs="):
        run_submit(str(package), [], "Default", f"http://127.0.0.1:{closed_port()}")
