"""`kftui deploy`: a validated plan, its checks, then the cluster, GPU pool, credentials and Kubeflow, resumably."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from kftui.errors import KftuiError, UsageError

PASSWORD_ENV = "KFTUI_DEX_PASSWORD"
"""Where a non-interactive deploy reads the Dex password from (never a flag: flags land in shell history)."""


def oauth_client(answers: Mapping[str, Any]) -> tuple[str, str] | None:
    """The OAuth step's client (id from the answers, secret from the keyring), or None when none was set up."""
    from kftui.secrets import default_store

    client_id = str(answers.get("oauth_client_id") or "").strip()
    secret = default_store().get("oauth_client_secret") if client_id else None
    return (client_id, secret.reveal()) if client_id and secret is not None else None


def _first(*values: Any) -> Any:
    """The first value that is given (not None and not empty)."""
    return next((v for v in values if v not in (None, "")), None)


def plan_from(answers: Mapping[str, Any], **flags: Any) -> Any:
    """Flags first, then remembered answers, then defaults; bad input names the field and rule (UsageError)."""
    from kftui.core.plan import MANIFESTS_REPO_ENV, PlanError, PlanInputs, build_plan, is_rendered

    inputs = PlanInputs(
        project=_first(flags.get("project"), answers.get("project")),
        zone=_first(flags.get("zone"), answers.get("zone")),
        cluster=_first(flags.get("cluster"), answers.get("cluster_name")),
        release=_first(flags.get("release"), answers.get("kubeflow_release")),
        gpu_type=_first(flags.get("gpu"), answers.get("gpu_type")),
        gpu_count=_first(flags.get("gpu_count"), answers.get("gpu_count")),
        gpu_max_nodes=_first(flags.get("max_gpu_nodes"), answers.get("gpu_max_nodes")),
        gpu_min_nodes=_first(flags.get("min_gpu_nodes"), answers.get("gpu_min_nodes")),
        gpu_machine_type=_first(flags.get("gpu_machine_type"), answers.get("machine_type")),
        spot=_first(flags.get("spot"), answers.get("gpu_spot")),
        cpu_machine_type=_first(flags.get("cpu_machine_type"), answers.get("cpu_machine_type")),
        cpu_nodes=_first(flags.get("cpu_nodes"), answers.get("cpu_nodes")),
        cpu_min_nodes=_first(flags.get("cpu_min_nodes"), answers.get("cpu_min_nodes")),
        cpu_max_nodes=_first(flags.get("cpu_max_nodes"), answers.get("cpu_max_nodes")),
        nap_max_cpu=_first(flags.get("nap_max_cpu"), answers.get("nap_max_cpu")),
        nap_max_memory_gb=_first(flags.get("nap_max_memory"), answers.get("nap_max_memory_gb")),
        manifests=_first(flags.get("manifests"), answers.get("manifests")),
        repo=os.environ.get(MANIFESTS_REPO_ENV), recorded=answers,
        oauth_client_id=_first(None, answers.get("oauth_client_id")),
    )
    for flag, value in (("--gpu-count", flags.get("gpu_count")), ("--max-gpu-nodes", flags.get("max_gpu_nodes"))):
        if value is not None and int(value) < 1:
            raise UsageError(f"{flag} must be at least 1 (got {value}); for a cluster without GPUs give --gpu none.")
        if value is not None and str(inputs.gpu_type or "none") == "none":
            raise UsageError(f"{flag} needs a GPU type: add --gpu TYPE (e.g. nvidia-tesla-t4), or drop {flag}.")
    manifests = flags.get("manifests")
    if manifests and is_rendered(str(manifests)):
        if not Path(manifests).expanduser().is_file():
            raise UsageError(f"--manifests {manifests}: no such file (a rendered YAML, plain or .gz).")
    elif manifests and not Path(manifests).expanduser().is_dir():
        raise UsageError(f"--manifests {manifests}: no such directory (a kubeflow/manifests checkout, or a rendered "
                         "YAML file).")
    try:
        return build_plan(inputs)
    except PlanError as exc:
        raise UsageError(str(exc)) from exc


