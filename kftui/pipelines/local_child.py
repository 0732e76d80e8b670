"""Child process that runs one pipeline with kfp.local's SubprocessRunner and reports in machine-readable lines.

    python -m kftui.pipelines.local_child PIPELINE [--param k=v ...] --root DIR

PIPELINE is `file.py`, `file.py:pipeline_name`, or compiled pipeline YAML. kfp.local prints task logs on
stdout (a TUI cannot share that), so this runs in its own process and reports everything as single lines
`@@kftui {json}`: `event` in pipeline_start, task_start, log, task_end, runner, outputs, pipeline_end.

kfp.local runs the tasks of a ParallelFor on a thread pool and prints each task's output from the thread that
runs it, unlabelled and interleaved. So stdout is replaced by a writer that knows which task each thread runs
(the thread logs "Executing task" before its subprocess starts): every line is attributed to the task that
printed it, never to the one that started last. A task inside a loop is named with its iteration (read from the
task's own output paths, `for-loop-2-iteration-1/...`), a task run again by its retry policy gets its attempt
number, kfp.local's indentation is dropped and its own lines (not from a task) are `runner` events.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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


_OUT: TextIO = sys.stdout
_EMIT_LOCK = threading.Lock()
_ITERATION = re.compile(r"-iteration-(\d+)/")


def emit(event: str, **fields: Any) -> None:
    """Write one event line and flush, so the parent sees it in order (one lock: threads never interleave)."""
    with _EMIT_LOCK:
        _OUT.write(EVENT_PREFIX + json.dumps({"event": event, **fields}, default=str) + "\n")
        _OUT.flush()


@dataclass
class _Running:
    """What one thread is running: a task (until it ends), its label once known, and its pending lines."""

    name: str
    attempt: int
    label: str = ""
    pending: list[str] = field(default_factory=list)
    in_dump: bool = False


class TaskStreams:
    """Per-thread attribution of printed text to the task the thread runs (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, _Running] = {}
        self.last: dict[int, tuple[str, str]] = {}
        """Thread -> (task name, end state) of the task it ran before: a failed one run again is its retry."""
        self.partial: dict[int, str] = {}
        self.attempts: dict[str, int] = {}

    def started(self, name: str) -> None:
        """This thread begins a task (from kfp.local's "Executing task" record)."""
        me = threading.get_ident()
        with self.lock:
            before = self.last.get(me)
            attempt = before is not None and before[0] == name and before[1] == "FAILED"
            self.running[me] = _Running(name, self.attempts.get(name, 1) + 1 if attempt else 1)

    def ended(self, name: str, state: str, outputs: dict[str, str]) -> None:
        """This thread's task finished: flush what it printed, report the end under the task's label."""
        me = threading.get_ident()
        self._flush_partial(me)
        with self.lock:
            task = self.running.pop(me, None)
            self.last[me] = (name, state)
        if task is None:
            emit("task_end", task=name, state=state, outputs=outputs)
            return
        self._announce(task)
        self.attempts[task.label] = task.attempt
        emit("task_end", task=task.label, state=state, outputs=outputs, attempt=task.attempt)

    def write(self, text: str) -> None:
        """Text printed by some thread: whole lines go out as that thread's task lines (or runner lines)."""
        me = threading.get_ident()
        with self.lock:
            buffer = self.partial.get(me, "")
            if not buffer and text and not text.strip(" ") and "\n" not in text:
                return  # kfp.local's indentation (a bare run of spaces before each printed line)
            buffer += text
            *lines, rest = buffer.split("\n")
            self.partial[me] = rest
        for line in lines:
            self._line(me, line)

    def _flush_partial(self, me: int) -> None:
        with self.lock:
            rest = self.partial.pop(me, "")
        if rest.strip():
            self._line(me, rest)

    def _line(self, me: int, line: str) -> None:
        task = self.running.get(me)
        if task is None:
            if line.strip() and set(line.strip()) != {"-"}:
                emit("runner", line=line.rstrip())
            return
        if not task.label:
            task.pending.append(line)
            if _ITERATION.search(line):
                task.label = _label(task.name, line)
            if line.rstrip().endswith("Got executor_input:"):
                task.in_dump = True
            elif task.in_dump and line.strip() == "}" and line.startswith("}"):
                task.in_dump = False
            if task.label or (not task.in_dump and line.strip() and not _noise(line)):
                self._announce(task)
            return
        if line.strip():  # kfp.local separates tasks with blank lines
            emit("log", task=task.label, line=line.rstrip("\r"))

    def _announce(self, task: _Running) -> None:
        """Say the task started (now that its label is known) and pass on what it printed so far."""
        if task.pending is None:
            return
        task.label = task.label or task.name
        emit("task_start", task=task.label, state="RUNNING", attempt=task.attempt)
        pending, task.pending = task.pending, None  # type: ignore[assignment]
        for line in pending:
            emit("log", task=task.label, line=line.rstrip("\r"))


def _noise(line: str) -> bool:
    """The executor's own chatter before the user's code runs."""
    text = line.strip()
    return not text or text.startswith("[KFP Executor ")


def _label(name: str, line: str) -> str:
    """`square` in iteration 1 (of an outer loop's iteration 0) -> `square[1]` (`square[0.1]`)."""
    found = _ITERATION.findall(line)
    return f"{name}[{'.'.join(found)}]" if found else name


