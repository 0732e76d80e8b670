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
    """One readable line on stderr and a non-zero exit: never a traceback (and never a terminal control)."""
    from kftui.core.sanitize import inert_lines

    click.echo(f"kftui: {inert_lines(message)}", err=True)
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
@click.argument("pod_regex", metavar="[POD_REGEX]", required=False)
@click.option("-l", "--selector", metavar="SELECTOR", help="Label selector, e.g. app=train.")
@click.option("-n", "--namespace", metavar="NS", help="Namespace (default: the context's).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Pods of every namespace.")
@click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG).")
@click.option("-c", "--container", metavar="REGEX", help="Only containers whose name matches REGEX.")
@click.option("--since", metavar="DURATION", help="Only lines newer than this, e.g. 30s, 5m, 1h30m.")
@click.option("--tail", type=click.IntRange(min=-1, max=2**63 - 1), metavar="N",
              help="Last N lines of each container at the start (-1: all).")
@click.option("--timestamps", is_flag=True, help="Print each line's timestamp.")
@click.option("--no-follow", is_flag=True, help="Print what is there and exit.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, exact.")
def logs(pod_regex: str | None, selector: str | None, namespace: str | None, all_namespaces: bool,
         context: str | None, kubeconfig: str | None, container: str | None, since: str | None, tail: int | None,
         timestamps: bool, no_follow: bool, as_json: bool) -> None:
    """Tail every pod matching POD_REGEX (and/or -l): `pod container line`, new pods joining as they start."""
    from kftui.commands.logs import run_logs

    code = _guard(run_logs, pod_regex, selector=selector, namespace=namespace, all_namespaces=all_namespaces,
                  context=context, kubeconfig=kubeconfig, container=container, since=since, tail=tail,
                  timestamps=timestamps, no_follow=no_follow, as_json=as_json)
    sys.exit(code if isinstance(code, int) else 1)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Project to check (default: the remembered one, then gcloud's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--gpu", metavar="TYPE", help="GPU type to plan for, e.g. nvidia-tesla-t4.")
@click.option("--gpu-count", type=click.IntRange(min=1), metavar="N", help="GPUs per node (at least 1).")
@click.option("--zone", metavar="Z", help="Zone to check the GPU plan in.")
@click.option("--max-gpu-nodes", type=click.IntRange(min=1), metavar="N", help="GPU nodes the pool may grow to.")
def doctor(
    project: str | None, as_json: bool, gpu: str | None, gpu_count: int | None, zone: str | None,
    max_gpu_nodes: int | None,
) -> None:
    """Run every setup check headless; exit 0 when nothing fails, 1 when a check fails."""
    from kftui.commands.doctor import run_doctor

    code = _guard(run_doctor, project=project, as_json=as_json, gpu=gpu, gpu_count=gpu_count, zone=zone,
                  max_gpu_nodes=max_gpu_nodes)
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


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", nargs=-1, required=True, metavar="dashboard|notebook NAME|tensorboard NAME|svc/NAME|pod/NAME")
@click.option("-n", "--namespace", metavar="NS", help="Namespace (notebooks and TensorBoards: the profile's).")
@click.option("--port", type=click.IntRange(1, 65535), metavar="N", help="Service or pod port (default: the target's).")
@click.option("--local-port", type=click.IntRange(0, 65535), metavar="N",
              help="Local port (default 8080 dashboard, 8888 notebook, 6006 TensorBoard; 0 picks a free one).")
@click.option("--address", default="127.0.0.1", show_default=True, help="Local address to listen on.")
@click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG).")
def forward(target: tuple[str, ...], namespace: str | None, port: int | None, local_port: int | None, address: str,
            context: str | None, kubeconfig: str | None) -> None:
    """Forward a local port to the Kubeflow dashboard, a notebook, a TensorBoard, a Service or a pod."""
    from kftui.commands.forward import forward as run

    _guard(run, list(target), namespace, port, local_port, address, context, kubeconfig)


