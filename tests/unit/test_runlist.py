"""The runs view's model: each poll replaces the rows, a submitted run is filed at once, filters are one pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kftui.core.runlist import LOCAL, RunsModel, item_key
from kftui.core.runs import LocalRunRecord, RunRow, RunState

T0 = datetime(2026, 4, 12, 10, 0, tzinfo=UTC)


def run(rid: str, minutes: int, state: RunState = RunState.SUCCEEDED, experiment: str = "Default") -> RunRow:
    return RunRow(rid, f"run-{rid}", experiment, state, T0 + timedelta(minutes=minutes), None, None)


def local(rid: str, minutes: int) -> LocalRunRecord:
    return LocalRunRecord(id=rid, pipeline="p.py", parameters={}, state=RunState.RUNNING,
                          started=T0 + timedelta(minutes=minutes), finished=None, root="root", log_path="log")


def test_a_poll_replaces_the_rows_newest_first_and_the_latest_state_wins() -> None:
    model = RunsModel()
    model.replace([run("a", 1), run("b", 3), local("a", 2)])
    assert model.visible() == ["run:b", "local:a", "run:a"]  # a local and a server run may share an id
    model.replace([run("a", 1, RunState.FAILED), run("c", 5)])
    assert model.visible() == ["run:c", "run:a"]
    assert model.items["run:a"].state is RunState.FAILED


def test_filters_are_views_over_the_model() -> None:
    model = RunsModel()
    model.replace([run("a", 1, RunState.RUNNING, "x"), run("b", 2, RunState.FAILED, "x"), run("c", 3, experiment="y"),
                   local("l", 4)])
    assert model.visible(frozenset({RunState.RUNNING}), None) == ["local:l", "run:a"]
    assert model.visible(None, "x") == ["run:b", "run:a"]
    assert model.visible(frozenset({RunState.RUNNING}), "x") == ["run:a"]
    assert model.experiments() == [LOCAL, "x", "y"]


def test_a_submitted_run_is_filed_at_once_and_the_cache_follows() -> None:
    model = RunsModel()
    model.replace([run("a", 1)])
    before = model.visible()
    key = model.put(run("new", 9, RunState.PENDING))
    assert key == item_key(run("new", 9)) == "run:new"
    assert before == ["run:a"] and model.visible() == ["run:new", "run:a"]
    assert len(model) == 2
