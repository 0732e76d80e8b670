"""Local runs: the example pipeline runs under kfp.local in a child process; states and logs come back."""

from pathlib import Path

from kftui.core.runs import LocalEvent, LocalEventKind, RunState
from kftui.pipelines.local import list_local_runs, parse_line, start_local_run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_pipeline_local.py"
TASKS = ["download-data", "train", "evaluate", "notify"]


def _by_task(events: list[LocalEvent], kind: LocalEventKind) -> dict[str, LocalEvent]:
    return {e.task: e for e in events if e.kind is kind and e.task}


def test_example_runs_to_completion_with_task_states_and_logs(tmp_path: Path) -> None:
    seen: list[LocalEvent] = []
    run = start_local_run(EXAMPLE, {"epochs": "3", "samples": "50"}, tmp_path)
    assert [r.state for r in list_local_runs(tmp_path)] == [RunState.RUNNING]  # listed at once
    events = list(run.events(on_event=seen.append))
    assert events == seen
    kinds = [e.kind for e in events if e.kind not in (LocalEventKind.LOG, LocalEventKind.RUNNER)]
    runner = [e.line for e in events if e.kind is LocalEventKind.RUNNER]
    # nothing is pip-installed by these components, so kfp's per-task virtualenv (which would lack kfp) is skipped
    assert runner[0] == "SubprocessRunner(use_venv=False)"
    assert all(e.task is None for e in events if e.kind is LocalEventKind.RUNNER)
    assert kinds[0] is LocalEventKind.PIPELINE_START and kinds[-2:] == [LocalEventKind.PIPELINE_END, LocalEventKind.OUTPUTS]
    starts = [e.task for e in events if e.kind is LocalEventKind.TASK_START]
    assert starts == TASKS
    ends = _by_task(events, LocalEventKind.TASK_END)
    assert {t: e.state for t, e in ends.items()} == dict.fromkeys(TASKS, RunState.SUCCEEDED)
    assert ends["download-data"].outputs["Output"] == "50"
    assert ends["notify"].outputs["Output"].startswith("'grasp-net trained on 50 samples")
    logs = [e for e in events if e.kind is LocalEventKind.LOG]
    train_lines = [e.line for e in logs if e.task == "train"]
    assert [ln.split(" loss")[0] for ln in train_lines if ln.startswith("epoch ")] == ["epoch 0", "epoch 1", "epoch 2"]
    assert any(e.line.startswith("wrote 50 samples") for e in logs if e.task == "download-data")
    assert all(not e.line.startswith("@@kftui") for e in logs)
    [record] = list_local_runs(tmp_path)
    assert record.state is RunState.SUCCEEDED and record.finished is not None
    assert record.tasks == dict.fromkeys(TASKS, RunState.SUCCEEDED)
    assert record.parameters == {"epochs": "3", "samples": "50"}
    assert "epoch 2 loss" in Path(record.log_path).read_text(encoding="utf-8")
    assert list(Path(record.root).rglob("ckpt-002.json"))  # the checkpoints landed under the run's root


def test_failing_task_reports_failed_with_its_last_log_line(tmp_path: Path) -> None:
    run = start_local_run(f"{EXAMPLE}:grasp_local", {"epochs": "4", "fail": "true"}, tmp_path)
    record = run.wait()
    assert record.state is RunState.FAILED and "train" in record.error
    assert record.tasks == {"download-data": RunState.SUCCEEDED, "train": RunState.FAILED}


def test_failing_task_event_carries_the_exception(tmp_path: Path) -> None:
    run = start_local_run(EXAMPLE, {"epochs": "2", "fail": "true"}, tmp_path)
    ends = _by_task(list(run.events()), LocalEventKind.TASK_END)
    assert ends["train"].state is RunState.FAILED
    assert ends["train"].error == "RuntimeError: CUDA out of memory (simulated: fail=true)"


def test_bad_parameter_fails_fast_with_the_reason(tmp_path: Path) -> None:
    record = start_local_run(EXAMPLE, {"epochs": "many"}, tmp_path).wait()
    assert record.state is RunState.FAILED
    assert "epochs='many' is not a valid Integer" in record.error


def test_stop_cancels_and_keeps_it_listed(tmp_path: Path) -> None:
    run = start_local_run(EXAMPLE, {"epochs": "2"}, tmp_path)
    run.stop()
    assert run.process.poll() is not None
    [record] = list_local_runs(tmp_path)
    assert record.state is RunState.CANCELED and record.error == "stopped by the user"


def test_parse_line_shapes() -> None:
    start = parse_line('@@kftui {"event": "task_start", "task": "train", "state": "RUNNING", "attempt": 2}\n')
    assert start == LocalEvent(LocalEventKind.TASK_START, task="train", state=RunState.RUNNING, attempt=2)
    line = parse_line('@@kftui {"event": "log", "task": "square[1]", "line": "  epoch 1 loss 0.2"}\n')
    assert line == LocalEvent(LocalEventKind.LOG, task="square[1]", line="  epoch 1 loss 0.2")  # its own indent kept
    runner = parse_line('@@kftui {"event": "runner", "line": "INFO Cleaned up"}\n')
    assert runner == LocalEvent(LocalEventKind.RUNNER, line="INFO Cleaned up")
    assert parse_line("Traceback (most recent call last):\n") == LocalEvent(
        LocalEventKind.RUNNER, line="Traceback (most recent call last):"
    )  # the child's own output, never a task's
    assert parse_line("   \n") is None
    assert list_local_runs(Path("/nonexistent")) == []
