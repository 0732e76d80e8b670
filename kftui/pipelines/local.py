"""Local pipeline runs: kfp.local in a child process, streamed back as LocalEvents, remembered in an index.

kfp.local prints task logs on the process's stdout, which a TUI owns, so the run happens in
`python -m kftui.pipelines.local_child` (its own process group, so stop() ends the tasks too). The parent
reads the child's stdout line by line: `@@kftui {json}` lines are events (a task's state or one line it printed,
attributed in the child by the thread that printed it); anything else is the child's own output (a crash).
Past runs are listed from `<state_dir>/local-runs/index.json`; each run
keeps its pipeline root and full output log in `<state_dir>/local-runs/<id>/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kftui.core.runs import LocalEvent, LocalEventKind, LocalRunRecord, RunState
from kftui.pipelines.local_child import EVENT_PREFIX

INDEX_LOCK = threading.Lock()
_KINDS = {
    "pipeline_start": LocalEventKind.PIPELINE_START,
    "pipeline_end": LocalEventKind.PIPELINE_END,
    "task_start": LocalEventKind.TASK_START,
    "task_end": LocalEventKind.TASK_END,
    "log": LocalEventKind.LOG,
    "runner": LocalEventKind.RUNNER,
    "outputs": LocalEventKind.OUTPUTS,
}


def runs_dir(state_dir: Path) -> Path:
    """Where local runs and their index live."""
    return state_dir / "local-runs"


def _record_to_json(record: LocalRunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "pipeline": record.pipeline,
        "parameters": dict(record.parameters),
        "state": str(record.state),
        "started": record.started.isoformat(),
        "finished": record.finished.isoformat() if record.finished else None,
        "root": record.root,
        "log_path": record.log_path,
        "tasks": {k: str(v) for k, v in record.tasks.items()},
        "error": record.error,
    }


def _record_from_json(data: Mapping[str, Any]) -> LocalRunRecord:
    finished = data.get("finished")
    return LocalRunRecord(
        id=str(data["id"]),
        pipeline=str(data.get("pipeline", "")),
        parameters={str(k): str(v) for k, v in (data.get("parameters") or {}).items()},
        state=RunState.parse(data.get("state")),
        started=datetime.fromisoformat(str(data["started"])),
        finished=datetime.fromisoformat(str(finished)) if finished else None,
        root=str(data.get("root", "")),
        log_path=str(data.get("log_path", "")),
        tasks={str(k): RunState.parse(v) for k, v in (data.get("tasks") or {}).items()},
        error=str(data.get("error", "")),
    )


def list_local_runs(state_dir: Path) -> list[LocalRunRecord]:
    """Past and current local runs, newest first; an unreadable index reads as empty, never crashes."""
    index = runs_dir(state_dir) / "index.json"
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    records = []
    for item in data.get("runs", []) if isinstance(data, dict) else []:
        try:
            records.append(_record_from_json(item))
        except (KeyError, ValueError, TypeError):
            continue  # one damaged entry must not hide the others
    return sorted(records, key=lambda r: r.started, reverse=True)


def _save(state_dir: Path, record: LocalRunRecord) -> None:
    """Insert or replace one record in the index, atomically (write a temp file, then rename)."""
    with INDEX_LOCK:
        others = [r for r in list_local_runs(state_dir) if r.id != record.id]
        body = {"runs": [_record_to_json(r) for r in [record, *others]]}
        index = runs_dir(state_dir) / "index.json"
        index.parent.mkdir(parents=True, exist_ok=True)
        tmp = index.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        tmp.replace(index)


def parse_line(line: str) -> LocalEvent | None:
    """One line of child output -> an event (None for blank lines); a line that is not an event is the child's own."""
    text = line.rstrip("\r\n")
    if text.startswith(EVENT_PREFIX):
        try:
            data = json.loads(text[len(EVENT_PREFIX) :])
        except ValueError:
            return LocalEvent(LocalEventKind.RUNNER, line=text)
        kind = _KINDS.get(str(data.get("event")))
        if kind is None:
            return None
        if kind in (LocalEventKind.LOG, LocalEventKind.RUNNER):
            return LocalEvent(kind, task=data.get("task"), line=str(data.get("line", "")))
        state = data.get("state")
        return LocalEvent(
            kind,
            task=data.get("task"),
            state=RunState.parse(state) if state else None,
            outputs={str(k): str(v) for k, v in (data.get("outputs") or {}).items()},
            error=str(data.get("error") or ""),
            attempt=int(data.get("attempt") or 0),
        )
    if not text.strip():
        return None
    return LocalEvent(LocalEventKind.RUNNER, line=text)


