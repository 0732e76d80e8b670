"""A dozen KFP v2 sample pipelines (tests/e2e/samples) run twice: with `kftui runs local` and with plain kfp.local.
Both must agree on the outcome and on the pipeline's outputs; kftui must also say which task printed what.

Each run starts a Python process per task (all twelve, both ways, take about 40 s on one core);
KFTUI_SAMPLES=name,name runs only some.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest

from kftui.commands.runs import run_local
from kftui.core.runs import LocalEventKind
from kftui.pipelines.local import start_local_run
from kftui.pipelines.params import load_pipeline_object, split_target

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).resolve().parent / "samples"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# (target, parameters, succeeds, pipeline outputs kftui prints)
CASES: dict[str, tuple[str, dict[str, str], bool, dict[str, str]]] = {
    "hello": ("hello.py", {"name": "robot"}, True, {"Output": "hello robot"}),
    "sequential": ("sequential.py", {"n": "5"}, True, {"Output": "11"}),
    "condition": ("condition.py", {"n": "3"}, True, {}),
    "nested_conditions": ("nested_conditions.py", {"n": "7"}, True, {}),
    "loop_parallel": ("loop_parallel.py", {}, True, {"Output": "1400"}),
    "loop_over_param": ("loop_over_param.py", {"words": '["pick", "place"]'}, True, {}),
    "exit_handler": ("exit_handler.py", {"epochs": "2"}, True, {}),
    "retries": ("retries.py", {}, True, {"Output": "ok"}),
    "metrics": ("metrics.py", {}, True, {"Output": "0.875"}),
    "artifacts": ("artifacts.py", {"rows": "6"}, True, {"Output": "6"}),
    "failing": ("failing.py", {}, False, {}),
    "nested_pipeline": ("nested_pipeline.py:outer", {"x": "1"}, True, {"Output": "12"}),
}
CHOSEN = sorted(set(filter(None, os.environ.get("KFTUI_SAMPLES", "").split(","))) or set(CASES))


def _params(name: str, tmp_path: Path) -> dict[str, str]:
    params = dict(CASES[name][1])
    if name == "retries":
        params["scratch"] = str(tmp_path / "scratch")
    return params


def _printed_outputs(text: str) -> dict[str, str]:
    """The `pipeline outputs` section kftui prints."""
    lines = ANSI.sub("", text).splitlines()
    if "pipeline outputs" not in lines:
        return {}
    out = {}
    for line in lines[lines.index("pipeline outputs") + 1 :]:
        if not line.startswith("  ") or " = " not in line:
            break
        key, _, value = line.strip().partition(" = ")
        out[key] = value
    return out


def _plain_kfp_local(target: str, params: dict[str, str], root: Path) -> tuple[bool, dict[str, str]]:
    """The same pipeline with kfp.local directly, as its docs show (SubprocessRunner, this environment)."""
    import json

    from kfp import local

    path, name = split_target(str(SAMPLES / target))
    pipeline = load_pipeline_object(path, name)
    typed: dict[str, Any] = {}
    for key, value in params.items():
        try:
            typed[key] = json.loads(value)
        except ValueError:
            typed[key] = value
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    try:
        task = pipeline(**typed)
    except RuntimeError:
        return False, {}
    return True, {k: str(v) for k, v in dict(task.outputs or {}).items()}


@pytest.mark.parametrize("name", CHOSEN)
def test_sample_has_the_same_outcome_and_outputs_with_kftui_and_plain_kfp_local(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, _, succeeds, outputs = CASES[name]
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = io.StringIO()
    code = run_local(str(SAMPLES / target), [f"{k}={v}" for k, v in _params(name, tmp_path).items()], out=out)
    printed = out.getvalue()
    assert code == (0 if succeeds else 1), printed
    assert _printed_outputs(printed) == outputs, printed
    if name == "retries":
        (tmp_path / "scratch" / "tried").unlink()  # the plain run starts from a first attempt too
    plain_ok, plain_outputs = _plain_kfp_local(target, _params(name, tmp_path), tmp_path / "plain")
    assert plain_ok is succeeds
    assert plain_outputs == outputs


def test_parallel_loop_attributes_every_line_to_its_iteration(tmp_path: Path) -> None:
    """Three iterations print at once; each line lands on the iteration that printed it, never the last started."""
    run = start_local_run(SAMPLES / "loop_parallel.py", {}, tmp_path)
    events = list(run.events())
    assert run.record.state.name == "SUCCEEDED"
    starts = [e.task for e in events if e.kind is LocalEventKind.TASK_START]
    assert sorted(t for t in starts if t and t.startswith("work")) == ["work[0]", "work[1]", "work[2]"]
    value_of = {"work[0]": 10, "work[1]": 20, "work[2]": 30}
    lines = [e for e in events if e.kind is LocalEventKind.LOG and e.line.startswith("item=")]
    assert len(lines) == 12
    for event in lines:
        assert event.task is not None and event.line.startswith(f"item={value_of[event.task]} "), event
    ends = {e.task: e.outputs.get("Output") for e in events if e.kind is LocalEventKind.TASK_END}
    assert {t: ends[t] for t in value_of} == {"work[0]": "100", "work[1]": "400", "work[2]": "900"}
    assert not any(e.kind is LocalEventKind.LOG and e.task is None for e in events)


def test_retried_task_is_numbered_by_attempt(tmp_path: Path) -> None:
    run = start_local_run(SAMPLES / "retries.py", {"scratch": str(tmp_path / "scratch")}, tmp_path / "state")
    events = list(run.events())
    starts = [(e.task, e.attempt) for e in events if e.kind is LocalEventKind.TASK_START]
    assert starts == [("flaky", 1), ("flaky", 2)]
    ends = [(e.task, e.state.name if e.state else "", e.attempt) for e in events if e.kind is LocalEventKind.TASK_END]
    assert ends == [("flaky", "FAILED", 1), ("flaky", "SUCCEEDED", 2)]


def test_container_pipeline_is_refused_in_one_line_pointing_to_the_local_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    example = Path(__file__).resolve().parents[2] / "examples" / "train_pipeline.py"
    out = io.StringIO()
    assert run_local(str(example), [], out=out) == 1
    text = ANSI.sub("", out.getvalue())
    [summary] = [line for line in text.splitlines() if line.startswith("✗ pipeline FAILED")]
    assert "train_pipeline.py has container components" in summary
    assert "train_pipeline_local.py (its local variant)" in summary
    assert "SubprocessRunner only supports" not in text
