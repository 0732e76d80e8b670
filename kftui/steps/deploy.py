"""The deploy step: the plan's key values, its checks, the reviewable script, and the Fix that deploys it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status, Table
from kftui.core.plan import (
    DEFAULT_CPU,
    DEFAULT_RELEASE,
    MANIFESTS_REPO_ENV,
    MAX_NAP,
    MAX_POOL_NODES,
    PASSWORD_RULE,
    PORT_FORWARD,
    URL,
    PlanCheck,
    PlanError,
    PlanInputs,
    blocked,
    build_plan,
    check_plan,
    check_steps,
    deploy_command,
    fit_to_zone,
    is_rendered,
    password_problem,
    script,
    validate_cluster_name,
    validate_count,
    validate_machine_type,
    validate_release,
    validate_yes_no,
)
from kftui.core.validate import manifests_path
from kftui.errors import ConfigError
from kftui.steps.base import Field, Progress, StepContext, services_of, store_of

if TYPE_CHECKING:
    from kftui.core.plan import DeployPlan, PlanWorld

ACTION = "deploy"
SAVE = "save-script"


def plan_inputs(ctx: StepContext) -> PlanInputs:
    """The plan's inputs from remembered answers (the gpu step's type, count, maximum, zone and machine type)."""
    a = ctx.answer
    return PlanInputs(
        project=a("project"), zone=a("zone"), cluster=a("cluster_name"), release=a("kubeflow_release"),
        gpu_type=a("gpu_type"), gpu_count=a("gpu_count"), gpu_max_nodes=a("gpu_max_nodes"),
        gpu_min_nodes=a("gpu_min_nodes"), gpu_machine_type=a("machine_type"), spot=a("gpu_spot"),
        cpu_machine_type=a("cpu_machine_type"), cpu_nodes=a("cpu_nodes"), cpu_min_nodes=a("cpu_min_nodes"),
        cpu_max_nodes=a("cpu_max_nodes"), nap_max_cpu=a("nap_max_cpu"), nap_max_memory_gb=a("nap_max_memory_gb"),
        manifests=a("manifests"), repo=os.environ.get(MANIFESTS_REPO_ENV), recorded=ctx.answers,
    )


def default_script_path(plan: DeployPlan) -> Path:
    """Where the script goes unless the user says otherwise: the working directory, named after the cluster."""
    return Path(f"deploy-{plan.cluster}.sh")


def validate_script_path(value: str) -> str | None:
    """A file path whose directory exists (the script is never written somewhere half-made)."""
    text = value.strip()
    if not text:
        return "Save the script to: give a file path."
    path = Path(text).expanduser()
    if path.is_dir():
        return f"Save the script to: {path} is a directory; name a file in it."
    if not path.parent.is_dir():
        return f"Save the script to: the directory {path.parent} does not exist."
    return None


class DeployStep:
    """Turns the answers into a plan, checks it before anything is created, and deploys it on request."""

    id = "deploy"
    title = "Deploy"
    order = 90
    requires: tuple[str, ...] = ("project", "zone", "gpu_type")
    after: tuple[str, ...] = ("account", "project", "billing", "apis", "iam", "oauth", "gpu")
    """The plan's checks read whether these passed, so it runs once they are done."""
    checks: tuple[str, ...] = ("deploy.plan", "deploy.checks", "deploy.script", "deploy.state")
    fields: tuple[Field, ...] = (
        Field("cluster_name", "Cluster name", placeholder="kubeflow", validate=validate_cluster_name,
              help="GKE's rule: 1-40 lowercase letters, digits, hyphens; starts with a letter.", required=False),
        Field("kubeflow_release", "Kubeflow release", placeholder=DEFAULT_RELEASE, validate=validate_release,
              help="A kubeflow/manifests tag: 26.03 (newest) or v1.11.0.", required=False),
        Field("manifests", "Local manifests directory", placeholder="(clone the release tag)", required=False,
              validate=manifests_path,
              help="A kubeflow/manifests checkout or a rendered YAML file (air-gapped); empty means kftui clones "
                   "the tag (needs the network)."),
        Field("dex_password", "New Dex password", kind="secret", required=False,
              validate=lambda v: password_problem(v) if v else None,
              help=f"Replaces Dex's default user@example.com password (bcrypt-hashed in the cluster): "
                   f"{PASSWORD_RULE}. The deploy does not finish while the default stands."),
        Field("gpu_min_nodes", "Minimum GPU nodes", placeholder="0", validate=validate_count("Minimum GPU nodes", 0),
              help="0 means no GPU node (and no GPU cost) while nothing asks for a GPU.", required=False),
        Field("gpu_spot", "Spot GPU nodes", placeholder="no", validate=validate_yes_no("Spot GPU nodes"),
              help="yes: much cheaper GPU nodes that Google may reclaim (a notebook or step then restarts).",
              required=False),
        Field("machine_type", "GPU machine type", placeholder="(the smallest that carries the GPUs)",
              validate=lambda v: validate_machine_type(v, "GPU machine type"), required=False,
              help="e.g. n1-standard-8 for T4/V100/P100/P4, g2-standard-8 for L4, a2-highgpu-1g for A100."),
        Field("cpu_machine_type", "CPU machine type", placeholder=DEFAULT_CPU[0], required=False,
              validate=lambda v: validate_machine_type(v, "CPU machine type"),
              help="The pool Kubeflow itself runs on; it wants about 16 vCPU and 64 GB in all."),
        Field("cpu_nodes", "CPU nodes", placeholder=str(DEFAULT_CPU[1]), required=False,
              validate=validate_count("CPU nodes", 1, MAX_POOL_NODES),
              help="Nodes the CPU pool starts with (within its autoscaling bounds)."),
        Field("cpu_min_nodes", "CPU pool minimum nodes", placeholder=str(DEFAULT_CPU[2]), required=False,
              validate=validate_count("CPU pool minimum nodes", 0, MAX_POOL_NODES)),
        Field("cpu_max_nodes", "CPU pool maximum nodes", placeholder=str(DEFAULT_CPU[3]), required=False,
              validate=validate_count("CPU pool maximum nodes", 1, MAX_POOL_NODES)),
        Field("nap_max_cpu", "Auto-provisioning max vCPU", placeholder="(the pools' maximum)", required=False,
              validate=validate_count("Auto-provisioning max vCPU", 1, MAX_NAP),
              help="Node auto-provisioning never grows the cluster past this many vCPU."),
        Field("nap_max_memory_gb", "Auto-provisioning max memory (GB)", placeholder="(4 GB per vCPU)",
              required=False, validate=validate_count("Auto-provisioning max memory (GB)", 1, MAX_NAP)),
    )

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """deploy.plan, deploy.checks, deploy.script, deploy.state."""
        try:
            plan = build_plan(plan_inputs(ctx))
        except PlanError as exc:
            yield Finding("deploy.plan", Status.FAIL, "The deploy plan has invalid values", str(exc))
            return
        world: PlanWorld | None = None
        try:
            from kftui.operations.deploy import read_plan_world

            world = read_plan_world(plan)
            plan = fit_to_zone(plan, world.machine_types)  # the machine type the GPU step showed
        except Exception:
            world = None
        rows = plan.rows()
        yield Finding(
            "deploy.plan",
            Status.WARN if plan.gpu and plan.gpu.min_nodes > 0 else Status.PASS,
            f"Plan: {plan.cluster} in {plan.zone}, Kubeflow {plan.release}",
            plan.cost_note(),
            table=Table(("what", "value"), rows),
        )
        if ctx.cancelled():
            return
        passed = ctx.passed
        checks = check_steps(passed) if passed else []
        try:
            from kftui.operations.deploy import read_plan_world

            checks += check_plan(plan, world if world is not None else read_plan_world(plan))
            where = Path(plan.manifests).expanduser() if plan.manifests else None
            if where is not None and not (where.is_file() if is_rendered(str(where)) else where.is_dir()):
                checks.append(PlanCheck("manifests", False, f"Manifests {plan.manifests} does not exist "
                                        "(a kubeflow/manifests checkout or a rendered YAML file, or empty to clone "
                                        "the tag).", "deploy"))
        except Exception as exc:  # a read failure is a finding, not a crash
            yield Finding("deploy.checks", Status.FAIL, "Could not check the plan", str(exc))
            return
        failing = blocked(checks)
        table = Table(
            ("check", "result", "revisit"),
            tuple((c.id, c.message, c.revisit or "") for c in checks),
            tuple(Status.PASS if c.ok else Status.FAIL for c in checks),
        )
        if failing:
            steps = sorted({c.revisit for c in failing if c.revisit})
            yield Finding("deploy.checks", Status.FAIL, "The plan is blocked",
                          f"Nothing will be created until this is fixed. Revisit: {', '.join(steps)}.", table=table)
        else:
            note = "" if passed else " (earlier steps are checked again by kftui deploy)"
            yield Finding("deploy.checks", Status.PASS, "The plan fits the project",
                          "Quotas cover the pools at their maximum and the zone offers the types" + note + ".",
                          table=table)
        save = Fix("Save the plan as a script", action=SAVE,
                   command=deploy_command(plan, plan_only=True) + f" > {default_script_path(plan)}")
        fixes: tuple[Fix, ...] = (save,)
        if not failing:
            fixes = (Fix("Deploy Kubeflow with this plan", command=deploy_command(plan), action=ACTION), save)
        yield Finding("deploy.script", Status.PASS, "The plan as a script", script(plan), fixes=fixes)
        yield self._state(plan)

    def _state(self, plan: DeployPlan) -> Finding:
        """What a previous (maybe interrupted) run finished."""
        from kftui.operations.deploy import PHASES, finished, record_for

        record = record_for(plan)
        done = finished(record)
        if not done:
            return Finding("deploy.state", Status.SKIP, "Not deployed yet", "No deploy of this cluster has started.")
        left = [p for p in PHASES[:5] if p not in done]
        if left:
            return Finding("deploy.state", Status.WARN, "A previous deploy stopped part-way",
                           f"Finished: {', '.join(done)}. Still to do: {', '.join(left)}. Deploy again to continue.")
        return Finding(
            "deploy.state", Status.PASS, "Kubeflow is deployed",
            f"Open it: `{PORT_FORWARD}`, then {URL}. Watch mode (F2) opens on {record.get('context', plan.context)}.",
        )

    def action_fields(self, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
        """Saving the script asks where; deploying asks nothing more."""
        if action != SAVE:
            return (), {}
        try:
            default = str(default_script_path(build_plan(plan_inputs(ctx))))
        except PlanError:
            default = "deploy-kubeflow.sh"
        field = Field("script_path", "Save the script to", placeholder=default, validate=validate_script_path,
                      help="A new or existing file in a directory that exists; it is made executable.")
        return (field,), {"script_path": default}

    def action_command(self, action: str, ctx: StepContext) -> str | None:
        """The confirm dialog's command with the path the user typed."""
        if action != SAVE:
            return None
        path = str(ctx.answer("script_path") or "").strip()
        return deploy_command(build_plan(plan_inputs(ctx)), plan_only=True) + f" > {path}" if path else None

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Run the deploy or save its script (only after the user confirmed), streaming progress lines."""
        if action == SAVE:
            from kftui.paths import atomic_write

            path = Path(str(ctx.answer("script_path") or "")).expanduser()
            problem = validate_script_path(str(path))
            if problem:
                raise ConfigError(problem)
            atomic_write(path, script(build_plan(plan_inputs(ctx))), mode=0o755)
            return f"Saved the plan to {path}; review it, then run it or `kftui deploy`."
        if action != ACTION:
            raise ValueError(f"the deploy step has no action {action!r}")
        from kftui import secrets
        from kftui.operations.deploy import Runner, finished

        plan = build_plan(plan_inputs(ctx))
        secret = secrets.default_store().get("dex_password")
        services = services_of(ctx)

        def clock() -> float:
            """Elapsed time as the app tells it (a fixed clock keeps screenshots repeatable)."""
            return services.now().timestamp()

        client_id = str(ctx.answer("oauth_client_id") or "").strip()
        client_secret = secrets.default_store().get("oauth_client_secret") if client_id else None
        oauth = (client_id, client_secret.reveal()) if client_id and client_secret is not None else None
        runner = Runner(plan, progress, password=secret.reveal() if secret is not None else None, clock=clock,
                        cancelled=ctx.cancelled, oauth=oauth)
        summary = runner.run()
        context = runner.record.get("context")
        if context and "ready" in finished(runner.record):
            store_of(ctx).remember(kube_context=context)  # through the app's store: its next save keeps this
            services.use_context(context)
            summary += " Watch mode (F2) now opens on this context."
        return summary


STEP = DeployStep()
