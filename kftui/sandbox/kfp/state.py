"""The fake KFP backend's state: experiments, runs and the little simulation that moves runs along."""

from __future__ import annotations

import base64
import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kftui.sandbox.faults import FaultPlan

EPOCH = "1970-01-01T00:00:00Z"
"""What real KFP returns for a time that has not happened yet (finished_at of a running run)."""

STATES = ("PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CANCELING", "CANCELED", "PAUSED")
FINISHED = {"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"}

# google.rpc.Code values KFP puts in `code`.
CODES = {400: 3, 404: 5, 409: 6, 412: 9, 500: 13, 501: 12}

_RELATIVE = re.compile(r"^-(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class KfpError(Exception):
    """An API error in KFP's JSON shape, with its HTTP status."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else CODES.get(status, 2)

    def body(self) -> dict[str, Any]:
        """The grpc-gateway error body KFP sends."""
        return {
            "error": self.message,
            "code": self.code,
            "message": self.message,
            "details": [{"@type": "type.googleapis.com/google.rpc.Status", "code": self.code, "message": self.message}],
        }


def rfc3339(moment: datetime | None) -> str:
    """KFP's time format; unset times become the epoch, exactly like the real server."""
    if moment is None:
        return EPOCH
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any, now: datetime) -> datetime | None:
    """Scenario times: ISO 8601, or relative to server start like `-2h`, `-7d3h`, `-90s`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    match = _RELATIVE.match(text)
    if match and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return now - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Task:
    """One task detail entry (a DAG task lists its children)."""

    task_id: str
    name: str
    state: str = "PENDING"
    start: datetime | None = None
    end: datetime | None = None
    error: str = ""
    depends: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parent: str = ""
    attempt: int = 0
    seq: int = 0
    """Start order: KFP's times have whole seconds, so ties are listed in the order tasks started."""

    def to_json(self, run_id: str) -> dict[str, Any]:
        """The PipelineTaskDetail JSON; pod_name stays empty as in real KFP."""
        body: dict[str, Any] = {
            "run_id": run_id,
            "task_id": self.task_id,
            "display_name": self.name,
            "create_time": rfc3339(self.start),
            "start_time": rfc3339(self.start),
            "end_time": rfc3339(self.end),
            "state": self.state,
            "pod_name": "",
            "child_tasks": [{"task_id": c, "pod_name": ""} for c in self.children],
            "state_history": [{"update_time": rfc3339(self.end or self.start), "state": self.state}],
        }
        if self.parent:
            body["parent_task_id"] = self.parent
        if self.error:
            body["error"] = {"code": 2, "message": self.error, "details": []}
        return body


@dataclass
class Run:
    """A run and its simulation bookkeeping."""

    run_id: str
    name: str
    experiment_id: str
    namespace: str
    state: str
    created: datetime
    finished: datetime | None = None
    scheduled: datetime | None = None
    error: str = ""
    description: str = ""
    storage_state: str = "AVAILABLE"
    pipeline_spec: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_root: str = ""
    service_account: str = ""
    tasks: dict[str, Task] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    advance: bool = False
    polls: int = 0
    last_step: float = field(default_factory=time.monotonic)
    history: list[tuple[datetime, str]] = field(default_factory=list)

    def set_state(self, state: str, now: datetime) -> None:
        """Change state and remember it in state_history."""
        self.state = state
        self.history.append((now, state))
        if state in FINISHED:
            self.finished = now

    def _in_start_order(self) -> list[Task]:
        """Started tasks by start time then start order; tasks not started yet last, in plan order."""
        started = [t for t in self.tasks.values() if t.start is not None]
        waiting = [t for t in self.tasks.values() if t.start is None]
        return sorted(started, key=lambda t: (t.start or self.created, t.seq)) + waiting

    def to_json(self) -> dict[str, Any]:
        """The V2beta1Run JSON."""
        body: dict[str, Any] = {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "display_name": self.name,
            "description": self.description,
            "storage_state": self.storage_state,
            "service_account": self.service_account,
            "created_at": rfc3339(self.created),
            "scheduled_at": rfc3339(self.scheduled),
            "finished_at": rfc3339(self.finished),
            "state": self.state,
            "runtime_config": {"parameters": self.parameters, "pipeline_root": self.pipeline_root},
            "run_details": {"task_details": [t.to_json(self.run_id) for t in self._in_start_order()]},
            "state_history": [{"update_time": rfc3339(t), "state": s} for t, s in self.history],
        }
        if self.pipeline_spec is not None:
            body["pipeline_spec"] = self.pipeline_spec
        if self.error:
            body["error"] = {"code": 2, "message": self.error, "details": []}
        return body