@cli.group(context_settings=CONTEXT_SETTINGS)
def image() -> None:
    """Check a custom notebook image against its registry before a notebook pulls it."""


@image.command("check", context_settings=CONTEXT_SETTINGS)
@click.argument("reference", metavar="IMAGE")
@click.option("--pull-secret", metavar="NAME", help="A dockerconfigjson Secret with the registry's credentials.")
@click.option("-n", "--namespace", metavar="NS", help="Namespace of the pull secret (default: the context's).")
@click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def image_check(reference: str, pull_secret: str | None, namespace: str | None, context: str | None,
                kubeconfig: str | None, as_json: bool) -> None:
    """Port 8888, NB_PREFIX and uid 1000, read from the image's config; exit 1 if unfit or uncheckable."""
    from kftui.commands.images import check

    sys.exit(_guard(check, reference, pull_secret, namespace, context, kubeconfig, as_json))


@cli.group(context_settings=CONTEXT_SETTINGS)
def pullsecret() -> None:
    """Make image pull secrets for private registries, attached to the notebooks' service account."""


@pullsecret.command("create", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--registry", required=True, metavar="HOST", help="Registry host: us-docker.pkg.dev, docker.io, ECR...")
@click.option("-n", "--namespace", metavar="NS", help="Profile namespace (default: the context's).")
@click.option("--username", metavar="U", help="Registry user (Docker Hub; fixed for GCR/AR and ECR).")
@click.option("--password-stdin", is_flag=True, help="Read the password or access token from standard input.")
@click.option("--json-key", type=click.Path(dir_okay=False), help="Service-account key file (Artifact Registry, GCR).")
@click.option("--from-gcloud", is_flag=True, help="Use `gcloud auth print-access-token` (lasts 1 hour).")
@click.option("--service-account", default="default-editor", show_default=True, help="Service account that pulls.")
@click.option("--cronjob", is_flag=True, help="ECR: also print a CronJob that renews the secret every 8 hours.")
@click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG).")
def pullsecret_create(name: str, registry: str, namespace: str | None, username: str | None, password_stdin: bool,
                      json_key: str | None, from_gcloud: bool, service_account: str, cronjob: bool,
                      context: str | None, kubeconfig: str | None) -> None:
    """Create a kubernetes.io/dockerconfigjson Secret and add it to the service account's imagePullSecrets."""
    from kftui.commands.images import create

    _guard(create, name, registry, namespace, username, password_stdin, json_key, from_gcloud, service_account,
           cronjob, context, kubeconfig)


@cli.group(context_settings=CONTEXT_SETTINGS)
def notebook() -> None:
    """Make, stop, start and delete Kubeflow notebook servers (as the dashboard's Jupyter app does)."""


_NB_TARGET = [
    click.option("-n", "--namespace", metavar="NS", help="Profile namespace (default: the context's)."),
    click.option("--context", "context", metavar="CTX", help="kubeconfig context (default: current)."),
    click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file (default: $KUBECONFIG)."),
]


def _nb_target(fn: Any) -> Any:
    """The namespace and cluster options every notebook command takes."""
    for option in reversed(_NB_TARGET):
        fn = option(fn)
    return fn


