"""Runs through kftui's adapter and the real kfp client against the sandbox: rows, task trees, actions, submit."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.core.runs import RunDetail, RunState, map_pods_to_nodes
from kftui.errors import UsageError
from kftui.pipelines.client import PipelinesClient, connect
from kftui.pipelines.runs import (
    archive_run,
    get_run,
    list_runs,
    retry_run,
    submit_run,
    terminate_run,
)
from tests.adapters.kfp_fixtures import FAILED_RUN, OLD_RUN, RUNNING_RUN, KfpSandbox, kfp_sandbox, wait_for

__all__ = ["kfp_sandbox"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _finished(client: PipelinesClient, run_id: str, state: RunState) -> RunDetail | None:
    detail = get_run(client, run_id)
    return detail if detail.row.state is state else None


@pytest.fixture
def client(kfp_sandbox: KfpSandbox) -> Iterator[PipelinesClient]:
    yield connect(kfp_sandbox.url)


def test_rows_newest_first_with_states_experiment_and_durations(client: PipelinesClient) -> None:
    rows = list_runs(client)
    assert [r.id for r in rows] == [RUNNING_RUN, FAILED_RUN, OLD_RUN]
    assert [r.state for r in rows] == [RunState.RUNNING, RunState.FAILED, RunState.SUCCEEDED]
    assert {r.experiment for r in rows} == {"robot-grasping"}
    running, failed, old = rows
    assert running.finished is None and running.duration is None  # KFP's 1970 placeholder is not a time
    assert failed.duration is not None and round(failed.duration.total_seconds()) == 40 * 60
    assert old.created is not None and old.created.tzinfo is not None


def test_filter_by_state_and_experiment(client: PipelinesClient) -> None:
    assert [r.id for r in list_runs(client, states=[RunState.FAILED])] == [FAILED_RUN]
    both = list_runs(client, states=[RunState.FAILED, RunState.SUCCEEDED], experiment="robot-grasping")
    assert {r.id for r in both} == {FAILED_RUN, OLD_RUN}
    with pytest.raises(UsageError, match=r"no experiment named 'nope'.*robot-grasping"):
        list_runs(client, experiment="nope")


def test_failed_run_tree_points_at_the_failing_task(client: PipelinesClient) -> None:
    detail = get_run(client, FAILED_RUN)
    assert [t.name for t in detail.tasks] == ["download-data", "train", "evaluate", "notify"]  # drivers folded in
    [failing] = detail.failed_tasks()
    assert failing.name == "train" and failing.error == ""  # real task_details carry no error: the log does
    assert failing.duration is not None and failing.duration.total_seconds() == 32 * 60
    wf = "training-pipeline-x7k2q"
    assert failing.pods == ((f"{wf}.root.train.executor", "launcher"), (f"{wf}.root.train-driver", "driver"))
    assert detail.parameters["epochs"] == 40
    skipped = [t.name for t in detail.walk() if t.state is RunState.SKIPPED]
    assert skipped == ["evaluate", "notify"]  # Argo Omitted: the API leaves their state out


def test_pods_map_to_nodes_by_node_name_and_runtime_role() -> None:
    wf = "train-grasp-net-x7k2p"
    labels = {"pipeline/runid": FAILED_RUN}

    def pod(name: str, node: str, role: str | None, run_labels: dict[str, str] = labels) -> dict[str, object]:
        annotations = {"workflows.argoproj.io/node-name": node}
        if role:
            annotations["pipelines.kubeflow.org/runtime-role"] = role
        return {"name": name, "labels": run_labels, "annotations": annotations}

    pods = [
        pod(f"{wf}-system-container-driver-111", f"{wf}.root.train-driver", "driver"),
        pod(f"{wf}-retry-system-container-impl-222", f"{wf}.root.train.executor(0)", "launcher"),
        pod(f"{wf}-retry-system-container-impl-333", f"{wf}.root.train.executor(1)", "launcher"),
        pod(f"{wf}-system-container-impl-444", f"{wf}.root.download-data.executor", None),
        pod("other-run-system-container-impl-555", "other.root.train.executor", "launcher", {"pipeline/runid": OLD_RUN}),
    ]
    mapped = map_pods_to_nodes(FAILED_RUN, pods)
    assert mapped == {
        (f"{wf}.root.train-driver", "driver"): f"{wf}-system-container-driver-111",
        (f"{wf}.root.train.executor(0)", "launcher"): f"{wf}-retry-system-container-impl-222",
        (f"{wf}.root.train.executor(1)", "launcher"): f"{wf}-retry-system-container-impl-333",
        (f"{wf}.root.download-data.executor", "launcher"): f"{wf}-system-container-impl-444",
    }


def test_terminate_retry_archive_change_state(client: PipelinesClient) -> None:
    terminate_run(client, RUNNING_RUN)
    wait_for(lambda: get_run(client, RUNNING_RUN).row.state is RunState.CANCELED)
    retry_run(client, FAILED_RUN)
    assert get_run(client, FAILED_RUN).row.state in {RunState.RUNNING, RunState.SUCCEEDED}
    done = wait_for(lambda: _finished(client, FAILED_RUN, RunState.SUCCEEDED))
    assert done.failed_tasks() == [] and {t.state for t in done.walk()} == {RunState.SUCCEEDED}
    archive_run(client, OLD_RUN)
    assert OLD_RUN not in {r.id for r in list_runs(client)}
    assert next(r for r in list_runs(client, include_archived=True) if r.id == OLD_RUN).archived


def test_submit_compiled_yaml_creates_a_run(client: PipelinesClient, kfp_sandbox: KfpSandbox, tmp_path: Path) -> None:
    from kftui.pipelines.runs import compile_pipeline

    package = compile_pipeline(EXAMPLES / "train_pipeline.py", tmp_path / "train.yaml")
    run_id = submit_run(client, package, params={"epochs": "3"}, experiment="robot-grasping", run_name="yaml-run")
    rows = {r.id: r for r in list_runs(client)}
    assert rows[run_id].name == "yaml-run" and rows[run_id].experiment == "robot-grasping"
    assert kfp_sandbox.world.runs[run_id].parameters == {"epochs": 3}  # typed from the spec, not "3"
    done = wait_for(lambda: _finished(client, run_id, RunState.SUCCEEDED))
    names = [t.name for t in done.tasks]
    assert names[0] == "createpvc"  # the shared volume exists before any step runs
    assert set(names) == {"createpvc", "download-data", "train", "evaluate", "notify", "deletepvc"}


def test_example_carries_the_volume_pull_secret_and_gpu(tmp_path: Path) -> None:
    import yaml

    from kftui.pipelines.runs import compile_pipeline

    package = compile_pipeline(EXAMPLES / "train_pipeline.py", tmp_path / "train.yaml")
    docs = list(yaml.safe_load_all(package.read_text()))
    text = package.read_text()
    assert "imagePullSecret" in text and "pvcMount" in text  # kfp-kubernetes platform spec
    train = docs[0]["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"]
    assert train["accelerator"]["resourceType"] == "nvidia.com/gpu"
    assert train["accelerator"]["resourceCount"] == "1"


def test_submit_py_compiles_for_the_user_into_a_new_experiment(client: PipelinesClient) -> None:
    run_id = submit_run(client, f"{EXAMPLES / 'train_pipeline_local.py'}:grasp_local", experiment="local-tests")
    row = next(r for r in list_runs(client, experiment="local-tests"))
    assert row.id == run_id and row.name.startswith("grasp-local ")


def test_submit_rejects_unknown_parameters(client: PipelinesClient, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown pipeline parameter\(s\) colour .*epochs"):
        submit_run(client, EXAMPLES / "train_pipeline.py", params={"colour": "red"})
