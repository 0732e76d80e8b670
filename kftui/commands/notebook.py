"""`kftui notebook`: make a notebook server as the Kubeflow dashboard would, and watch it come up with reasons."""

from __future__ import annotations

import sys
import time

from kftui.errors import KftuiError, UsageError


def _namespace(namespace: str | None, kubeconfig: str | None) -> str:
    """The profile namespace: given, else the context's own (never silently `default` for a notebook)."""
    from kftui.cluster.kubeconfig import current_context

    ctx = current_context(kubeconfig)
    ns = namespace or (ctx.namespace if ctx and ctx.namespace != "default" else None)
    if not ns:
        raise UsageError("-n: give the profile namespace (e.g. kubeflow-user-example-com)")
    return ns


def create(name: str, namespace: str | None, image: str, cpu: str, memory: str, gpus: int, gpu_type: str | None,
           volume: str | None, existing_volume: str | None, pull_secret: str | None, check: bool, force: bool,
           wait: float, context: str | None, kubeconfig: str | None) -> int:
    """Check the image, make the PVC and Notebook, then follow the pod until Ready, stuck, or out of time."""
    from kftui.cluster.kubeconfig import api_client
    from kftui.cluster.spawn import create_notebook
    from kftui.core.sanitize import inert
    from kftui.core.spawner import NotebookSpec, problems

    ns = _namespace(namespace, kubeconfig)
    spec = NotebookSpec(name, ns, image, cpu, memory, gpus, gpu_type, None if existing_volume else volume,
                        existing_volume, pull_secret)
    bad = problems(spec)
    if bad:
        raise UsageError(bad[0] + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    client = api_client(context, kubeconfig)
    if check:
        _check_image(client, ns, image, pull_secret, force)
    made = create_notebook(client, spec)
    print(f"Created {', '.join(made)} in {inert(ns)}.")
    return follow(client, ns, name, wait)


def _check_image(client: object, ns: str, image: str, pull_secret: str | None, force: bool) -> None:
    """Refuse an image that cannot serve a notebook (unless forced); say so when it cannot be checked."""
    from kftui.cluster.images import check_image, secret_credentials
    from kftui.core.images import parse_reference
    from kftui.core.sanitize import inert

    try:
        ref = parse_reference(image)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    creds = secret_credentials(client, ns, pull_secret, ref.registry) if pull_secret else None
    report = check_image(image, creds)
    if report.error:
        print(f"Image not checked: {inert(report.error)}", file=sys.stderr)
        return
    for c in report.checks:
        if c.status != "pass":
            print(f"Image {c.status}: {inert(c.message)}", file=sys.stderr)
    if not report.ok and not force:
        raise KftuiError(f"image {report.image} cannot serve a Kubeflow notebook (see above); fix it or pass --force")


def follow(client: object, ns: str, name: str, wait: float) -> int:
    """Print each new stage with its reason, explained; 0 once Ready, 1 when stuck past `wait` seconds."""
    from kftui.cluster.spawn import progress
    from kftui.core.sanitize import inert
    from kftui.diagnose import diagnose

    last = ""
    deadline = time.monotonic() + wait
    state = progress(client, ns, name)
    while True:
        if state.line != last:
            last = state.line
            print(f"  {inert(state.line)}", flush=True)
            if state.reason and not state.ready:
                found = diagnose(state.reason, namespace=ns, notebook=name, pod=f"{name}-0")
                if found.known:
                    print(f"    why: {inert(found.title)}")
                    for fix in found.fixes[:1]:
                        print(f"    fix: {inert(fix.command or fix.title)}")
        if state.ready:
            print(f"Ready. Open it with: kftui forward notebook {inert(name)} -n {inert(ns)}")
            return 0
        if time.monotonic() > deadline:
            print(f"Not ready after {wait:.0f} s (still {inert(state.stage)}). Follow it with: kftui notebook watch "
                  f"{inert(name)} -n {inert(ns)}")
            return 1
        time.sleep(0.5)
        state = progress(client, ns, name)


def lifecycle(action: str, name: str, namespace: str | None, volume: bool, context: str | None,
              kubeconfig: str | None) -> None:
    """stop, start or delete, each said in one line."""
    from kftui.cluster.kubeconfig import api_client
    from kftui.cluster.spawn import delete_notebook, set_stopped
    from kftui.core.sanitize import inert

    ns = _namespace(namespace, kubeconfig)
    client = api_client(context, kubeconfig)
    if action == "delete":
        gone = delete_notebook(client, ns, name, volume)
        kept = "" if volume else " (its workspace volume is kept; --volume deletes it too)"
        print(f"Deleted {', '.join(gone)} in {inert(ns)}{kept}.")
        return
    set_stopped(client, ns, name, action == "stop")
    print(f"{'Stopped' if action == 'stop' else 'Started'} notebook {inert(name)} in {inert(ns)}.")
