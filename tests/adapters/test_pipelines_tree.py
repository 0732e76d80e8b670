"""The task tree from the real backend shape: a retried, a looped and a cached run, submitted through kftui to the
sandbox (which reports task_details as KFP 2.17 does from an Argo workflow and makes the pods Argo would), folded
into the pipeline's tasks, each row mapped to the pod holding its log."""

# kfp decorators are untyped (and components must not use postponed annotations).
# mypy: disable-error-code="untyped-decorator"

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.runpods import list_run_pods
from kftui.core.runs import RunDetail, RunState, TaskNode, build_task_tree, map_pods_to_nodes, node_names, pods_of
from kftui.pipelines.client import PipelinesClient, connect
from kftui.pipelines.runs import get_run, submit_run
from kftui.sandbox import KUBE_CONTEXT, Sandbox
from tests.adapters.kfp_fixtures import wait_for

PROFILE = "kubeflow-user-example-com"


def _compile(tmp_path: Path) -> Path:
    """A pipeline with a cached first task, a retried task that fails once, and a loop of three (parallelism 2)."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def prep() -> int:
        return 3

    @dsl.component(base_image="python:3.11")
    def flaky(x: int) -> int:
        return x

    @dsl.component(base_image="python:3.11")
    def square(x: int) -> int:
        return x * x

    @dsl.pipeline(name="mixed")
    def mixed() -> None:
        p = prep()
        flaky(x=p.output).set_retry(num_retries=2)
        with dsl.ParallelFor([1, 2, 3], parallelism=2) as item:
            square(x=item).after(p)

    package = tmp_path / "mixed.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiler.Compiler().compile(mixed, str(package))
    return package


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh demo sandbox whose KFP fails `flaky` once and answers `prep` from the cache."""
    sb = Sandbox("demo", tmp_path / "sb")
    sb.start()
    kfp_world = sb.kfp.state
    with kfp_world.lock:
        kfp_world.fail_tasks = {"flaky": "ValueError: flaky on purpose"}
        kfp_world.cached_tasks = {"prep"}
    try:
        yield sb
    finally:
        sb.stop()


def _by_name(tasks: tuple[TaskNode, ...]) -> dict[str, TaskNode]:
    return {t.name: t for t in tasks}


def _done(client: PipelinesClient, run_id: str) -> RunDetail | None:
    detail = get_run(client, run_id)
    return detail if detail.row.state.finished else None


def test_retried_looped_and_cached_run_folds_into_its_tasks_with_the_right_pods(world: Sandbox, tmp_path: Path) -> None:
    client = connect(world.kfp.url)
    run_id = submit_run(client, _compile(tmp_path), experiment="robot-grasping", run_name="mixed-1")
    detail = wait_for(lambda: _done(client, run_id))
    assert detail.row.state is RunState.SUCCEEDED
    tasks = _by_name(detail.tasks)
    assert set(tasks) == {"prep", "flaky", "for-loop-2"}  # no driver, executor, root or workflow rows

    prep, flaky, loop = tasks["prep"], tasks["flaky"], tasks["for-loop-2"]
    wf = world.kfp.state.runs[run_id].workflow
    assert prep.cached and prep.state is RunState.SUCCEEDED
    assert prep.pods == ((f"{wf}.root.prep-driver", "driver"),)  # only the driver ran

    assert flaky.state is RunState.SUCCEEDED and flaky.attempts == 2
    assert [(a.name, a.state) for a in flaky.children] == [
        ("attempt 1", RunState.FAILED),
        ("attempt 2", RunState.SUCCEEDED),
    ]
    assert flaky.pods[0] == (f"{wf}.root.flaky.executor(1)", "launcher")  # the last attempt counts

    assert loop.kind == "loop"
    assert [i.name for i in loop.children] == ["iteration 0", "iteration 1", "iteration 2"]
    inner = [i.children[0] for i in loop.children]
    assert [t.name for t in inner] == ["square"] * 3 and len({t.id for t in inner}) == 3

    pods = list_run_pods(api_client(KUBE_CONTEXT, world.env["KUBECONFIG"]), run_id, PROFILE)
    by_node = map_pods_to_nodes(run_id, pods)
    roles = {p["name"]: p["annotations"]["pipelines.kubeflow.org/runtime-role"] for p in pods}
    assert set(roles.values()) == {"driver", "launcher"}
    assert all("task_display_name" not in str(p["annotations"]) for p in pods)
    [prep_pod] = pods_of(prep, by_node)
    assert roles[prep_pod] == "driver" and prep_pod.startswith(f"{wf}-system-container-driver-")
    first, second = (pods_of(a, by_node)[0] for a in flaky.children)
    assert first != second and {roles[first], roles[second]} == {"launcher"}
    assert first.startswith(f"{wf}-retry-system-container-impl-")
    for task in inner:
        [launcher, driver] = pods_of(task, by_node)
        assert roles[launcher] == "launcher" and roles[driver] == "driver"
    phases = {p["name"]: p["phase"] for p in pods}
    assert phases[first] == "Failed" and phases[second] == "Succeeded"


