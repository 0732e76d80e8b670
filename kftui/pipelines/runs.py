"""Runs on a Kubeflow Pipelines server: list, inspect as a task tree, terminate/retry/archive, submit.

Everything goes through the generated kfp_server_api methods the `kfp.Client` carries (`client.runs`,
`client.experiments`) with a request timeout, never through the Client helpers that print links to stdout.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from kftui.core.runs import RunDetail, RunRow, RunState, api_time, build_task_tree, duration_between
from kftui.errors import UsageError
from kftui.pipelines.client import PipelinesApiError, PipelinesClient
from kftui.pipelines.params import (
    coerce_all,
    load_pipeline_object,
    require_all,
    spec_parameter_types,
    split_target,
)

PAGE_SIZE = 100


def _error_text(error: Any) -> str:
    return str(getattr(error, "message", "") or "") if error is not None else ""


def experiment_names(client: PipelinesClient) -> dict[str, str]:
    """Experiment id -> name, for every experiment the client can see."""
    names: dict[str, str] = {}
    token = ""
    while True:
        kwargs: dict[str, Any] = {"page_size": PAGE_SIZE, "page_token": token}
        if client.namespace:
            kwargs["namespace"] = client.namespace
        page = client.call(
            "listing experiments",
            client.kfp.experiments.experiment_service_list_experiments,
            expect="V2beta1ListExperimentsResponse",
            **kwargs,
        )
        for exp in page.experiments or []:
            names[str(exp.experiment_id)] = str(exp.display_name or exp.experiment_id)
        token = page.next_page_token or ""
        if not token:
            return names


def find_experiment(client: PipelinesClient, name: str) -> str | None:
    """The id of the experiment with this display name, or None."""
    query = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": name}]})
    kwargs: dict[str, Any] = {"filter": query, "page_size": 2}
    if client.namespace:
        kwargs["namespace"] = client.namespace
    page = client.call(
        "finding experiment",
        client.kfp.experiments.experiment_service_list_experiments,
        expect="V2beta1ListExperimentsResponse",
        **kwargs,
    )
    items = page.experiments or []
    return str(items[0].experiment_id) if items else None


def ensure_experiment(client: PipelinesClient, name: str, description: str = "") -> str:
    """The id of the named experiment, created in the client's namespace when missing."""
    import kfp_server_api  # type: ignore[import-untyped]

    found = find_experiment(client, name)
    if found:
        return found
    body = kfp_server_api.V2beta1Experiment(
        display_name=name, description=description or None, namespace=client.namespace or None
    )
    created = client.call(
        f"creating experiment {name!r}",
        client.kfp.experiments.experiment_service_create_experiment,
        expect="V2beta1Experiment",
        required="experiment_id",
        experiment=body,
    )
    return str(created.experiment_id)


def _row(run: Any, experiments: Mapping[str, str]) -> RunRow:
    created = api_time(run.created_at)
    finished = api_time(run.finished_at)
    state = RunState.parse(run.state)
    exp_id = str(run.experiment_id or "")
    return RunRow(
        id=str(run.run_id),
        name=str(run.display_name or run.run_id),
        experiment=experiments.get(exp_id, exp_id),
        state=state,
        created=created,
        finished=finished if state.finished else None,
        duration=duration_between(created, finished) if state.finished else None,
        experiment_id=exp_id,
        archived=str(run.storage_state or "") == "ARCHIVED",
        error=_error_text(run.error),
    )


def list_runs(
    client: PipelinesClient,
    *,
    experiment: str | None = None,
    states: Iterable[RunState] | None = None,
    include_archived: bool = False,
    limit: int = 500,
) -> list[RunRow]:
    """Runs newest first, optionally of one experiment (by name) and in some states."""
    experiments = experiment_names(client)
    kwargs: dict[str, Any] = {"sort_by": "created_at desc"}
    if experiment is not None:
        by_name = {name: exp_id for exp_id, name in experiments.items()}
        exp_id = by_name.get(experiment) or (experiment if experiment in experiments else None)
        if exp_id is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise UsageError(f"no experiment named {experiment!r} (experiments: {known})")
        kwargs["experiment_id"] = exp_id
    elif client.namespace:
        kwargs["namespace"] = client.namespace
    predicates: list[dict[str, Any]] = []
    wanted = sorted({str(s) for s in states or ()})
    if len(wanted) == 1:
        predicates.append({"operation": "EQUALS", "key": "state", "string_value": wanted[0]})
    elif wanted:
        predicates.append({"operation": "IN", "key": "state", "string_values": {"values": wanted}})
    if not include_archived:
        predicates.append({"operation": "NOT_EQUALS", "key": "storage_state", "string_value": "ARCHIVED"})
    if predicates:
        kwargs["filter"] = json.dumps({"predicates": predicates})
    rows: list[RunRow] = []
    token = ""
    while len(rows) < limit:
        page = client.call(
            "listing runs",
            client.kfp.runs.run_service_list_runs,
            expect="V2beta1ListRunsResponse",
            page_size=min(PAGE_SIZE, limit - len(rows)),
            page_token=token,
            **kwargs,
        )
        rows.extend(_row(run, experiments) for run in page.runs or [])
        token = page.next_page_token or ""
        if not token:
            break
    return rows


