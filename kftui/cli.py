"""The `kftui` command line: a thin click group whose commands import their work lazily."""

from __future__ import annotations

import sys
from typing import Any

import click

from kftui import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
KFP_HOST_HELP = (
    "Kubeflow Pipelines API URL, e.g. http://localhost:8080 after a port-forward "
    "(default: $KF_PIPELINES_ENDPOINT, then the kube context's service proxy)."
)


def _fail(message: str, code: int = 1) -> None:
    """One readable line on stderr and a non-zero exit: never a traceback."""
    click.echo(f"kftui: {message}", err=True)
    sys.exit(code)


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a command body, turning expected errors into one line and an exit code."""
    from kftui.errors import ConfigError, KftuiError, ToolMissingError, UsageError

    try:
        return fn(*args, **kwargs)
    except UsageError as exc:
        _fail(str(exc), 2)
    except (ConfigError, ToolMissingError, KftuiError) as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    return None


@click.group(context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@click.version_option(__version__, "-V", "--version", prog_name="kftui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """From an empty Google Cloud project to Kubeflow with GPUs, then a live cockpit.

    Without a command, kftui opens setup mode until setup has passed once, then watch mode.
    """
    if ctx.invoked_subcommand is None:
        from kftui.commands.launch import launch

        _guard(launch, mode=None)


@cli.command(context_settings=CONTEXT_SETTINGS)
def setup() -> None:
    """Open the setup wizard: account, project, billing, APIs, IAM, OAuth, GPUs."""
    from kftui.commands.launch import launch

    _guard(launch, mode="setup")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current).")
@click.option("-n", "--namespace", metavar="NAMESPACE", help="Namespace to watch (default: all).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG).")
@click.option("--kfp-host", metavar="URL", help=KFP_HOST_HELP)
def watch(context: str | None, namespace: str | None, kubeconfig: str | None, kfp_host: str | None) -> None:
    """Open watch mode: live pods, logs, events, notebooks and pipeline runs."""
    from kftui.commands.launch import launch

    _guard(launch, mode="watch", context=context, namespace=namespace, kubeconfig=kubeconfig, kfp_host=kfp_host)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--scenario", default="demo", show_default=True, help="Sandbox scenario name or directory.")
@click.option("--mode", type=click.Choice(["setup", "watch"]), default="setup", show_default=True)
def demo(scenario: str, mode: str) -> None:
    """Start the built-in sandbox (fake GCP, Kubernetes and KFP on loopback) and open kftui on it."""
    from kftui.commands.demo import run_demo

    _guard(run_demo, scenario=scenario, mode=mode)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def explain(text: str | None, as_json: bool) -> None:
    """Explain an error message in plain words, with the fix. Reads stdin when TEXT is - or absent."""
    from kftui.commands.explain import run_explain

    code = _guard(run_explain, text=text, as_json=as_json)
    sys.exit(code if isinstance(code, int) else 1)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Project to check (default: the remembered one, then gcloud's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--gpu", metavar="TYPE", help="GPU type to plan for, e.g. nvidia-tesla-t4.")
@click.option("--gpu-count", type=click.IntRange(min=1), metavar="N", help="GPUs per node (at least 1).")
@click.option("--zone", metavar="Z", help="Zone to check the GPU plan in.")
def doctor(project: str | None, as_json: bool, gpu: str | None, gpu_count: int | None, zone: str | None) -> None:
    """Run every setup check headless; exit 0 when nothing fails, 1 when a check fails."""
    from kftui.commands.doctor import run_doctor

    code = _guard(run_doctor, project=project, as_json=as_json, gpu=gpu, gpu_count=gpu_count, zone=zone)
    sys.exit(code if isinstance(code, int) else 1)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Project (default: the remembered one, else gcloud's).")
@click.option("--zone", metavar="Z", help="Zone for the cluster and GPU pool (default: the GPU step's zone).")
@click.option("--cluster", metavar="NAME", help="Cluster name (default: kubeflow).")
@click.option("--gpu", metavar="TYPE", help="GPU type for the GPU pool, or 'none'.")
@click.option("--gpu-count", type=int, metavar="N", help="GPUs per GPU node.")
@click.option("--max-gpu-nodes", type=int, metavar="N", help="The GPU pool autoscales from 0 up to N nodes.")
@click.option("--release", metavar="TAG", help="Kubeflow manifests tag (default: 26.03).")
@click.option("--manifests", metavar="DIR|FILE",
              help="A local kubeflow/manifests checkout, or a rendered YAML file (default: clone the tag).")
@click.option("--plan-only", is_flag=True, help="Print the plan as a reviewable script; create nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--destroy", is_flag=True, help="Delete the cluster (asks its name; with --yes, --cluster must match).")
@click.option("--gpu-machine-type", metavar="TYPE", help="GPU nodes' machine type (default: smallest that fits).")
@click.option("--min-gpu-nodes", type=click.IntRange(min=0), metavar="N", help="GPU nodes kept when idle (default 0).")
@click.option("--spot/--no-spot", default=None, help="Spot GPU nodes: much cheaper, may be reclaimed.")
@click.option("--cpu-machine-type", metavar="TYPE", help="Machine type of the CPU pool (default e2-standard-8).")
@click.option("--cpu-nodes", type=click.IntRange(min=1), metavar="N", help="CPU nodes to start with (default 2).")
@click.option("--cpu-min-nodes", type=click.IntRange(min=0), metavar="N", help="CPU pool minimum (default 1).")
@click.option("--cpu-max-nodes", type=click.IntRange(min=1), metavar="N", help="CPU pool maximum (default 4).")
@click.option("--nap-max-cpu", type=click.IntRange(min=1), metavar="N", help="Auto-provisioning vCPU limit.")
@click.option("--nap-max-memory", type=click.IntRange(min=1), metavar="GB", help="Auto-provisioning memory limit.")
@click.option("--ready-timeout", type=click.FloatRange(min=1), default=900.0, metavar="SECONDS",
              help="How long to wait for Kubeflow's deployments before giving up (default: 900).")
@click.option("--stop-after", type=click.Choice(["cluster", "gpu-pool", "credentials", "manifests"]), hidden=True)
@click.option("--retry-wait", type=float, default=20.0, hidden=True)
@click.option("--poll", type=float, default=5.0, hidden=True)
def deploy(**options: Any) -> None:
    """Create the GKE cluster and GPU pool and install Kubeflow; re-running continues where it stopped.

    Dex's default password is replaced by one you type, or by KFTUI_DEX_PASSWORD when set (with --yes).
    A mirror of kubeflow/manifests can be named with KFTUI_MANIFESTS_REPO.
    """
    from kftui.commands.deploy import run_deploy

    code = _guard(run_deploy, **options)
    sys.exit(code if isinstance(code, int) else 1)


@cli.group(context_settings=CONTEXT_SETTINGS)
def quota() -> None:
    """Ask Google for GPU quota and follow the requests kftui filed."""


@quota.command("request", context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Project to raise the quota of (default: the remembered one).")
@click.option("--gpu", required=True, metavar="TYPE", help="GPU type, e.g. nvidia-tesla-t4 (one the project offers).")
@click.option("--region", required=True, metavar="R", help="Region of the GPU quota, or 'global' for GPUS_ALL_REGIONS.")
@click.option("--count", required=True, type=int, metavar="N", help="The quota limit to ask for (at least 1).")
@click.option("--email", metavar="E", help="Contact email Google writes to (default: your gcloud or ADC user).")
@click.option("--justification", metavar="J", help="Why you need it (default: a Kubeflow-on-GKE sentence).")
@click.option("--yes", is_flag=True, help="File without asking for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def quota_request(
    project: str | None,
    gpu: str,
    region: str,
    count: int,
    email: str | None,
    justification: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """File a GPU quota increase request (Cloud Quotas); filing the same request twice files it once."""
    from kftui.commands.quota import run_request

    code = _guard(
        run_request,
        project=project,
        gpu=gpu,
        region=region,
        count=count,
        email=email,
        justification=justification,
        yes=yes,
        as_json=as_json,
    )
    sys.exit(code if isinstance(code, int) else 1)


@quota.command("status", context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Only this project's requests (default: every remembered one).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of requests.")
def quota_status(project: str | None, as_json: bool) -> None:
    """List the quota requests kftui filed and Google's current decision on each."""
    from kftui.commands.quota import run_status

    code = _guard(run_status, project=project, as_json=as_json)
    sys.exit(code if isinstance(code, int) else 1)