class LocalRun:
    """A running (or finished) local pipeline run; iterate `events()` from one worker thread."""

    def __init__(self, process: subprocess.Popen[str], record: LocalRunRecord, state_dir: Path) -> None:
        self.process = process
        self.record = record
        self.state_dir = state_dir
        self._last_line: dict[str, str] = {}

    @property
    def id(self) -> str:
        """The local run id (also its directory name)."""
        return self.record.id

    def events(self, on_event: Callable[[LocalEvent], None] | None = None) -> Iterator[LocalEvent]:
        """Every event until the child exits; keeps the index and the log file up to date on the way."""
        stream: IO[str] | None = self.process.stdout
        if stream is None:
            return
        with Path(self.record.log_path).open("a", encoding="utf-8") as log:
            for line in stream:
                log.write(line)
                event = parse_line(line)
                if event is None:
                    continue
                event = self._apply(event)
                if on_event is not None:
                    on_event(event)
                yield event
        code = self.process.wait()
        if not self.record.state.finished:
            error = self.record.error or f"the local runner exited with code {code}"
            state = RunState.SUCCEEDED if code == 0 else RunState.FAILED
            self._update(state=state, finished=_now(), error="" if code == 0 else error)

    def _apply(self, event: LocalEvent) -> LocalEvent:
        """Fold an event into the record; a failed task without a message gets its last log line."""
        if event.kind is LocalEventKind.LOG and event.task:
            if event.line.strip():
                self._last_line[event.task] = event.line.strip()
        elif event.kind in (LocalEventKind.TASK_START, LocalEventKind.TASK_END) and event.task:
            task = event.task
            if event.state is RunState.FAILED and not event.error:
                event = replace(event, error=self._last_line.get(task, ""))
            tasks = dict(self.record.tasks)
            tasks[task] = event.state or RunState.UNKNOWN
            self._update(tasks=tasks)
        elif event.kind is LocalEventKind.PIPELINE_END:
            state = event.state or RunState.FAILED
            self._update(state=state, finished=_now(), error=event.error)
        return event

    def _update(self, **changes: Any) -> None:
        self.record = replace(self.record, **changes)
        _save(self.state_dir, self.record)

    def stop(self) -> None:
        """End the child and the task it is running (its whole process group); the run becomes CANCELED."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if not self.record.state.finished:
            self._update(state=RunState.CANCELED, finished=_now(), error="stopped by the user")

    def wait(self) -> LocalRunRecord:
        """Drain all events (when nobody else does) and return the final record."""
        for _ in self.events():
            pass
        return self.record


def _now() -> datetime:
    return datetime.now(UTC)


def start_local_run(
    pipeline: str | Path,
    params: Mapping[str, str] | None,
    state_dir: Path,
    *,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    reuse_env: bool = False,
) -> LocalRun:
    """Start the child runner for `file.py[:name]` or compiled YAML; the run is listed at once as RUNNING."""
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    run_dir = runs_dir(state_dir) / run_id
    root = run_dir / "root"
    root.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "output.log"
    log_path.touch()
    command = [python or sys.executable, "-m", "kftui.pipelines.local_child", str(pipeline), "--root", str(root)]
    for key, value in (params or {}).items():
        command += ["--param", f"{key}={value}"]
    if reuse_env:
        command.append("--reuse-env")
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env.setdefault("PYTHONIOENCODING", "utf-8")
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        env=child_env,
        start_new_session=True,  # own process group: stop() reaches the task processes too
    )
    record = LocalRunRecord(
        id=run_id,
        pipeline=str(pipeline),
        parameters=dict(params or {}),
        state=RunState.RUNNING,
        started=_now(),
        finished=None,
        root=str(root),
        log_path=str(log_path),
    )
    _save(state_dir, record)
    return LocalRun(process, record, state_dir)
