"""`kftui runs submit | list | local`: pipeline runs from the shell, with the same adapters the runs view uses."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from kftui.core.runs import ExecutorNoise, LocalEvent, LocalEventKind, LocalRunRecord, RunRow, RunState, short_duration
from kftui.core.sanitize import inert, sanitize
from kftui.errors import UsageError

MARK = {RunState.SUCCEEDED: "✓", RunState.FAILED: "✗", RunState.RUNNING: "▶", RunState.CANCELED: "■"}
COLOUR = {RunState.SUCCEEDED: "green", RunState.FAILED: "red", RunState.RUNNING: "cyan", RunState.CANCELED: "magenta"}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def run_submit(
    pipeline: str,
    params: Iterable[str],
    experiment: str,
    kfp_host: str | None,
    run_name: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Check the parameters against the pipeline first (offline), then submit; print the new run id and state."""
    from kftui.pipelines.client import connect
    from kftui.pipelines.params import coerce_all, require_all, spec_parameter_types, split_params, split_target
    from kftui.pipelines.runs import compile_pipeline, get_run, load_package, submit_run

    stream = out or sys.stdout
    raw = split_params(params)
    path, name = split_target(pipeline)
    with tempfile.TemporaryDirectory(prefix="kftui-submit-") as tmp:
        package = compile_pipeline(path, Path(tmp) / "pipeline.yaml", name) if path.suffix == ".py" else path
        _, spec = load_package(package)
        coerce_all(raw, spec_parameter_types(spec))  # a bad name or value is a UsageError naming it, before any call
        require_all(spec, raw)
        client = connect(kfp_host)
        run_id = submit_run(client, package, params=raw, experiment=experiment, run_name=run_name)
    state = get_run(client, run_id).row.state
    print(f"run {run_id} {state}", file=stream)
    print(f"experiment {experiment} · {client.url}", file=stream)
    print(f"follow it: kftui watch --kfp-host {client.url}   (3 = runs)", file=stream)
    return 0


def _row_json(row: RunRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "experiment": row.experiment,
        "state": str(row.state),
        "created": _iso(row.created),
        "finished": _iso(row.finished),
        "duration_seconds": int(row.duration.total_seconds()) if row.duration else None,
        "error": row.error,
    }


def run_list(
    kfp_host: str | None,
    as_json: bool,
    experiment: str | None = None,
    states: Iterable[str] = (),
    out: TextIO | None = None,
) -> int:
    """Runs newest first as a table (or JSON), optionally of one experiment and in some states."""
    from kftui.pipelines.client import connect
    from kftui.pipelines.runs import list_runs

    stream = out or sys.stdout
    wanted = [RunState.parse(s) for s in states]
    unknown = [s for s, parsed in zip(states, wanted, strict=True) if parsed is RunState.UNKNOWN]
    if unknown:
        known = ", ".join(s.lower() for s in RunState if s is not RunState.UNKNOWN)
        raise UsageError(f"unknown run state {unknown[0]!r} (states: {known})")
    rows = list_runs(connect(kfp_host), experiment=experiment, states=wanted or None)
    if as_json:
        print(json.dumps([_row_json(r) for r in rows], indent=2), file=stream)
        return 0
    if not rows:
        print("no runs", file=stream)
        return 0
    now = datetime.now(UTC)
    table = [("ID", "NAME", "EXPERIMENT", "STATE", "AGE", "DURATION")]
    for row in rows:
        age = short_duration(now - row.created) if row.created else "-"
        duration = row.duration or (now - row.created if row.created and not row.state.finished else None)
        # Names come from the server: shown inert (no title, clipboard or cursor escapes reach the terminal).
        cells = (inert(row.id), inert(row.name), inert(row.experiment), str(row.state), age)
        table.append((*cells, short_duration(duration, "-")))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip(), file=stream)
    return 0