def gcloud_project() -> str | None:
    """The project gcloud is configured with (`gcloud config get project`), None when it has none or fails."""
    from kftui.gcp.auth import effective_config

    try:
        core = effective_config().get("core") or {}
    except KftuiError:
        return None
    value = core.get("project")
    return str(value) if value else None


def passed_steps(answers: dict[str, Any], services: Any) -> frozenset[str]:
    """Run the earlier wizard steps headless (as `kftui doctor` does) and return the ids that passed."""
    from kftui.commands.doctor import run_checks

    results = run_checks(answers, services, frozenset({"project"}))
    return frozenset(
        r.step.id
        for r in results
        if r.step.id != "deploy" and r.findings and not r.failed and any(str(f.status) != "skip" for f in r.findings)
    )


def run_deploy(
    *,
    project: str | None = None,
    zone: str | None = None,
    cluster: str | None = None,
    gpu: str | None = None,
    gpu_count: int | None = None,
    max_gpu_nodes: int | None = None,
    release: str | None = None,
    manifests: str | None = None,
    gpu_machine_type: str | None = None,
    min_gpu_nodes: int | None = None,
    spot: bool | None = None,
    cpu_machine_type: str | None = None,
    cpu_nodes: int | None = None,
    cpu_min_nodes: int | None = None,
    cpu_max_nodes: int | None = None,
    nap_max_cpu: int | None = None,
    nap_max_memory: int | None = None,
    plan_only: bool = False,
    yes: bool = False,
    destroy: bool = False,
    stop_after: str | None = None,
    retry_wait: float = 20.0,
    poll: float = 5.0,
    ready_timeout: float = 900.0,
    wait_timeout: float = 300.0,
    out: IO[str] | None = None,
    services: Any | None = None,
) -> int:
    """0 when the plan was printed or deployed, 1 when its checks refuse it; UsageError (2) for bad input."""
    from kftui.core.plan import blocked, check_plan, check_steps, fit_to_zone, password_problem, script
    from kftui.operations.deploy import DefaultLoginError, Runner, read_plan_world
    from kftui.operations.deploy import destroy as destroy_cluster
    from kftui.settings import default_store

    target = out if out is not None else sys.stdout
    store = default_store()
    state = store.read()  # a damaged file is set aside and said, never a traceback
    for line in store.take_problems():
        sys.stderr.write(f"kftui: {line}\n")
    answers: dict[str, Any] = {k: v for k, v in state.answers.items() if v not in (None, "")}
    if project is None and not answers.get("project"):
        project = gcloud_project()  # as gcloud itself would: its configured project
    plan = plan_from(answers, project=project, zone=zone, cluster=cluster, gpu=gpu, gpu_count=gpu_count,
                     max_gpu_nodes=max_gpu_nodes, release=release, manifests=manifests,
                     gpu_machine_type=gpu_machine_type, min_gpu_nodes=min_gpu_nodes, spot=spot,
                     cpu_machine_type=cpu_machine_type, cpu_nodes=cpu_nodes, cpu_min_nodes=cpu_min_nodes,
                     cpu_max_nodes=cpu_max_nodes, nap_max_cpu=nap_max_cpu, nap_max_memory=nap_max_memory)

    def say(line: str) -> None:
        target.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
        target.flush()

    interactive = sys.stdin.isatty()
    if destroy:
        if cluster is None and not interactive:
            raise UsageError(f"--destroy needs --cluster NAME matching the cluster to delete ({plan.cluster}).")
        from kftui.operations.deploy import load_records

        prefix = f"{plan.project}/{plan.zone}/"
        known = sorted({k.removeprefix(prefix) for k in load_records() if k.startswith(prefix)}
                       | {str(answers.get("cluster_name") or "kubeflow")})
        if cluster is not None and cluster.strip() not in known:
            raise UsageError(
                f"--cluster {cluster!r} does not match a cluster kftui deployed in {plan.zone} ({', '.join(known)})."
            )
        if not yes:
            if not interactive:
                raise UsageError("Refusing to delete a cluster without a terminal to confirm: add --yes.")
            import click

            typed = click.prompt(f"Type the cluster name ({plan.cluster}) to delete it and everything on it")
            if typed.strip() != plan.cluster:
                raise KftuiError("The name did not match; nothing was deleted.")
        target.write(destroy_cluster(plan, say, poll=poll) + "\n")
        return 0
    if plan_only:

        try:
            plan = fit_to_zone(plan, read_plan_world(plan).machine_types)
        except KftuiError as exc:  # offline or not allowed: the family default stands, and that is said
            from kftui.core.sanitize import inert

            first = (str(exc).strip().splitlines() or ["no answer"])[0]
            print(f"kftui: note: the zone's offers could not be read ({inert(first)[:200]}); the plan keeps the "
                  "family default machine type", file=sys.stderr)
        target.write(script(plan))
        return 0

    if services is None:
        from kftui.factory import Options, Services

        services = Services(Options(project=plan.project))
    gpu_answer = plan.gpu.gpu_type if plan.gpu else "none"
    step_answers = {**answers, "project": plan.project, "zone": plan.zone, "gpu_type": gpu_answer}
    if plan.gpu is not None:
        step_answers.update(gpu_count=str(plan.gpu.count), gpu_max_nodes=str(plan.gpu.max_nodes))
    say("checking the earlier setup steps, quotas and zone offers")
    world = read_plan_world(plan)
    plan = fit_to_zone(plan, world.machine_types)  # a defaulted GPU machine type from the zone's own catalogue
    checks = check_steps(passed_steps(step_answers, services)) + check_plan(plan, world)
    failing = blocked(checks)
    for check in checks:
        say(f"{'ok' if check.ok else 'BLOCKED'} {check.id}: {check.message}")
    if failing:
        revisit = sorted({c.revisit for c in failing if c.revisit})
        target.write(
            f"kftui: the plan is refused; nothing was created. Revisit: {', '.join(revisit) or 'the plan'}.\n"
        )
        return 1
    target.write(plan.cost_note() + "\n")
    if not yes:
        if not interactive:
            raise UsageError(
                "Refusing to create a cluster without a terminal to confirm: review --plan-only, then add --yes."
            )
        import click

        target.write(script(plan))
        if not click.confirm("Create this cluster and install Kubeflow?", default=False):
            raise KftuiError("Nothing was created.")
    password = os.environ.get(PASSWORD_ENV) or None
    if password is None and interactive and not yes:
        import click

        password = click.prompt("New Dex password for user@example.com (12+ characters, letters with digits or "
                                "symbols)",
                                default="", hide_input=True, confirmation_prompt=True, show_default=False) or None
    if password is not None and (problem := password_problem(password)) is not None:
        raise UsageError(f"{PASSWORD_ENV}: {problem}")
    runner = Runner(plan, say, stop_after=stop_after, password=password, poll=poll, retry_wait=retry_wait,
                    ready_timeout=ready_timeout, wait_timeout=wait_timeout, oauth=oauth_client(answers))
    try:
        summary = runner.run()
    except DefaultLoginError as exc:
        target.write(f"kftui: {exc}\n")
        return 1
    except KeyboardInterrupt:
        runner.note_interrupted()
        target.write(f"Interrupted during {runner.phase}; what finished is recorded. `kftui deploy` again continues "
                     "(a GKE operation already started keeps running and is waited for).\n")
        raise
    if "context" in runner.record:
        from kftui.errors import ConfigError

        try:
            store.remember(kube_context=runner.record["context"])
        except ConfigError as exc:  # the cluster exists at Google: say that kftui did not write it down
            kube = runner.record["context"]
            target.write(f"WARNING: the cluster is deployed, but kftui could not record its context {kube} "
                         f"({exc}); use `kftui watch --context {kube}`.\n")
    target.write(summary + "\n")
    return 0