class _Writer:
    """sys.stdout for the pipeline's threads: text goes to TaskStreams."""

    def __init__(self, streams: TaskStreams) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        """Attribute and forward."""
        self.streams.write(text)
        return len(text)

    def flush(self) -> None:
        """Lines are sent as they complete."""

    def isatty(self) -> bool:
        """Never a terminal (keeps libraries from colouring their output)."""
        return False


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
    """Turns kfp.local's records into events; root-logger filters survive its handler swaps."""

    def __init__(self, streams: TaskStreams) -> None:
        super().__init__()
        self.streams = streams
        self.pending_success: str | None = None
        self.final_state = ""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for records that became events (they are not printed)."""
        text = _ANSI.sub("", record.getMessage()).strip()
        if match := _TASK_START.match(text):
            self.streams.started(match["name"])
        elif match := _TASK_END.match(text):
            state = _STATES.get(match["status"], match["status"])
            if state != "SUCCEEDED":
                self.streams.ended(match["name"], state, {})
        elif match := _TASK_OUTPUTS.match(text):
            self.streams.ended(match["name"], "SUCCEEDED", _outputs(match["body"]))
        elif match := _TASK_NO_OUTPUTS.match(text):
            self.streams.ended(match["name"], "SUCCEEDED", {})
        elif match := _PIPELINE_START.match(text):
            emit("pipeline_start", pipeline=match["name"])
        elif match := _PIPELINE_END.match(text):
            state = _STATES.get(match["status"], match["status"])
            self.final_state = state
            emit("pipeline_end", state=state, error=match["rest"].strip(" .") if state != "SUCCEEDED" else "")
        elif not _QUIET.match(text):
            emit("runner", line=f"{record.levelname} {text}")
        return False


def _load(target: str) -> Any:
    """The pipeline object from a .py (optionally :name) or compiled YAML."""
    from kftui.pipelines.params import load_pipeline_object, split_target

    path, name = split_target(target)
    if path.suffix == ".py":
        return load_pipeline_object(path, name)
    from kfp import components

    return components.load_component_from_file(str(path))


def pip_installs(pipeline: Any) -> bool:
    """Whether any component pip-installs at run time (kfp itself or packages_to_install)."""
    from google.protobuf import json_format  # type: ignore[import-untyped]

    spec = getattr(pipeline, "pipeline_spec", None)
    if spec is None:
        return True
    data = json_format.MessageToDict(spec)
    executors = (data.get("deploymentSpec") or {}).get("executors") or {}
    for executor in executors.values():
        container = executor.get("container") or {}
        words = " ".join(str(w) for w in [*(container.get("command") or []), *(container.get("args") or [])])
        if "pip install" in words:
            return True
    return False


def not_lightweight(target: str, exc: BaseException) -> str:
    """kfp.local's refusal of container components, said in one line with the way out."""
    from kftui.pipelines.params import split_target

    path, _ = split_target(target)
    sibling = path.with_name(f"{path.stem}_local{path.suffix}")
    where = f"run {sibling} (its local variant) instead, " if sibling.is_file() else ""
    return (
        f"{path.name} has container components, and kfp.local's SubprocessRunner runs only lightweight Python "
        f"components (@dsl.component functions): {where}or submit it to a server with kftui runs submit"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; exit 0 when it succeeded, 1 when a task failed, 2 when it could not start."""
    global _OUT
    parser = argparse.ArgumentParser(prog="python -m kftui.pipelines.local_child", description=__doc__)
    parser.add_argument("pipeline")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--root", required=True, type=Path, help="pipeline root for task outputs")
    parser.add_argument(
        "--reuse-env",
        action="store_true",
        help="run tasks with this Python environment instead of kfp's default virtualenv per task",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.simplefilter("ignore", FutureWarning)
    _OUT = sys.stdout

    from kftui.errors import KftuiError
    from kftui.pipelines.params import coerce_all, split_params

    try:
        from kfp import local

        pipeline = _load(args.pipeline)
        inputs = getattr(getattr(pipeline, "component_spec", None), "inputs", None) or {}
        types = {name: str(getattr(spec, "type", "")) for name, spec in inputs.items()}
        params = coerce_all(split_params(args.param), types)
        args.root.mkdir(parents=True, exist_ok=True)
        # kfp's default is a virtualenv per task, so packages_to_install never land in this environment; a
        # pipeline whose components install nothing (install_kfp_package=False) needs this environment's kfp.
        use_venv = not args.reuse_env and pip_installs(pipeline)
        emit("runner", line=f"SubprocessRunner(use_venv={use_venv})")
        local.init(runner=local.SubprocessRunner(use_venv=use_venv), pipeline_root=str(args.root), raise_on_error=False)
    except (KftuiError, ImportError, OSError, ValueError) as exc:
        emit("pipeline_end", state="FAILED", error=str(exc))
        return 2
    streams = TaskStreams()
    events = EventFilter(streams)
    # kfp.local sets the root logger to INFO around each task and restores the level it found; with tasks on
    # threads, one task's restore drops another's records (its "finished" line vanished). INFO from the start
    # makes every restore a no-op.
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger().addFilter(events)
    sys.stdout = _Writer(streams)  # type: ignore[assignment]
    try:
        result = pipeline(**params)
    except Exception as exc:  # kfp.local raises for unsupported features; report it as the run's end
        text = str(exc)
        if "only supports running Lightweight Python Components" in text:
            text = not_lightweight(args.pipeline, exc)
        else:
            text = f"{type(exc).__name__}: {text}"
        emit("pipeline_end", state="FAILED", error=text.splitlines()[0] if text else type(exc).__name__)
        return 1
    finally:
        sys.stdout = _OUT
        logging.getLogger().removeFilter(events)
    if events.final_state == "SUCCEEDED":
        outputs = getattr(result, "outputs", None) or {}
        emit("outputs", outputs={k: str(v) for k, v in dict(outputs).items()})
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