def _print_event(event: LocalEvent, stream: TextIO, verbose: bool = False) -> None:
    """One line per event: task states marked, a task's lines prefixed by it, kfp.local's own lines kept apart."""
    if event.kind is LocalEventKind.LOG:
        prefix = click.style(f"[{inert(event.task or '?')}]", fg="bright_black")
        click.echo(f"{prefix} {sanitize(event.line)}", file=stream)
    elif event.kind is LocalEventKind.RUNNER:
        if verbose or not event.line.startswith("SubprocessRunner("):
            click.echo(click.style(f"  kfp.local: {sanitize(event.line)}", dim=True), file=stream)
    elif event.kind is LocalEventKind.TASK_START:
        again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        click.echo(click.style(f"▶ {inert(event.task or '?')} started{again}", fg="cyan", bold=True), file=stream)
    elif event.kind is LocalEventKind.TASK_END:
        state = event.state or RunState.UNKNOWN
        again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
        text = f"{MARK.get(state, '?')} {inert(event.task or '?')} {state}{again}"
        if event.error:
            text += f": {inert(event.error)}"
        click.echo(click.style(text, fg=COLOUR.get(state), bold=True), file=stream)
    elif event.kind is LocalEventKind.PIPELINE_START:
        click.echo(click.style("pipeline started (kfp.local, SubprocessRunner)", dim=True), file=stream)


def run_local(
    pipeline: str,
    params: Iterable[str],
    verbose: bool = False,
    out: TextIO | None = None,
    reuse_env: bool = False,
) -> int:
    """Run a pipeline with kfp.local in a child process, streaming states and logs; 0 on success, 1 on failure."""
    from kftui import paths
    from kftui.pipelines.local import start_local_run
    from kftui.pipelines.params import split_params, split_target

    stream = out or sys.stdout
    raw = split_params(params)
    path, _ = split_target(pipeline)
    if not path.is_file():
        raise UsageError(f"no pipeline file at {path}")
    run = start_local_run(pipeline, raw, paths.state_dir(), reuse_env=reuse_env)
    click.echo(click.style(f"local run {run.id}: {pipeline}", bold=True), file=stream)
    outputs: dict[str, dict[str, str]] = {}
    pipeline_outputs: dict[str, str] = {}
    noise = ExecutorNoise()
    try:
        for event in run.events():
            if event.kind is LocalEventKind.TASK_END and event.task and event.outputs:
                outputs[event.task] = dict(event.outputs)  # iterations are tasks of their own: square[0], square[1]
            if event.kind is LocalEventKind.OUTPUTS:
                pipeline_outputs = dict(event.outputs)
                continue
            if verbose or not noise.hides(event):
                _print_event(event, stream, verbose)
    except KeyboardInterrupt:
        run.stop()
        raise
    record = run.record
    if outputs:
        click.echo(click.style("task outputs", bold=True), file=stream)
        for task, values in outputs.items():
            for key, value in values.items():
                click.echo(f"  {inert(task)}.{inert(key)} = {inert(value)}", file=stream)
    if pipeline_outputs:
        click.echo(click.style("pipeline outputs", bold=True), file=stream)
        for key, value in pipeline_outputs.items():
            click.echo(f"  {inert(key)} = {inert(value)}", file=stream)
    ok = record.state is RunState.SUCCEEDED
    summary = f"{MARK.get(record.state, '?')} pipeline {record.state} in {short_duration(record.duration, '-')}"
    if record.error and not ok:
        summary += f": {inert(record.error)}"
    click.echo(click.style(summary, fg=COLOUR.get(record.state), bold=True), file=stream)
    click.echo(click.style(f"log {record.log_path}\nroot {record.root}", dim=True), file=stream)
    return 0 if ok else 1


def _local_json(record: LocalRunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "pipeline": record.pipeline,
        "parameters": dict(record.parameters),
        "state": str(record.state),
        "started": _iso(record.started),
        "finished": _iso(record.finished),
        "tasks": {k: str(v) for k, v in record.tasks.items()},
        "error": record.error,
        "log": record.log_path,
    }


def run_local_list(as_json: bool, out: TextIO | None = None) -> int:
    """Past local runs (newest first) from the XDG state directory."""
    from kftui import paths
    from kftui.pipelines.local import list_local_runs

    stream = out or sys.stdout
    records = list_local_runs(paths.state_dir())
    if as_json:
        print(json.dumps([_local_json(r) for r in records], indent=2), file=stream)
        return 0
    if not records:
        print("no local runs yet (kftui runs local PIPELINE)", file=stream)
        return 0
    for record in records:
        params = " ".join(f"{k}={v}" for k, v in record.parameters.items())
        line = f"{record.id}  {record.state!s:<9}  {short_duration(record.duration, '-'):>6}  {record.pipeline}"
        print(f"{line}  {params}".rstrip(), file=stream)
        if record.error:
            print(f"    {record.error}", file=stream)
    return 0
