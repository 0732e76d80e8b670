"""The fake KFP speaks what the real kfp.Client sends: lists, filters, paging, errors, run lifecycle."""

# kfp decorators are untyped (and components must not use postponed annotations).
# mypy: disable-error-code="untyped-decorator"

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.sandbox.kfp.argo import fnv32a
from tests.adapters.kfp_fixtures import FAILED_RUN, OLD_RUN, RUNNING_RUN, KfpSandbox, kfp_sandbox, wait_for

__all__ = ["kfp_sandbox"]


@pytest.fixture
def client(kfp_sandbox: KfpSandbox) -> Iterator[Any]:
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield kfp.Client(host=kfp_sandbox.url)


def _eq(key: str, value: str) -> str:
    return json.dumps({"predicates": [{"operation": 1, "key": key, "stringValue": value}]})


def test_healthz_and_list_runs_with_states(client: Any) -> None:
    assert client.get_kfp_healthz().multi_user is False
    runs = client.list_runs(page_size=50).runs
    states = {r.run_id: r.state for r in runs}
    assert states == {FAILED_RUN: "FAILED", OLD_RUN: "SUCCEEDED", RUNNING_RUN: "RUNNING"}


def test_sort_and_paging(client: Any) -> None:
    first = client.list_runs(page_size=2, sort_by="created_at desc")
    assert [r.run_id for r in first.runs] == [RUNNING_RUN, FAILED_RUN]
    assert first.total_size == 3 and first.next_page_token
    second = client.list_runs(page_size=2, sort_by="created_at desc", page_token=first.next_page_token)
    assert [r.run_id for r in second.runs] == [OLD_RUN]
    assert not second.next_page_token


def test_filters_by_state_experiment_and_in(client: Any) -> None:
    assert [r.run_id for r in client.list_runs(filter=_eq("state", "FAILED")).runs] == [FAILED_RUN]
    exp = client.get_experiment(experiment_name="robot-grasping")
    assert len(client.list_runs(experiment_id=exp.experiment_id, page_size=10).runs) == 3
    in_filter = json.dumps(
        {"predicates": [{"operation": "IN", "key": "state", "string_values": {"values": ["FAILED", "RUNNING"]}}]}
    )
    assert {r.run_id for r in client.list_runs(filter=in_filter).runs} == {FAILED_RUN, RUNNING_RUN}
    assert client.list_runs(filter=_eq("namespace", "elsewhere")).runs is None


def test_failed_run_task_details_are_argo_nodes_as_the_backend_reports_them(client: Any) -> None:
    run = client.get_run(FAILED_RUN)
    wf = "training-pipeline-x7k2q"
    details = run.run_details.task_details
    names = sorted(t.display_name for t in details)
    assert names == sorted(
        [wf, "root-driver", "root", "download-data-driver", "download-data", "executor", "train-driver", "train",
         "executor", "evaluate-driver", "evaluate", "notify-driver", "notify"]
    )  # fmt: skip
    by_name = {t.display_name: t for t in details}
    assert by_name["train"].state == "FAILED" and by_name["train-driver"].state == "SUCCEEDED"
    assert by_name["evaluate"].state is None  # Argo Omitted maps to RUNTIME_STATE_UNSPECIFIED, left out
    assert all(t.parent_task_id is None and t.error is None for t in details)
    # child_tasks carry only pod_name, and it is the child's Argo node ID (workflow name + FNV-1a of its node name)
    top = by_name[wf].child_tasks
    assert [(c.task_id, c.pod_name) for c in top] == [(None, f"{wf}-{fnv32a(wf + '.root-driver')}")]
    assert {t.create_time for t in details} == {run.scheduled_at}
    assert run.finished_at.year > 1970


def test_unknown_run_is_a_kfp_json_404(client: Any) -> None:
    import kfp_server_api  # type: ignore[import-untyped]

    with pytest.raises(kfp_server_api.ApiException) as info:
        client.get_run("no-such-run")
    body = json.loads(info.value.body)
    assert info.value.status == 404 and body["code"] == 5
    assert "no-such-run" in body["message"] and body["details"][0]["@type"].endswith("google.rpc.Status")


def test_bad_filter_key_is_400(client: Any) -> None:
    import kfp_server_api  # type: ignore[import-untyped]

    with pytest.raises(kfp_server_api.ApiException) as info:
        client.list_runs(filter=_eq("colour", "blue"))
    assert info.value.status == 400 and "colour" in json.loads(info.value.body)["message"]


def test_submitted_pipeline_runs_to_success_with_task_details(
    client: Any, kfp_sandbox: KfpSandbox, tmp_path: Path
) -> None:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def make() -> int:
        return 1

    @dsl.component(base_image="python:3.11")
    def use(x: int) -> None:
        print(x)

    @dsl.pipeline(name="tiny")
    def tiny(n: int = 1) -> None:
        use(x=make().output)

    package = tmp_path / "tiny.yaml"
    compiler.Compiler().compile(tiny, str(package))
    result = client.create_run_from_pipeline_package(
        str(package), arguments={"n": 3}, experiment_name="robot-grasping", run_name="tiny-1"
    )
    created = client.get_run(result.run_id)
    assert created.display_name == "tiny-1" and created.runtime_config.parameters == {"n": 3}
    assert kfp_sandbox.world.runs[result.run_id].pipeline_spec["pipelineInfo"]["name"] == "tiny"
    done = wait_for(lambda: (r := client.get_run(result.run_id)).state == "SUCCEEDED" and r)
    names = sorted((t.display_name, t.state) for t in done.run_details.task_details)
    wf = kfp_sandbox.world.runs[result.run_id].workflow
    assert wf.startswith("tiny-")
    assert names == sorted(
        [(wf, "SUCCEEDED"), ("root-driver", "SUCCEEDED"), ("root", "SUCCEEDED"), ("make-driver", "SUCCEEDED"),
         ("make", "SUCCEEDED"), ("executor", "SUCCEEDED"), ("use-driver", "SUCCEEDED"), ("use", "SUCCEEDED"),
         ("executor", "SUCCEEDED")]
    )  # fmt: skip
    history = [s.state for s in done.state_history]
    assert history[0] == "PENDING" and "RUNNING" in history and history[-1] == "SUCCEEDED"