@cli.group(context_settings=CONTEXT_SETTINGS)
def runs() -> None:
    """Kubeflow Pipelines runs: submit to the server, list them, or run a pipeline here with kfp.local."""


@runs.command("submit", context_settings=CONTEXT_SETTINGS)
@click.argument("pipeline", metavar="PIPELINE")
@click.option("-p", "--param", "params", multiple=True, metavar="K=V", help="Pipeline parameter (repeatable).")
@click.option("-e", "--experiment", default="Default", show_default=True, help="Experiment (created if missing).")
@click.option("--run-name", metavar="NAME", help="Run name (default: pipeline name and time).")
@click.option("--kfp-host", metavar="URL", help=KFP_HOST_HELP)
def runs_submit(pipeline: str, params: tuple[str, ...], experiment: str, run_name: str | None,
                kfp_host: str | None) -> None:
    """Submit PIPELINE (compiled YAML, or file.py[:name] with a @dsl.pipeline) and print the run id and state."""
    from kftui.commands.runs import run_submit

    code = _guard(run_submit, pipeline, params, experiment, kfp_host, run_name)
    sys.exit(code if isinstance(code, int) else 1)


@runs.command("list", context_settings=CONTEXT_SETTINGS)
@click.option("-e", "--experiment", metavar="E", help="Only runs of this experiment.")
@click.option("-s", "--state", "states", multiple=True, metavar="STATE", help="Only runs in this state (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option("--kfp-host", metavar="URL", help=KFP_HOST_HELP)
def runs_list(experiment: str | None, states: tuple[str, ...], as_json: bool, kfp_host: str | None) -> None:
    """List runs on the pipelines server, newest first."""
    from kftui.commands.runs import run_list

    code = _guard(run_list, kfp_host, as_json, experiment, states)
    sys.exit(code if isinstance(code, int) else 1)


@runs.command("local", context_settings=CONTEXT_SETTINGS)
@click.argument("pipeline", metavar="PIPELINE", required=False)
@click.option("-p", "--param", "params", multiple=True, metavar="K=V", help="Pipeline parameter (repeatable).")
@click.option("--list", "list_runs", is_flag=True, help="List past local runs instead of running one.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also print the KFP executor's own lines (always in the log file).")
def runs_local(pipeline: str | None, params: tuple[str, ...], list_runs: bool, as_json: bool, verbose: bool) -> None:
    """Run PIPELINE on this machine with kfp.local (no cluster, no Docker); exit 0 on success, 1 on failure."""
    from kftui.commands.runs import run_local, run_local_list

    if list_runs:
        code = _guard(run_local_list, as_json)
    elif not pipeline:
        raise click.UsageError("give a PIPELINE file (file.py[:name] or compiled YAML), or --list")
    else:
        code = _guard(run_local, pipeline, params, verbose)
    sys.exit(code if isinstance(code, int) else 1)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors become one line (exit 2), never a usage dump or traceback."""
    try:
        code = cli.main(args=argv, prog_name="kftui", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}", 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
