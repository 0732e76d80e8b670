"""Child process that runs one pipeline with kfp.local's SubprocessRunner and reports in machine-readable lines.

    python -m kftui.pipelines.local_child PIPELINE [--param k=v ...] --root DIR

PIPELINE is `file.py`, `file.py:pipeline_name`, or compiled pipeline YAML. kfp.local prints task logs on
stdout (a TUI cannot share that), so this runs in its own process: each task's log lines pass through
(indented by four spaces, as kfp.local prints them), and state changes become single lines
`@@kftui {json}` with `event` in pipeline_start, task_start, task_end, pipeline_end.
kfp.local's own human-oriented log records are turned into those events instead of being printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import warnings
from pathlib import Path
from typing import Any

EVENT_PREFIX = "@@kftui "
"""Marks a state line; a task's own output never starts at column 0 (kfp.local indents it)."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NAME = r"'(?P<name>[^']+)'"
_TASK_START = re.compile(rf"^Executing task {_NAME}")
_TASK_END = re.compile(rf"^Task {_NAME} finished with status (?P<status>\w+)")
_TASK_OUTPUTS = re.compile(rf"^Task {_NAME} outputs:\n?(?P<body>.*)", re.S)
_TASK_NO_OUTPUTS = re.compile(rf"^Task {_NAME} has no outputs")
_PIPELINE_START = re.compile(rf"^Running pipeline: {_NAME}")
_PIPELINE_END = re.compile(rf"^Pipeline {_NAME} finished with status (?P<status>\w+)(?P<rest>.*)", re.S)
_QUIET = re.compile(r"^(Streamed logs:|Cleaned up workspace)")
_STATES = {"SUCCESS": "SUCCEEDED", "FAILURE": "FAILED"}


def emit(event: str, **fields: Any) -> None:
    """Write one state line and flush, so the parent sees it before the next task's logs."""
    sys.stdout.write(EVENT_PREFIX + json.dumps({"event": event, **fields}, default=str) + "\n")
    sys.stdout.flush()


def _outputs(body: str) -> dict[str, str]:
    """kfp.local's outputs record (`    Output: 7`, artifacts over several lines) -> {"Output": "7", ...}."""
    found: dict[str, str] = {}
    last = ""
    for line in body.splitlines():
        match = re.match(r"^ {0,4}(?P<key>[A-Za-z_]\w*): (?P<value>.*)$", line)
        if match:
            last = match["key"]
            found[last] = match["value"].strip()
        elif last and line.strip():
            found[last] += " " + line.strip()
    return found


class EventFilter(logging.Filter):
    """Turns kfp.local's records into event lines; root-logger filters survive its handler swaps."""

    def __init__(self) -> None:
        super().__init__()
        self.pending_success: str | None = None
        self.final_state = ""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for records that became events (they are not printed)."""
        text = _ANSI.sub("", record.getMessage()).strip()
        if match := _TASK_START.match(text):
            emit("task_start", task=match["name"], state="RUNNING")
        elif match := _TASK_END.match(text):
            state = _STATES.get(match["status"], match["status"])
            if state == "SUCCEEDED":
                self.pending_success = match["name"]  # outputs follow in the next record
            else:
                emit("task_end", task=match["name"], state=state, outputs={})
        elif match := _TASK_OUTPUTS.match(text):
            emit("task_end", task=match["name"], state="SUCCEEDED", outputs=_outputs(match["body"]))
            self.pending_success = None
        elif match := _TASK_NO_OUTPUTS.match(text):
            emit("task_end", task=match["name"], state="SUCCEEDED", outputs={})
            self.pending_success = None
        elif match := _PIPELINE_START.match(text):
            emit("pipeline_start", pipeline=match["name"])
        elif match := _PIPELINE_END.match(text):
            state = _STATES.get(match["status"], match["status"])
            self.final_state = state
            emit("pipeline_end", state=state, error=match["rest"].strip(" .") if state != "SUCCEEDED" else "")
        elif not _QUIET.match(text):
            return True
        return False


def _load(target: str) -> Any:
    """The pipeline object from a .py (optionally :name) or compiled YAML."""
    from kftui.pipelines.params import load_pipeline_object, split_target

    path, name = split_target(target)
    if path.suffix == ".py":
        return load_pipeline_object(path, name)
    from kfp import components

    return components.load_component_from_file(str(path))


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; exit 0 when it succeeded, 1 when a task failed, 2 when it could not start."""
    parser = argparse.ArgumentParser(prog="python -m kftui.pipelines.local_child", description=__doc__)
    parser.add_argument("pipeline")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--root", required=True, type=Path, help="pipeline root for task outputs")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.simplefilter("ignore", FutureWarning)

    from kftui.errors import KftuiError
    from kftui.pipelines.params import coerce_all, split_params

    try:
        from kfp import local

        pipeline = _load(args.pipeline)
        inputs = getattr(getattr(pipeline, "component_spec", None), "inputs", None) or {}
        types = {name: str(getattr(spec, "type", "")) for name, spec in inputs.items()}
        params = coerce_all(split_params(args.param), types)
        args.root.mkdir(parents=True, exist_ok=True)
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(args.root), raise_on_error=False)
    except (KftuiError, ImportError, OSError, ValueError) as exc:
        emit("pipeline_end", state="FAILED", error=str(exc))
        return 2
    events = EventFilter()
    logging.getLogger().addFilter(events)
    try:
        result = pipeline(**params)
    except Exception as exc:  # kfp.local raises for unsupported features; report it as the run's end
        emit("pipeline_end", state="FAILED", error=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        logging.getLogger().removeFilter(events)
    if events.final_state == "SUCCEEDED":
        outputs = getattr(result, "outputs", None) or {}
        emit("outputs", outputs={k: str(v) for k, v in dict(outputs).items()})
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
