"""The state store: one owner for state.json, no lost writes between writers, damaged files set aside."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kftui.errors import ConfigError
from kftui.settings import State, StateStore, default_store, load_state, state_path

DAMAGED = {
    "bad bytes": b'{"answers": {"project": "\xff\xfe"}}',
    "bad json": b'{"answers": {"project": "p"',
    "wrong types": b'{"setup_passed": "yes", "answers": {}}',
    "nested answer": b'{"answers": {"project": {"id": "p"}}}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep record": json.dumps({"quota_requests": [{"name": "n", "x": [[[[[[[[[[[1]]]]]]]]]]]}]}).encode(),
    "record without a name": b'{"quota_requests": [{"state": "pending"}]}',
}


def test_two_writers_keep_each_others_changes() -> None:
    """The app's store and a step's store (or another kftui process) both write; neither loses the other."""
    app, other = StateStore(state_path()), StateStore(state_path())
    app.remember(project="p-123456")
    other.remember(kube_context="gke_p_z_kubeflow")
    with other.change() as state:
        state.quota_requests.append({"name": "projects/p/locations/global/quotaPreferences/kftui-a"})
    app.remember(zone="us-central1-a")  # the app's in-memory copy is older than the file: the file wins
    final = load_state()
    assert final.answers == {"project": "p-123456", "kube_context": "gke_p_z_kubeflow", "zone": "us-central1-a"}
    assert [r["name"].rsplit("/", 1)[-1] for r in final.quota_requests] == ["kftui-a"]
    assert app.current == final


def test_concurrent_changes_from_threads_are_all_kept() -> None:
    store = default_store()

    def bump(worker: int) -> None:
        for i in range(15):
            with StateStore(state_path()).change() as state:  # a fresh store each time, like separate callers
                state.answers[f"w{worker}-{i}"] = i

    threads = [threading.Thread(target=bump, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(store.read().answers) == 6 * 15


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_a_damaged_file_is_set_aside_and_said_in_one_line(name: str) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DAMAGED[name])
    store = StateStore(path)
    assert store.read() == State()
    problems = store.take_problems()
    assert len(problems) == 1 and "\n" not in problems[0] and "Kept it as" in problems[0], problems
    kept = list(path.parent.glob("state.json.bad-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == DAMAGED[name]
    store.remember(project="p-123456")  # the next write starts fresh and leaves the kept copy alone
    assert load_state().answers == {"project": "p-123456"} and kept[0].read_bytes() == DAMAGED[name]
    assert store.take_problems() == []


def test_a_file_that_cannot_be_read_is_left_alone_and_writes_refuse(tmp_path: Path) -> None:
    """A state path that is a directory (or unreadable) is never replaced: reading says so, writing raises."""
    path = tmp_path / "state.json"
    path.mkdir()
    store = StateStore(path)
    assert store.read() == State()
    assert any("cannot read" in p for p in store.take_problems())
    with pytest.raises(ConfigError, match="cannot read"), store.change() as state:
        state.answers["project"] = "p-123456"
    assert path.is_dir()


def test_a_memory_store_never_touches_the_disk() -> None:
    store = StateStore(None, initial=State(answers={"project": "p-123456"}))
    store.remember(zone="us-central1-a")
    assert store.read().answers == {"project": "p-123456", "zone": "us-central1-a"}
    assert not state_path().exists()


def test_the_apps_copy_never_overwrites_what_a_step_wrote() -> None:
    """The app and its steps share one store: a step's write (the deploy's context) survives the app's next save."""
    from kftui.app import KftuiApp
    from kftui.steps.base import StepContext, store_of

    app = KftuiApp(mode="setup", persist=True)
    app.remember(project="p-123456")
    step_ctx = StepContext(answers=dict(app.state.answers), services=app.services)
    assert store_of(step_ctx) is app.store
    store_of(step_ctx).remember(kube_context="gke_p-123456_us-central1-a_kubeflow")  # as the deploy step does
    app.state.setup_passed = True
    app.save_state()
    app.remember(zone="us-central1-a")
    final = load_state()
    assert final.setup_passed is True
    assert final.answers == {"project": "p-123456", "kube_context": "gke_p-123456_us-central1-a_kubeflow",
                             "zone": "us-central1-a"}
    assert app.state.answers["kube_context"] == "gke_p-123456_us-central1-a_kubeflow"
