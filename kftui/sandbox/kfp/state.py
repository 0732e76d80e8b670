"""The fake KFP backend's state: experiments, runs and the little simulation that moves runs along."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.kfp.argo import PHASES, Node, PodSink, fnv32a, pod_entry, pod_name, task_details

EPOCH = "1970-01-01T00:00:00Z"
"""What real KFP returns for a time that has not happened yet (finished_at of a running run)."""

STATES = ("PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CANCELING", "CANCELED", "PAUSED")
FINISHED = {"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"}

# google.rpc.Code values KFP puts in `code`.
CODES = {400: 3, 404: 5, 409: 6, 412: 9, 500: 13, 501: 12}

_RELATIVE = re.compile(r"^-(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class KfpError(Exception):
    """An API error in KFP's JSON shape, with its HTTP status."""

    def __init__(self, status: int, message: str, code: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else CODES.get(status, 2)
        self.detail = detail if detail is not None else message
        """The user-facing (external) message the backend puts in `details`; `message` is the wrapped chain."""

    def body(self) -> dict[str, Any]:
        """The grpc-gateway error body KFP sends."""
        return {
            "error": self.message,
            "code": self.code,
            "message": self.message,
            "details": [{"@type": "type.googleapis.com/google.rpc.Status", "code": self.code, "message": self.detail}],
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
class Attempt:
    """One try of a container task (a pod of `system-container-impl`)."""

    start: datetime
    end: datetime | None = None
    state: str = "RUNNING"
    error: str = ""
    outcome: str = ""
    """How the simulation will end this attempt (decided when it starts, so its pod's log is known up front)."""


@dataclass
class Task:
    """One pipeline task as the simulation runs it; the Argo nodes and task_details are derived from these."""

    task_id: str
    name: str
    state: str = "PENDING"
    start: datetime | None = None
    end: datetime | None = None
    error: str = ""
    depends: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parent: str = ""
    seq: int = 0
    """Start order: KFP's times have whole seconds, so ties are listed in the order tasks started."""
    kind: str = "container"
    """container, dag (conditions, exit handlers, nested pipelines), loop, iteration, or root."""
    component: str = ""
    retries: int = 0
    """The task's retryPolicy.maxRetryCount (0: no retry policy, a plain executor pod)."""
    cached: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    index: int = -1
    """Iteration number, for the iterations of a loop."""
    parallelism: int = 0
    exit_handler: bool = False
    """Runs when its upstream tasks finished, whatever their state (triggerPolicy ALL_UPSTREAM_TASKS_COMPLETED)."""
    condition: str = ""
    """The task's triggerPolicy.condition; the simulation takes it as true unless listed in false_conditions."""
    omitted: bool = False
    """Skipped because an upstream task failed: Argo marks its nodes Omitted."""
    retry_round: int = 0
    """How many times the run was retried with this task in it (a retried task no longer fails on purpose)."""


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
    workflow: str = ""
    """The Argo workflow's name (generateName from the pipeline name), which every node and pod name starts with."""
    node_ids: dict[str, str] = field(default_factory=dict)
    """Node name -> task_id, assigned once as the task store does."""
    pods: dict[str, str] = field(default_factory=dict)
    """Pod name -> the phase the kube sandbox was last told (pods are made as their nodes start)."""
    submitted: bool = False
    """Created through the API (its pods are made here); a seeded run's pods, if any, are the kube scenario's."""

    def set_state(self, state: str, now: datetime) -> None:
        """Change state and remember it in state_history."""
        self.state = state
        self.history.append((now, state))
        if state in FINISHED:
            self.finished = now

    def children(self, task: Task) -> list[Task]:
        """A task's child tasks in plan order."""
        return [self.tasks[c] for c in task.children]

    def root(self) -> Task:
        """The run's root DAG task."""
        for task in self.tasks.values():
            if not task.parent:
                return task
        raise KfpError(500, f"run {self.run_id} has no root task")

    def nodes(self) -> list[Node]:
        """The Argo workflow's nodes for the run as it stands (none before the workflow started)."""
        root = self.root()
        if root.start is None:
            return []
        wf = self.workflow
        out: list[Node] = []
        top = Node(wf, wf, "DAG", "entrypoint", _phase(root), root.start, root.end)
        driver = Node(f"{wf}.root-driver", "root-driver", "Pod", "system-dag-driver", "Succeeded", root.start,
                      root.start, role="driver", logs=_driver_logs("root", root.start))  # fmt: skip
        dag = Node(f"{wf}.root", "root", "DAG", "root", _phase(root), root.start, root.end)
        top.children, driver.children = [driver.name], [dag.name]
        out += [top, driver, dag]
        self._emit_dag(root, dag, out)
        return out

    def _emit_dag(self, task: Task, dag: Node, out: list[Node]) -> list[Node]:
        """Emit a DAG's child tasks, linked the way Argo links them (entry tasks under the DAG, the others under
        the outbound nodes of what they depend on); returns the DAG's outbound nodes."""
        made: dict[str, tuple[Node, list[Node]]] = {}
        for child in self.children(task):
            entry_exit = self._emit_task(child, dag.name, out)
            if entry_exit is not None:
                made[child.name] = entry_exit
        depended = {d for c in self.children(task) for d in c.depends}
        for child in self.children(task):
            if child.name not in made:
                continue
            entry = made[child.name][0]
            parents = [n for d in child.depends if d in made for n in made[d][1]]
            for parent in parents or [dag]:
                if entry.name not in parent.children:
                    parent.children.append(entry.name)
        leaves = [n for name, (_, outs) in made.items() if name not in depended for n in outs]
        return leaves or [dag]

    def _emit_task(self, task: Task, prefix: str, out: list[Node]) -> tuple[Node, list[Node]] | None:
        """One pipeline task's nodes: (its entry node, its outbound nodes), or None before Argo created it."""
        if task.state == "PENDING" and task.start is None:
            return None
        name, phase = f"{prefix}.{task.name}", _phase(task)
        if task.kind == "loop":
            if task.omitted:
                node = Node(name, task.name, "Skipped", f"{task.component}-{task.name}-iterator", "Omitted", None, None)
                out.append(node)
                return node, [node]
            loop = Node(name, task.name, "DAG", f"{task.component}-{task.name}-iterator", phase, task.start, task.end)
            drv = Node(f"{name}.iteration-driver", "iteration-driver", "Pod", "system-dag-driver", "Succeeded",
                       task.start, task.start, role="driver", logs=_driver_logs(task.name, task.start))  # fmt: skip
            group = Node(f"{name}.iteration-iterations", "iteration-iterations", "TaskGroup",
                         f"{task.component}-iteration", phase, task.start, task.end)  # fmt: skip
            loop.children, drv.children = [drv.name], [group.name]
            out += [loop, drv, group]
            outs: list[Node] = []
            for it in self.children(task):
                if it.start is None:
                    continue
                label = f"iteration-iterations({it.index}:{it.index})"
                iteration = Node(f"{name}.{label}", label, "DAG", f"{task.component}-iteration", _phase(it),
                                 it.start, it.end)  # fmt: skip
                idrv = Node(f"{iteration.name}.iteration-item-driver", "iteration-item-driver", "Pod",
                            "system-dag-driver", "Succeeded", it.start, it.start, role="driver",
                            logs=_driver_logs(f"{task.name} iteration {it.index}", it.start))  # fmt: skip
                item = Node(f"{iteration.name}.iteration-item", "iteration-item", "DAG", task.component,
                            _phase(it), it.start, it.end)  # fmt: skip
                group.children.append(iteration.name)
                iteration.children, idrv.children = [idrv.name], [item.name]
                out += [iteration, idrv, item]
                outs += self._emit_dag(it, item, out)
            return loop, outs or [group]
        template = "system-dag-driver" if task.kind == "dag" else "system-container-driver"
        drv = Node(f"{name}-driver", f"{task.name}-driver", "Pod", template, "Succeeded", task.start, task.start,
                   role="driver", logs=_driver_logs(task.name, task.start, task.cached))  # fmt: skip
        if task.omitted:
            drv.type, drv.phase, drv.start, drv.end, drv.role = "Skipped", "Omitted", None, None, ""
            node = Node(name, task.name, "Skipped", template, "Omitted", None, None)
            drv.children = [node.name]
            out += [drv, node]
            return drv, [node]
        if task.kind == "dag":
            dag = Node(name, task.name, "DAG", task.component, phase, task.start, task.end)
            drv.children = [dag.name]
            out += [drv, dag]
            if task.state == "SKIPPED":
                dag.type, dag.message = "Skipped", "when 'false != false' evaluated false"
                return drv, [dag]
            return drv, self._emit_dag(task, dag, out)
        executor = "retry-system-container-executor" if task.retries else "system-container-executor"
        impl = "retry-system-container-impl" if task.retries else "system-container-impl"
        node = Node(name, task.name, "DAG", executor, phase, task.start, task.end)
        drv.children = [node.name]
        out += [drv, node]
        if task.state == "SKIPPED" and task.condition:
            node.type, node.message = "Skipped", "when 'false != false' evaluated false"
            return drv, [node]
        if task.cached:
            skipped = Node(f"{name}.executor", "executor", "Skipped", impl, "Skipped", task.start, task.start,
                           message="when 'true != true' evaluated false")  # fmt: skip
            node.children = [skipped.name]
            out.append(skipped)
            return drv, [skipped]
        if task.retries:
            retry = Node(f"{name}.executor", "executor", "Retry", impl, phase, task.start, task.end)
            node.children = [retry.name]
            out.append(retry)
            pods = []
            for i, attempt in enumerate(task.attempts):
                pod = Node(f"{name}.executor({i})", f"executor({i})", "Pod", impl, _phase_of(attempt.state),
                           attempt.start, attempt.end, role="launcher",
                           logs=_launcher_logs(task.name, i, attempt))  # fmt: skip
                retry.children.append(pod.name)
                pods.append(pod)
            out += pods
            return drv, pods[-1:] or [retry]
        last = task.attempts[-1] if task.attempts else Attempt(task.start or self.created, task.end, task.state)
        pod = Node(f"{name}.executor", "executor", "Pod", impl, _phase_of(last.state), last.start, last.end,
                   role="launcher", logs=_launcher_logs(task.name, 0, last))  # fmt: skip
        node.children = [pod.name]
        out.append(pod)
        return drv, [pod]

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
            "run_details": {
                "task_details": task_details(
                    self.run_id, self.workflow, self.scheduled or self.created, self.nodes(), rfc3339, self.node_ids
                )
            },
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


def _phase(task: Task) -> str:
    return PHASES.get(task.state, "Pending")


def _phase_of(state: str) -> str:
    return PHASES.get(state, "Pending")


def _glog(moment: datetime | None, line: int, text: str) -> str:
    """A line as the KFP driver and launcher (Go, glog) print it."""
    when = (moment or datetime.now(UTC)).astimezone(UTC)
    return f"I{when:%m%d %H:%M:%S}.000000 {line:7d} {text}"


def _driver_logs(task: str, moment: datetime | None, cached: bool = False) -> list[str]:
    """What a driver pod prints: what it resolved, and whether the cache answered."""
    lines = [
        _glog(moment, 1, f"main.go:121] input ComponentSpec for {task} resolved"),
        _glog(moment, 1, "driver.go:254] parent DAG execution found"),
    ]
    if cached:
        lines.append(_glog(moment, 1, "cache.go:98] Use cache for task: cached execution found, skipping the executor"))
    lines.append(_glog(moment, 1, "main.go:176] output execution ID written"))
    return lines


def _launcher_logs(task: str, attempt: int, run: Attempt) -> list[str]:
    """What the user's container prints through the launcher, ending in its error when it failed."""
    lines = [
        _glog(run.start, 1, "launcher_v2.go:90] input ComponentSpec resolved"),
        f"{task}: attempt {attempt} started",
    ]
    ending = run.outcome if run.state == "RUNNING" and run.outcome else run.state
    if ending == "FAILED":
        lines += ["Traceback (most recent call last):", f"  File \"/tmp/tmp.kfp/ephemeral_component.py\", in {task}",
                  run.error or "RuntimeError: task failed"]  # fmt: skip
    elif ending == "SUCCEEDED":
        lines.append(f"{task}: done")
    return lines


_PARAM_KINDS = {
    "NUMBER_DOUBLE": ((int, float), "double or integer", "number"),
    "NUMBER_INTEGER": ((int, float), "double or integer", "number"),
    "STRING": ((str,), "string", "string"),
    "BOOLEAN": ((bool,), "bool", "bool"),
    "LIST": ((list,), "list", "list"),
    "STRUCT": ((dict,), "struct", "struct"),
}


def _validate_inputs(spec: dict[str, Any], given: dict[str, Any]) -> None:
    """The backend's validatePipelineJobInputs (template/v2_template.go), with its words and wrapping."""
    params = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
    prefix = "Failed to create a new run: Failed to generate the ExecutionSpec: invalid pipeline job inputs: "

    def fail(detail: str) -> KfpError:
        return KfpError(400, f"{prefix}Invalid input error: {detail}", detail=detail)

    for name in sorted(params):
        param = params[name] or {}
        if name not in given:
            if not param.get("isOptional") and "defaultValue" not in param:
                raise fail(f"parameter {name} is not optional, yet has neither default value nor user provided value")
            continue
        kind = _PARAM_KINDS.get(str(param.get("parameterType") or ""))
        if kind is None:
            raise fail(f"input parameter {name} has unspecified type")
        value = given[name]
        ok = isinstance(value, kind[0]) and not (kind[2] == "number" and isinstance(value, bool))
        if not ok:
            raise fail(
                f"input parameter {name} requires type {kind[1]}, but the parameter value is not of "
                f"{kind[2]} value type"
            )
    extra = [name for name in given if name not in params]
    if extra:
        raise fail(f"parameter(s) provided are not required by pipeline: {', '.join(extra)}")


def _iterations(task: dict[str, Any], parameters: dict[str, Any]) -> int:
    """How many iterations a ParallelFor has: its raw items, else the pipeline parameter it loops over, else 3."""
    iterator = task.get("parameterIterator") or task.get("artifactIterator") or {}
    items = iterator.get("items") or {}
    raw = items.get("raw")
    if isinstance(raw, str):
        try:
            values = json.loads(raw)
        except ValueError:
            values = None
        if isinstance(values, list):
            return len(values)
    wanted = str(items.get("inputParameter") or "")
    inputs = ((task.get("inputs") or {}).get("parameters") or {}).get(wanted) or {}
    source = inputs.get("componentInputParameter")
    value = parameters.get(str(source)) if source else None
    return len(value) if isinstance(value, list) else 3


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
        self.fail_times = int(sim.get("fail_times", 1))
        """How many attempts of a task in fail_tasks fail before one succeeds (per run, before any run retry)."""
        self.cached_tasks = {str(t) for t in sim.get("cached_tasks") or []}
        """Task names the cache answers: only their driver runs, the executor is Skipped."""
        self.false_conditions = {str(t) for t in sim.get("false_conditions") or []}
        """Tasks (or condition groups) whose triggerPolicy condition evaluates false."""
        self.pod_sink: PodSink | None = None
        self.pod_namespace = str(scenario.get("pods_namespace", "") or "")
        self.pod_node = str(scenario.get("pods_node", "") or "")
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
            workflow=str(item.get("workflow") or f"{str(item.get('name', 'run'))[:40]}-{uuid.uuid4().hex[:5]}"),
        )
        run.history.append((created, "PENDING"))
        if state != "PENDING":
            run.history.append((run.scheduled or created, "RUNNING"))
        if state not in {"PENDING", "RUNNING"}:
            run.history.append((run.finished or created, state))
        root = Task(
            task_id=str(uuid.uuid4()), name="root", state=state, start=run.scheduled, end=run.finished, kind="root"
        )
        run.tasks[root.task_id] = root
        self._seed_tasks(run, root, item.get("tasks") or [])
        self.runs[run.run_id] = run

    def _seed_tasks(self, run: Run, parent: Task, items: list[dict[str, Any]]) -> None:
        for item in items:
            start, end = parse_time(item.get("start"), self.now), parse_time(item.get("end"), self.now)
            state = str(item.get("state", "SUCCEEDED")).upper()
            kind = "loop" if item.get("iterations") is not None else "dag" if item.get("tasks") else "container"
            task = self._add(
                run,
                parent,
                str(item["name"]),
                kind=kind,
                component=f"comp-{item['name']}",
                state=state,
                start=start,
                end=end,
                error=str(item.get("error", "") or ""),
                depends=[str(d) for d in item.get("depends") or []],
                retries=int(item.get("retries", 0) or 0),
                cached=bool(item.get("cached", False)),
                task_id=str(item.get("id") or uuid.uuid4()),
            )
            task.omitted = state == "SKIPPED" and start is None and bool(task.depends)
            for att in item.get("attempts") or []:
                task.attempts.append(
                    Attempt(
                        parse_time(att.get("start"), self.now) or start or self.now,
                        parse_time(att.get("end"), self.now),
                        str(att.get("state", "SUCCEEDED")).upper(),
                        str(att.get("error", "") or ""),
                    )
                )
            if task.kind == "container" and start is not None and not task.attempts and not task.cached:
                task.attempts.append(Attempt(start, end, state, task.error))
            for index, body in enumerate(item.get("iterations") or []):
                iteration = self._add(run, task, f"{task.name}-{index}", kind="iteration", component=task.component)
                iteration.index = index
                self._seed_tasks(run, iteration, list(body or []))
                kids = run.children(iteration)
                starts = [k.start for k in kids if k.start is not None]
                iteration.start = min(starts) if starts else None
                states = {k.state for k in kids}
                iteration.state = "FAILED" if "FAILED" in states else "SUCCEEDED" if states <= FINISHED else "RUNNING"
                ends = [k.end for k in kids if k.end is not None]
                iteration.end = max(ends) if ends and states <= FINISHED else None
            self._seed_tasks(run, task, item.get("tasks") or [])

    def _add(self, run: Run, parent: Task, name: str, **values: Any) -> Task:
        """A new task under `parent`, in plan order."""
        task = Task(task_id=str(values.pop("task_id", "") or uuid.uuid4()), name=name, parent=parent.task_id, **values)
        task.seq = next(self.seq)
        run.tasks[task.task_id] = task
        run.order.append(task.task_id)
        parent.children.append(task.task_id)
        return task

    # ---- runs from the API -----------------------------------------------------------------------
    def create_run(self, body: dict[str, Any], experiment_id: str) -> Run:
        """A new PENDING run whose tasks come from the submitted pipeline spec (validated as the backend does)."""
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
            raise KfpError(
                400,
                "Failed to create a run due to invalid name: Invalid input error: "
                "The run name is empty. Please specify a valid name",
                detail="The run name is empty. Please specify a valid name",
            )
        parameters = dict(runtime.get("parameters") or {})
        _validate_inputs(spec, parameters)
        pipeline = str((spec.get("pipelineInfo") or {}).get("name") or "pipeline")
        run = Run(
            run_id=str(uuid.uuid4()),
            name=name,
            experiment_id=exp.experiment_id,
            namespace=exp.namespace,
            state="PENDING",
            created=datetime.now(UTC),
            description=str(body.get("description") or ""),
            pipeline_spec=raw_spec,
            parameters=parameters,
            pipeline_root=str(runtime.get("pipeline_root") or ""),
            service_account=str(body.get("service_account") or ""),
            advance=True,
            workflow=f"{pipeline[:40].strip('-')}-{uuid.uuid4().hex[:5]}",
            submitted=True,
        )
        run.history.append((run.created, "PENDING"))
        root = Task(task_id=str(uuid.uuid4()), name="root", state="PENDING", kind="root")
        run.tasks[root.task_id] = root
        self._plan_tasks(run, root, spec, spec["root"].get("dag") or {})
        self.runs[run.run_id] = run
        return run

    def _plan_tasks(self, run: Run, parent: Task, spec: dict[str, Any], dag: dict[str, Any]) -> None:
        components = spec.get("components") or {}
        for name, body in (dag.get("tasks") or {}).items():
            ref = str((body.get("componentRef") or {}).get("name") or "")
            nested = (components.get(ref) or {}).get("dag") or {}
            trigger = body.get("triggerPolicy") or {}
            values: dict[str, Any] = {
                "depends": [str(d) for d in body.get("dependentTasks") or []],
                "component": ref,
                "exit_handler": trigger.get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED",
                "condition": str(trigger.get("condition") or ""),
                "retries": int((body.get("retryPolicy") or {}).get("maxRetryCount") or 0),
                "cached": str(name) in self.cached_tasks,
            }
            if body.get("parameterIterator") or body.get("artifactIterator"):
                loop = self._add(run, parent, str(name), kind="loop", **values)
                loop.parallelism = int((body.get("iteratorPolicy") or {}).get("parallelismLimit") or 0)
                for index in range(_iterations(body, run.parameters)):
                    iteration = self._add(run, loop, f"{name}-{index}", kind="iteration", component=ref, index=index)
                    self._plan_tasks(run, iteration, spec, nested)
                continue
            task = self._add(run, parent, str(name), kind="dag" if nested else "container", **values)
            if nested:
                self._plan_tasks(run, task, spec, nested)

    def connect_pods(self, sink: PodSink | None, namespace: str = "") -> None:
        """Make the pods of runs in the kube sandbox from now on (driver and launcher pods, as Argo would)."""
        with self.lock:
            self.pod_sink = sink
            self.pod_namespace = namespace or self.pod_namespace

    def touch(self, run: Run) -> None:
        """A client looked at the run: maybe move it one step (by polls or by elapsed time)."""
        if run.advance:
            run.polls += 1
            by_polls = self.polls_per_step > 0 and run.polls >= self.polls_per_step
            by_time = time.monotonic() - run.last_step >= self.seconds_per_step
            if by_polls or by_time:
                run.polls = 0
                run.last_step = time.monotonic()
                self.step(run)
        self.sync_pods(run)

    def sync_pods(self, run: Run) -> None:
        """Tell the kube sandbox about the run's pods: made as their nodes start, finished as they finish."""
        sink = self.pod_sink
        if sink is None or not run.submitted:
            return
        namespace = run.namespace or self.pod_namespace or "kubeflow"
        now = datetime.now(UTC)
        for node in run.nodes():
            if node.type != "Pod" or node.phase in ("Pending", "Omitted"):
                continue
            entry = pod_entry(
                run.workflow, run.run_id, namespace, node, int((now - (node.start or now)).total_seconds())
            )
            name = entry["name"]
            known = run.pods.get(name)
            if known is None:
                sink.add_pod(entry)
                known = run.pods[name] = "Running"
            if node.phase in ("Succeeded", "Failed") and known == "Running":
                done = {"labels": {"workflows.argoproj.io/completed": "true"}}
                sink.update_pod(namespace, name, {"status": {"phase": node.phase}, "metadata": done})
                run.pods[name] = node.phase

    def step(self, run: Run) -> None:
        """One simulation step: PENDING -> RUNNING, then tasks start and finish layer by layer."""
        now = datetime.now(UTC)
        root = run.root()
        if run.state == "PENDING":
            run.scheduled = now
            run.set_state("RUNNING", now)
            root.state, root.start = "RUNNING", now
            return
        if run.state == "CANCELING":
            for task in run.tasks.values():
                if task.state in {"RUNNING", "PENDING"}:
                    task.state, task.end = "CANCELED", now
                    if task.attempts and task.attempts[-1].end is None:
                        task.attempts[-1].end, task.attempts[-1].state = now, "CANCELED"
            run.set_state("CANCELED", now)
            run.advance = False
            return
        if run.state != "RUNNING":
            run.advance = False
            return
        running = [t for t in run.tasks.values() if t.kind == "container" and t.state == "RUNNING"]
        for task in running:
            self._finish_attempt(task, now)
        self._settle(run, now)
        if run.state != "RUNNING":
            return
        if not running:
            self._start_ready(run, root, now)

    def _finish_attempt(self, task: Task, now: datetime) -> None:
        """The running attempt ends; a failure with retries left starts the next attempt at once."""
        attempt = task.attempts[-1]
        attempt.end = now
        if attempt.outcome == "FAILED":
            message = attempt.error
            attempt.state = "FAILED"
            if len(task.attempts) <= task.retries:
                task.attempts.append(self._attempt(task, now))
                return
            task.state, task.end, task.error = "FAILED", now, message
            return
        attempt.state = "SUCCEEDED"
        task.state, task.end = "SUCCEEDED", now

    def _start_ready(self, run: Run, parent: Task, now: datetime) -> None:
        """Start the tasks whose parent runs and whose upstream tasks finished (skip those whose upstream failed)."""
        if parent.state != "RUNNING":
            return
        kids = run.children(parent)
        by_name = {k.name: k for k in kids}
        busy = sum(1 for k in kids if k.state == "RUNNING")
        for task in kids:
            if task.state == "RUNNING":
                self._start_ready(run, task, now)
                continue
            if task.state != "PENDING":
                continue
            deps = [by_name[d] for d in task.depends if d in by_name]
            if any(d.state not in FINISHED for d in deps):
                continue
            if not task.exit_handler and any(d.state != "SUCCEEDED" for d in deps):
                task.state, task.end, task.omitted = "SKIPPED", now, True
                continue
            if parent.kind == "loop" and parent.parallelism and busy >= parent.parallelism:
                continue
            busy += 1
            task.start, task.seq = now, next(self.seq)
            if task.condition and task.name in self.false_conditions:
                task.state, task.end = "SKIPPED", now
                continue
            if task.kind == "container":
                if task.cached:
                    task.state, task.end = "SUCCEEDED", now
                else:
                    task.state = "RUNNING"
                    task.attempts.append(self._attempt(task, now))
            else:
                task.state = "RUNNING"

    def _attempt(self, task: Task, now: datetime) -> Attempt:
        """A new attempt, its outcome decided now: a task in fail_tasks fails its first fail_times attempts."""
        message = self.fail_tasks.get(task.name)
        failures = sum(1 for a in task.attempts if a.state == "FAILED")
        if message is not None and failures < self.fail_times and task.retry_round == 0:
            return Attempt(now, outcome="FAILED", error=message)
        return Attempt(now, outcome="SUCCEEDED")

    def _settle(self, run: Run, now: datetime) -> None:
        """Finish DAGs whose children all finished (FAILED if one failed); the root ends the run."""
        for tid in reversed(run.order):
            task = run.tasks[tid]
            kids = run.children(task)
            if task.kind != "container" and task.state == "RUNNING" and kids and all(k.state in FINISHED for k in kids):
                task.state = "FAILED" if any(k.state == "FAILED" for k in kids) else "SUCCEEDED"
                task.end = now
        root = run.root()
        kids = run.children(root)
        if root.state == "RUNNING" and all(k.state in FINISHED for k in kids):
            failed = [t for t in run.tasks.values() if t.kind == "container" and t.state == "FAILED"]
            final = "FAILED" if failed else "SUCCEEDED"
            root.state, root.end = final, now
            if failed:
                run.error = "failed tasks: " + ", ".join(t.name for t in failed)
            run.set_state(final, now)
            run.advance = False

    def _root(self, run: Run) -> Task:
        return run.root()

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
        """Re-run what failed, as the backend's retry does: failed and skipped nodes (and their pods) are deleted and
        the workflow runs them again under the same node names."""
        run = self.get_run(run_id)
        if run.state not in {"FAILED", "CANCELED"}:
            raise KfpError(400, f"Failed to retry run {run_id}: run in state {run.state} cannot be retried", code=9)
        now = datetime.now(UTC)
        before = {n.name for n in run.nodes()}
        for task in run.tasks.values():
            if task.state in {"FAILED", "SKIPPED", "CANCELED"} and task.kind != "root":
                task.state, task.end, task.error, task.start = "PENDING", None, "", None
                task.attempts, task.omitted = [], False
                task.retry_round += 1
            elif task.kind != "container" and task.state in {"FAILED", "CANCELED"}:
                task.state, task.end = "RUNNING", None
        for task in run.tasks.values():
            if (
                task.kind in ("dag", "loop", "iteration")
                and any(run.tasks[c].state == "PENDING" for c in task.children)
                and task.start is not None
            ):
                task.state, task.end = "RUNNING", None
        self._forget_pods(run, before - {n.name for n in run.nodes()})
        root = run.root()
        root.state, root.end = "RUNNING", None
        run.finished, run.error = None, ""
        run.set_state("RUNNING", now)
        run.finished = None
        run.advance = True
        run.polls = 0
        run.last_step = time.monotonic()

    def _forget_pods(self, run: Run, gone: set[str]) -> None:
        """Delete the pods of the nodes a retry removed (found by label and node-name annotation, seeded or made
        here); from now on the run's pods are made here, under the same node names."""
        run.submitted = True
        for node in run.nodes():  # what stays ran before and has its pod already (or had, before GC)
            if node.type == "Pod":
                run.pods.setdefault(pod_name(run.workflow, node.name, node.template), node.phase)
        sink = self.pod_sink
        if sink is None:
            run.pods = {k: v for k, v in run.pods.items() if not any(k.endswith(f"-{fnv32a(n)}") for n in gone)}
            return
        items, _ = sink.list_objects("pods", None)
        for pod in items:
            meta = pod.get("metadata") or {}
            node_name = str((meta.get("annotations") or {}).get("workflows.argoproj.io/node-name") or "")
            if (meta.get("labels") or {}).get("pipeline/runid") == run.run_id and node_name in gone:
                sink.delete_pod(str(meta.get("namespace")), str(meta.get("name")))
                run.pods.pop(str(meta.get("name")), None)


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