def get_run(client: PipelinesClient, run_id: str) -> RunDetail:
    """One run with its task tree; an unknown id is a PipelinesApiError with status 404."""
    run = client.call(
        f"reading run {run_id}",
        client.kfp.runs.run_service_get_run,
        expect="V2beta1Run",
        required="run_id",
        run_id=run_id,
    )
    experiments: dict[str, str] = {}
    if run.experiment_id:
        try:
            exp = client.call(
                "reading experiment",
                client.kfp.experiments.experiment_service_get_experiment,
                expect="V2beta1Experiment",
                experiment_id=run.experiment_id,
            )
            experiments[str(run.experiment_id)] = str(exp.display_name)
        except PipelinesApiError:
            pass  # the row then shows the experiment id: better than failing the whole view
    details = [d.to_dict() for d in (run.run_details.task_details if run.run_details else None) or []]
    parameters = dict((run.runtime_config.parameters if run.runtime_config else None) or {})
    return RunDetail(
        row=_row(run, experiments), tasks=build_task_tree(str(run.run_id), details, api_time), parameters=parameters
    )


def terminate_run(client: PipelinesClient, run_id: str) -> None:
    """Ask KFP to stop a run (it goes CANCELING, then CANCELED)."""
    client.call(f"terminating run {run_id}", client.kfp.runs.run_service_terminate_run, expect="object", run_id=run_id)


def retry_run(client: PipelinesClient, run_id: str) -> None:
    """Re-run the failed part of a failed or canceled run."""
    client.call(f"retrying run {run_id}", client.kfp.runs.run_service_retry_run, expect="object", run_id=run_id)


def archive_run(client: PipelinesClient, run_id: str) -> None:
    """Hide a run from the default list (KFP keeps it)."""
    client.call(f"archiving run {run_id}", client.kfp.runs.run_service_archive_run, expect="object", run_id=run_id)


def unarchive_run(client: PipelinesClient, run_id: str) -> None:
    """Bring an archived run back into the list."""
    client.call(f"restoring run {run_id}", client.kfp.runs.run_service_unarchive_run, expect="object", run_id=run_id)


def compile_pipeline(source: Path, output: Path, name: str | None = None) -> Path:
    """Compile the `@dsl.pipeline` in a .py file to pipeline YAML (what `kfp dsl compile` does)."""
    from kfp import compiler

    with warnings.catch_warnings():
        # kfp and kfp-kubernetes warn about their own futures while the pipeline is imported and compiled; that
        # is noise on a user's terminal, not news about their pipeline.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        pipeline = load_pipeline_object(source, name)
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(output))
        except Exception as exc:  # compiler errors are about the user's pipeline: show them as such
            raise UsageError(f"{source} does not compile: {type(exc).__name__}: {exc}") from exc
    return output


def load_package(path: Path) -> tuple[Any, dict[str, Any]]:
    """(the pipeline_spec field of a run, the bare pipeline spec) from compiled YAML/JSON."""
    if not path.is_file():
        raise UsageError(f"no pipeline package at {path}")
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not pipeline YAML: {exc}") from exc
    if not docs or not isinstance(docs[0], dict) or "root" not in docs[0]:
        raise UsageError(f"{path} is not a compiled pipeline (no root DAG); compile it or pass the .py file")
    spec: dict[str, Any] = docs[0]
    if len(docs) > 1 and isinstance(docs[1], dict) and docs[1]:
        # kfp-kubernetes features (PVCs, pull secrets) live in the platform spec, sent alongside.
        return {"pipeline_spec": spec, "platform_spec": docs[1]}, spec
    return spec, spec


def submit_run(
    client: PipelinesClient,
    pipeline: str | Path,
    *,
    params: Mapping[str, str] | None = None,
    experiment: str = "Default",
    run_name: str | None = None,
    service_account: str | None = None,
) -> str:
    """Submit compiled YAML, or a .py (`file.py[:pipeline]`) compiled here; returns the new run id."""
    import kfp_server_api  # type: ignore[import-untyped]

    path, name = split_target(str(pipeline))
    with tempfile.TemporaryDirectory(prefix="kftui-compile-") as tmp:
        package = compile_pipeline(path, Path(tmp) / "pipeline.yaml", name) if path.suffix == ".py" else path
        body_spec, spec = load_package(package)
    arguments = coerce_all(params or {}, spec_parameter_types(spec))
    require_all(spec, arguments)
    pipeline_name = str((spec.get("pipelineInfo") or {}).get("name") or path.stem)
    experiment_id = ensure_experiment(client, experiment)
    run = kfp_server_api.V2beta1Run(
        experiment_id=experiment_id,
        display_name=run_name or f"{pipeline_name} {datetime.now().strftime('%Y-%m-%d %H-%M-%S')}",
        pipeline_spec=body_spec,
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(parameters=arguments),
        service_account=service_account,
    )
    created = client.call(
        f"submitting {path.name}",
        client.kfp.runs.run_service_create_run,
        expect="V2beta1Run",
        required="run_id",
        run=run,
    )
    return str(created.run_id)