def test_create_experiment_then_duplicate_is_found_not_recreated(client: Any, kfp_sandbox: KfpSandbox) -> None:
    exp = client.create_experiment("new-exp")
    again = client.create_experiment("new-exp")
    assert exp.experiment_id == again.experiment_id
    assert sum(e.name == "new-exp" for e in kfp_sandbox.world.experiments.values()) == 1


def test_terminate_then_retry(client: Any) -> None:
    client.terminate_run(RUNNING_RUN)
    assert client.get_run(RUNNING_RUN).state in {"CANCELING", "CANCELED"}
    canceled = wait_for(lambda: (r := client.get_run(RUNNING_RUN)).state == "CANCELED" and r)
    # Argo marks the nodes of a terminated workflow Failed, which the backend reports as FAILED
    assert {t.display_name: t.state for t in canceled.run_details.task_details}["train"] == "FAILED"
    client.runs.run_service_retry_run(run_id=RUNNING_RUN)
    wait_for(lambda: client.get_run(RUNNING_RUN).state == "SUCCEEDED")


def test_archive_marks_storage_state(client: Any) -> None:
    client.archive_run(OLD_RUN)
    assert client.get_run(OLD_RUN).storage_state == "ARCHIVED"
    client.unarchive_run(OLD_RUN)
    assert client.get_run(OLD_RUN).storage_state == "AVAILABLE"


def test_retry_of_succeeded_run_is_refused(client: Any) -> None:
    import kfp_server_api  # type: ignore[import-untyped]

    with pytest.raises(kfp_server_api.ApiException) as info:
        client.runs.run_service_retry_run(run_id=OLD_RUN)
    assert info.value.status == 400 and "cannot be retried" in info.value.body


def test_fail_tasks_simulation_fails_once_then_retry_succeeds(
    kfp_sandbox: KfpSandbox, client: Any, tmp_path: Path
) -> None:
    from kfp import compiler, dsl

    kfp_sandbox.world.fail_tasks = {"boom": "ValueError: bad batch"}

    @dsl.component(base_image="python:3.11")
    def boom() -> None:
        raise ValueError("bad batch")

    @dsl.component(base_image="python:3.11")
    def after() -> None:
        pass

    @dsl.pipeline(name="flaky")
    def flaky() -> None:
        after().after(boom())

    package = tmp_path / "flaky.yaml"
    compiler.Compiler().compile(flaky, str(package))
    run_id = client.create_run_from_pipeline_package(str(package), experiment_name="robot-grasping").run_id
    failed = wait_for(lambda: (r := client.get_run(run_id)).state == "FAILED" and r)
    tasks = {t.display_name: t for t in failed.run_details.task_details}
    assert tasks["boom"].state == "FAILED" and tasks["after-driver"].state is None  # Omitted
    client.runs.run_service_retry_run(run_id=run_id)
    wait_for(lambda: client.get_run(run_id).state == "SUCCEEDED")


def test_required_parameters_are_validated_with_the_backends_words(kfp_sandbox: KfpSandbox) -> None:
    spec = {
        "pipelineInfo": {"name": "needs"},
        "components": {"comp-a": {"executorLabel": "exec-a"}},
        "root": {
            "dag": {"tasks": {"a": {"componentRef": {"name": "comp-a"}}}},
            "inputDefinitions": {
                "parameters": {
                    "epochs": {"parameterType": "NUMBER_INTEGER"},
                    "lr": {"parameterType": "NUMBER_DOUBLE", "defaultValue": 0.1},
                }
            },
        },
    }
    world = kfp_sandbox.world
    from kftui.sandbox.kfp.state import KfpError

    with pytest.raises(KfpError) as missing:
        world.create_run({"display_name": "r", "pipeline_spec": spec, "runtime_config": {"parameters": {}}}, "")
    assert missing.value.status == 400 and missing.value.body()["code"] == 3
    assert missing.value.message == (
        "Failed to create a new run: Failed to generate the ExecutionSpec: invalid pipeline job inputs: "
        "Invalid input error: parameter epochs is not optional, yet has neither default value nor user provided value"
    )
    assert missing.value.body()["details"][0]["message"] == (
        "parameter epochs is not optional, yet has neither default value nor user provided value"
    )
    with pytest.raises(KfpError, match="input parameter epochs requires type double or integer"):
        world.create_run(
            {"display_name": "r", "pipeline_spec": spec, "runtime_config": {"parameters": {"epochs": "3"}}}, ""
        )
    with pytest.raises(KfpError, match="parameter\\(s\\) provided are not required by pipeline: nope"):
        world.create_run(
            {"display_name": "r", "pipeline_spec": spec, "runtime_config": {"parameters": {"epochs": 3, "nope": 1}}}, ""
        )
    assert (
        world.create_run(
            {"display_name": "r", "pipeline_spec": spec, "runtime_config": {"parameters": {"epochs": 3}}}, ""
        ).state
        == "PENDING"
    )