def test_node_names_come_back_from_the_hashed_ids_alone() -> None:
    """Fed only what the API gives (display names, child node IDs), every entry gets its exact Argo node name."""
    from kftui.sandbox.kfp.state import World

    spec = _spec_of_a_loop()
    kfp_world = World({"simulation": {"fail_tasks": {}}})
    run = kfp_world.create_run({"display_name": "r", "pipeline_spec": spec}, "")
    for _ in range(20):
        kfp_world.step(run)
    details: list[dict[str, Any]] = run.to_json()["run_details"]["task_details"]
    workflow, names = node_names(details)
    assert workflow == run.workflow and len(names) == len(details) == len(run.nodes())
    assert sorted(names.values()) == sorted(n.name for n in run.nodes())
    tree = build_task_tree(run.run_id, details)
    assert [t.name for t in tree] == ["for-loop-1"] and len(tree[0].children) == 2


def _spec_of_a_loop() -> dict[str, Any]:
    """The compiled spec of a two-iteration loop (the shape kfp 2.17's compiler writes)."""
    return {
        "pipelineInfo": {"name": "loop"},
        "components": {
            "comp-for-loop-1": {"dag": {"tasks": {"echo": {"componentRef": {"name": "comp-echo"}}}}},
            "comp-echo": {"executorLabel": "exec-echo"},
        },
        "root": {
            "dag": {
                "tasks": {
                    "for-loop-1": {
                        "componentRef": {"name": "comp-for-loop-1"},
                        "parameterIterator": {"items": {"raw": "[1, 2]"}, "itemInput": "pipelinechannel--loop-item"},
                    }
                }
            }
        },
    }


def test_bad_shapes_fall_back_to_a_flat_list_without_pods() -> None:
    details = [{"display_name": "train", "state": "FAILED", "task_id": "t1"}, {"display_name": "x-driver"}]
    [task] = build_task_tree("r", details)
    assert (task.name, task.state, task.pods) == ("train", RunState.FAILED, ())


def test_retry_of_the_failed_run_replaces_the_failed_pod_and_the_tree_follows_the_new_one(world: Sandbox) -> None:
    from kftui.pipelines.runs import retry_run
    from tests.adapters.kfp_fixtures import FAILED_RUN

    client = connect(world.kfp.url)
    kube = api_client(KUBE_CONTEXT, world.env["KUBECONFIG"])
    old = {p["name"] for p in list_run_pods(kube, FAILED_RUN, PROFILE)}
    old_train = "training-pipeline-x7k2q-system-container-impl-2950846120"
    assert old_train in old
    retry_run(client, FAILED_RUN)
    detail = wait_for(lambda: _done(client, FAILED_RUN))
    assert detail.row.state is RunState.SUCCEEDED
    train = _by_name(detail.tasks)["train"]
    assert train.state is RunState.SUCCEEDED
    pods = list_run_pods(kube, FAILED_RUN, PROFILE)
    names = {p["name"] for p in pods}
    assert old_train not in names  # the failed node's pod went with it, as the backend's retry deletes it
    [launcher, driver] = pods_of(train, map_pods_to_nodes(FAILED_RUN, pods))
    assert launcher not in old and launcher.startswith("training-pipeline-x7k2q-system-container-impl-")
    phases = {p["name"]: p["phase"] for p in pods}
    assert phases[launcher] == "Succeeded" and phases[driver] == "Succeeded"


def test_the_fold_does_not_depend_on_the_order_the_server_lists_entries(tmp_path: Path) -> None:
    """The backend concatenates task rows in no promised order; alike entries (executor pods) differ only by where
    they hang: every order gives the same tree."""
    import random

    import yaml

    from kftui.sandbox.kfp.state import World

    spec = yaml.safe_load(_compile(tmp_path).read_text(encoding="utf-8"))
    kfp_world = World({"simulation": {"fail_tasks": {"flaky": "ValueError: once"}, "cached_tasks": ["prep"]}})
    run = kfp_world.create_run({"display_name": "r", "pipeline_spec": spec}, "")
    for _ in range(40):  # all in the same second or two: times cannot tell the entries apart
        kfp_world.step(run)
    details: list[dict[str, Any]] = run.to_json()["run_details"]["task_details"]

    def shape(tasks: tuple[TaskNode, ...]) -> list[Any]:
        return [(t.id, t.kind, t.state, t.cached, t.attempts, t.pods, shape(t.children)) for t in tasks]

    expected = shape(build_task_tree(run.run_id, details))
    tasks = _by_name(build_task_tree(run.run_id, details))
    assert tasks["prep"].cached and tasks["flaky"].attempts == 2 and len(tasks["for-loop-2"].children) == 3
    for seed in range(25):
        shuffled = list(details)
        random.Random(seed).shuffle(shuffled)
        assert shape(build_task_tree(run.run_id, shuffled)) == expected, f"order {seed}"