@dataclass
class Experiment:
    """An experiment; runs point at it by id."""

    experiment_id: str
    name: str
    namespace: str
    created: datetime
    description: str = ""
    storage_state: str = "AVAILABLE"

    def to_json(self) -> dict[str, Any]:
        """The V2beta1Experiment JSON."""
        return {
            "experiment_id": self.experiment_id,
            "display_name": self.name,
            "description": self.description,
            "namespace": self.namespace,
            "created_at": rfc3339(self.created),
            "storage_state": self.storage_state,
        }


def _spec_tasks(spec: dict[str, Any], dag: dict[str, Any]) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(name, dependencies, nested dag or {}) for each task of a pipeline-spec DAG."""
    components = spec.get("components") or {}
    out = []
    for name, task in (dag.get("tasks") or {}).items():
        ref = ((task.get("componentRef") or {}).get("name")) or ""
        nested = (components.get(ref) or {}).get("dag") or {}
        out.append((str(name), [str(d) for d in task.get("dependentTasks") or []], nested))
    return out


class World:
    """Everything the fake KFP knows, guarded by one lock (servers and tests touch it from two threads)."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.multi_user = bool(scenario.get("multi_user", False))
        self.default_namespace = str(scenario.get("namespace", "") or "")
        sim = scenario.get("simulation") or {}
        self.polls_per_step = int(sim.get("polls_per_step", 1))
        self.seconds_per_step = float(sim.get("seconds_per_step", 2.0))
        self.fail_tasks = {str(t): str(m) for t, m in (sim.get("fail_tasks") or {}).items()}
        self.healthy = bool(scenario.get("healthy", True))
        self.experiments: dict[str, Experiment] = {}
        self.runs: dict[str, Run] = {}
        self.seq = itertools.count(1)
        self.faults = FaultPlan()
        """The fault plan this server acts out (the Sandbox's shared one when started by it)."""
        self.requests: list[tuple[str, str, dict[str, str], Any, str]] = []
        """(method, path, query, JSON body, Authorization header) of every request, for tests."""
        for item in scenario.get("experiments") or []:
            self._seed_experiment(item)
        for item in scenario.get("runs") or []:
            self._seed_run(item)

    # ---- seeding -------------------------------------------------------------------------------
    def _seed_experiment(self, item: dict[str, Any]) -> Experiment:
        exp = Experiment(
            experiment_id=str(item.get("id") or uuid.uuid4()),
            name=str(item["name"]),
            namespace=str(item.get("namespace", self.default_namespace) or ""),
            created=parse_time(item.get("created"), self.now) or self.now,
            description=str(item.get("description", "") or ""),
            storage_state=str(item.get("storage_state", "AVAILABLE")),
        )
        self.experiments[exp.experiment_id] = exp
        return exp

    def experiment_by_name(self, name: str, namespace: str = "") -> Experiment | None:
        """The experiment with this display name (in this namespace when given)."""
        for exp in self.experiments.values():
            if exp.name == name and (not namespace or exp.namespace == namespace):
                return exp
        return None

    def _seed_run(self, item: dict[str, Any]) -> None:
        exp_name = str(item.get("experiment", "Default"))
        exp = self.experiment_by_name(exp_name) or self._seed_experiment({"name": exp_name})
        state = str(item.get("state", "SUCCEEDED")).upper()
        if state not in STATES:
            raise ValueError(f"kfp scenario: run {item.get('name')!r} has unknown state {state!r}")
        created = parse_time(item.get("created"), self.now) or self.now
        run = Run(
            run_id=str(item.get("id") or uuid.uuid4()),
            name=str(item.get("name", "run")),
            experiment_id=exp.experiment_id,
            namespace=exp.namespace,
            state=state,
            created=created,
            scheduled=parse_time(item.get("scheduled"), self.now) or created,
            finished=parse_time(item.get("finished"), self.now),
            error=str(item.get("error", "") or ""),
            description=str(item.get("description", "") or ""),
            storage_state=str(item.get("storage_state", "AVAILABLE")),
            parameters=dict(item.get("parameters") or {}),
            advance=bool(item.get("advance", False)),
        )
        run.history.append((created, "PENDING"))
        if state != "PENDING":
            run.history.append((run.scheduled or created, "RUNNING"))
        if state not in {"PENDING", "RUNNING"}:
            run.history.append((run.finished or created, state))
        root = Task(task_id=str(uuid.uuid4()), name="root", state=state, start=run.scheduled, end=run.finished)
        run.tasks[root.task_id] = root
        self._seed_tasks(run, root, item.get("tasks") or [])
        self.runs[run.run_id] = run

    def _seed_tasks(self, run: Run, parent: Task, items: list[dict[str, Any]]) -> None:
        for item in items:
            task = Task(
                task_id=str(item.get("id") or uuid.uuid4()),
                name=str(item["name"]),
                state=str(item.get("state", "SUCCEEDED")).upper(),
                start=parse_time(item.get("start"), self.now),
                end=parse_time(item.get("end"), self.now),
                error=str(item.get("error", "") or ""),
                depends=[str(d) for d in item.get("depends") or []],
                parent=parent.task_id,
                seq=next(self.seq),
            )
            run.tasks[task.task_id] = task
            run.order.append(task.task_id)
            parent.children.append(task.task_id)
            self._seed_tasks(run, task, item.get("tasks") or [])

    # ---- runs from the API -----------------------------------------------------------------------
    def create_run(self, body: dict[str, Any], experiment_id: str) -> Run:
        """A new PENDING run whose tasks come from the submitted pipeline spec."""
        exp_id = str(body.get("experiment_id") or experiment_id or "")
        if exp_id:
            exp = self.experiments.get(exp_id)
            if exp is None:
                raise KfpError(404, f"Failed to create a run: Experiment {exp_id} not found")
        else:
            exp = self.experiment_by_name("Default") or self._seed_experiment({"name": "Default"})
        raw_spec = body.get("pipeline_spec")
        if not isinstance(raw_spec, dict):
            if body.get("pipeline_version_reference") or body.get("pipeline_version_id"):
                raise KfpError(404, "Failed to create a run: pipeline version not found")
            raise KfpError(400, "Invalid input error: a run needs a pipeline_spec or a pipeline version")
        spec = raw_spec.get("pipeline_spec", raw_spec) if "pipeline_spec" in raw_spec else raw_spec
        if not isinstance(spec.get("root"), dict):
            raise KfpError(400, "Invalid input error: pipeline_spec has no root DAG")
        runtime = body.get("runtime_config") or {}
        name = str(body.get("display_name") or "")
        if not name:
            raise KfpError(400, "Invalid input error: run display_name must not be empty")
        run = Run(
            run_id=str(uuid.uuid4()),
            name=name,
            experiment_id=exp.experiment_id,
            namespace=exp.namespace,
            state="PENDING",
            created=datetime.now(UTC),
            description=str(body.get("description") or ""),
            pipeline_spec=raw_spec,
            parameters=dict(runtime.get("parameters") or {}),
            pipeline_root=str(runtime.get("pipeline_root") or ""),
            service_account=str(body.get("service_account") or ""),
            advance=True,
        )
        run.history.append((run.created, "PENDING"))
        root = Task(task_id=str(uuid.uuid4()), name="root", state="PENDING")
        run.tasks[root.task_id] = root
        self._plan_tasks(run, root, spec, spec["root"].get("dag") or {})
        self.runs[run.run_id] = run
        return run

    def _plan_tasks(self, run: Run, parent: Task, spec: dict[str, Any], dag: dict[str, Any]) -> None:
        for name, depends, nested in _spec_tasks(spec, dag):
            task = Task(task_id=str(uuid.uuid4()), name=name, depends=depends, parent=parent.task_id)
            run.tasks[task.task_id] = task
            run.order.append(task.task_id)
            parent.children.append(task.task_id)
            if nested:
                self._plan_tasks(run, task, spec, nested)

    def touch(self, run: Run) -> None:
        """A client looked at the run: maybe move it one step (by polls or by elapsed time)."""
        if not run.advance:
            return
        run.polls += 1
        by_polls = self.polls_per_step > 0 and run.polls >= self.polls_per_step
        by_time = time.monotonic() - run.last_step >= self.seconds_per_step
        if by_polls or by_time:
            run.polls = 0
            run.last_step = time.monotonic()
            self.step(run)

    def step(self, run: Run) -> None:
        """One simulation step: PENDING -> RUNNING, tasks start and finish in dependency order."""
        now = datetime.now(UTC)
        root = self._root(run)
        if run.state == "PENDING":
            run.scheduled = now
            run.set_state("RUNNING", now)
            root.state, root.start = "RUNNING", now
            return
        if run.state == "CANCELING":
            for task in run.tasks.values():
                if task.state in {"RUNNING", "PENDING"}:
                    task.state, task.end = "CANCELED", now
            run.set_state("CANCELED", now)
            run.advance = False
            return
        if run.state != "RUNNING":
            run.advance = False
            return
        leaves = [run.tasks[t] for t in run.order if not run.tasks[t].children]
        running = [t for t in leaves if t.state == "RUNNING"]
        for task in running:
            message = self.fail_tasks.get(task.name)
            task.end = now
            if message is not None and task.attempt == 1:
                task.state, task.error = "FAILED", message
            else:
                task.state = "SUCCEEDED"
        self._settle(run, now)
        if run.state != "RUNNING":
            return
        by_name = {t.name: t for t in run.tasks.values()}
        if not running:
            for task in leaves:
                if task.state == "PENDING" and all(
                    by_name[d].state == "SUCCEEDED" for d in task.depends if d in by_name
                ):
                    task.state, task.start, task.attempt = "RUNNING", now, task.attempt + 1
                    task.seq = next(self.seq)
                    task.error = ""
            for task in run.tasks.values():
                started = any(run.tasks[c].state != "PENDING" for c in task.children)
                if task.children and task is not root and task.state == "PENDING" and started:
                    task.state, task.start = "RUNNING", now

    def _settle(self, run: Run, now: datetime) -> None:
        """Propagate failures (skip what depends on them) and finish DAGs whose children finished."""
        by_name = {t.name: t for t in run.tasks.values()}
        changed = True
        while changed:
            changed = False
            for task in run.tasks.values():
                if task.state == "PENDING" and any(
                    by_name[d].state in {"FAILED", "SKIPPED", "CANCELED"} for d in task.depends if d in by_name
                ):
                    task.state, task.end = "SKIPPED", now
                    changed = True
        for tid in reversed(run.order):
            task = run.tasks[tid]
            if task.children and task.state in {"PENDING", "RUNNING"}:
                states = {run.tasks[c].state for c in task.children}
                if states <= FINISHED:
                    task.state = "FAILED" if "FAILED" in states else "SUCCEEDED"
                    task.end = now
        leaves = [run.tasks[t] for t in run.order if not run.tasks[t].children]
        failed = any(t.state == "FAILED" for t in leaves)
        if all(t.state in FINISHED for t in leaves):
            root = self._root(run)
            final = "FAILED" if failed else "SUCCEEDED"
            root.state, root.end = final, now
            if failed:
                names = ", ".join(t.name for t in leaves if t.state == "FAILED")
                run.error = f"failed tasks: {names}"
            run.set_state(final, now)
            run.advance = False

    def _root(self, run: Run) -> Task:
        for task in run.tasks.values():
            if not task.parent:
                return task
        raise KfpError(500, f"run {run.run_id} has no root task")

    def get_run(self, run_id: str) -> Run:
        """The run or KFP's 404."""
        run = self.runs.get(run_id)
        if run is None:
            raise KfpError(404, f"Failed to get run {run_id}: ResourceNotFoundError: Run {run_id} not found")
        return run

    def terminate(self, run_id: str) -> None:
        """Ask a run to stop: CANCELING now, CANCELED on the next step."""
        run = self.get_run(run_id)
        if run.state in FINISHED:
            raise KfpError(400, f"Failed to terminate run {run_id}: run is already {run.state}", code=9)
        run.set_state("CANCELING", datetime.now(UTC))
        run.advance = True
        run.polls = 0
        run.last_step = time.monotonic()

    def retry(self, run_id: str) -> None:
        """Re-run the failed, skipped and canceled tasks of a failed or canceled run."""
        run = self.get_run(run_id)
        if run.state not in {"FAILED", "CANCELED"}:
            raise KfpError(400, f"Failed to retry run {run_id}: run in state {run.state} cannot be retried", code=9)
        now = datetime.now(UTC)
        for task in run.tasks.values():
            if task.state in {"FAILED", "SKIPPED", "CANCELED"}:
                task.state, task.end, task.error = "PENDING", None, ""
                task.attempt = max(task.attempt, 1)
        self._root(run).state = "RUNNING"
        run.finished, run.error = None, ""
        run.set_state("RUNNING", now)
        run.finished = None
        run.advance = True
        run.polls = 0
        run.last_step = time.monotonic()


def encode_token(offset: int) -> str:
    """Opaque page token."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token: str) -> int:
    """Offset back from a page token, or KFP's 400."""
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KfpError(400, f"Invalid input error: invalid page token {token!r}") from exc