@notebook.command("create", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--image", required=True, metavar="IMAGE", help="Notebook image (checked against its registry).")
@click.option("--cpu", default="0.5", show_default=True, help="CPU request (limit 1.2x).")
@click.option("--memory", default="1.0Gi", show_default=True, help="Memory request in Gi or Mi (limit 1.2x).")
@click.option("--gpu", "gpus", type=click.IntRange(0, 16), default=0, metavar="N", help="NVIDIA GPUs (0-16).")
@click.option("--gpu-type", metavar="T", help="GKE accelerator, e.g. nvidia-tesla-t4 (node selector).")
@click.option("--volume", default="5Gi", show_default=True, metavar="SIZE", help="New workspace volume size.")
@click.option("--existing-volume", metavar="PVC", help="Mount this PVC as the workspace instead.")
@click.option("--pull-secret", metavar="NAME", help="Image pull secret (see kftui pullsecret create).")
@click.option("--no-check", is_flag=True, help="Do not check the image against its registry first.")
@click.option("--force", is_flag=True, help="Create even when the image check fails.")
@click.option("--wait", type=click.FloatRange(0, 3600), default=300, show_default=True, metavar="S",
              help="Follow the pod this long (0: do not wait).")
@_nb_target
def notebook_create(name: str, image: str, cpu: str, memory: str, gpus: int, gpu_type: str | None, volume: str,
                    existing_volume: str | None, pull_secret: str | None, no_check: bool, force: bool, wait: float,
                    namespace: str | None, context: str | None, kubeconfig: str | None) -> None:
    """Create a notebook server and follow it until it is Ready, saying why whenever it waits."""
    from kftui.commands.notebook import create

    sys.exit(_guard(create, name, namespace, image, cpu, memory, gpus, gpu_type, volume, existing_volume,
                    pull_secret, not no_check, force, wait, context, kubeconfig))


@notebook.command("watch", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--wait", type=click.FloatRange(0, 3600), default=300, show_default=True, metavar="S")
@_nb_target
def notebook_watch(name: str, wait: float, namespace: str | None, context: str | None,
                   kubeconfig: str | None) -> None:
    """Follow a notebook's pod until Ready, with the reason each time it changes."""
    from kftui.cluster.kubeconfig import api_client
    from kftui.commands.notebook import _namespace, follow

    sys.exit(_guard(lambda: follow(api_client(context, kubeconfig), _namespace(namespace, kubeconfig), name, wait)))


for _action, _help in (("stop", "Stop a notebook (its pod goes; the volume stays)."),
                       ("start", "Start a stopped notebook again."),
                       ("delete", "Delete a notebook (and, with --volume, its workspace volume).")):

    def _make(action: str, help_text: str) -> None:
        @notebook.command(action, help=help_text, context_settings=CONTEXT_SETTINGS)
        @click.argument("name")
        @click.option("--volume", is_flag=True, hidden=action != "delete", help="Also delete the workspace volume.")
        @_nb_target
        def _cmd(name: str, volume: bool, namespace: str | None, context: str | None, kubeconfig: str | None) -> None:
            from kftui.commands.notebook import lifecycle

            _guard(lifecycle, action, name, namespace, volume, context, kubeconfig)

    _make(_action, _help)


@cli.group(context_settings=CONTEXT_SETTINGS)
def quota() -> None:
    """Ask Google for GPU quota and follow the requests kftui filed."""


@quota.command("request", context_settings=CONTEXT_SETTINGS)
@click.option("--project", metavar="P", help="Project to raise the quota of (default: the remembered one).")
@click.option("--gpu", required=True, metavar="TYPE", help="GPU type, e.g. nvidia-tesla-t4 (one the project offers).")
@click.option("--region", required=True, metavar="R", help="Region of the GPU quota, or 'global' for GPUS_ALL_REGIONS.")
@click.option("--count", required=True, type=int, metavar="N", help="The quota limit to ask for (at least 1).")
@click.option("--email", metavar="E", help="Contact email Google writes to (default: your user account or an owner).")
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
@click.option("--reuse-env", is_flag=True, help="Run tasks in this Python environment, not kfp's virtualenv per task.")
def runs_local(
    pipeline: str | None, params: tuple[str, ...], list_runs: bool, as_json: bool, verbose: bool, reuse_env: bool
) -> None:
    """Run PIPELINE on this machine with kfp.local (no cluster, no Docker); exit 0 on success, 1 on failure."""
    from kftui.commands.runs import run_local, run_local_list

    if list_runs:
        code = _guard(run_local_list, as_json)
    elif not pipeline:
        raise click.UsageError("give a PIPELINE file (file.py[:name] or compiled YAML), or --list")
    else:
        code = _guard(run_local, pipeline, params, verbose, reuse_env=reuse_env)
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
