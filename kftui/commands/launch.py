"""Open the app: checks the inputs that would otherwise fail inside the UI, then runs it."""

from __future__ import annotations

import gc
import re
from typing import TYPE_CHECKING

from kftui.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kftui.cluster.prefetch import Cells
    from kftui.core.kube import PodRow
    from kftui.factory import Services

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""Kubernetes' DNS-1123 label rule for namespace names (at most 63 characters)."""


def _check_context(context: str, kubeconfig: str | None) -> None:
    """An unknown --context is one line naming it and the contexts there are, before any screen opens."""
    from kftui.cluster.kubeconfig import load_contexts
    from kftui.core.sanitize import inert

    names = [c.name for c in load_contexts(kubeconfig)]
    if context in names:
        return
    shown = ", ".join(inert(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
    raise UsageError(
        f"--context: no context {inert(context)!r} in the kubeconfig"
        + (f" (contexts: {shown})." if names else " (it has no contexts).")
    )


def _check_namespace_name(namespace: str) -> None:
    """A namespace that cannot exist is one line, before anything is asked of the cluster."""
    from kftui.core.sanitize import inert

    if len(namespace) > 63 or not _NAMESPACE.match(namespace):
        raise UsageError(
            f"--namespace: {inert(namespace)!r} is not a namespace name (lowercase letters, digits and hyphens, "
            "at most 63, starting and ending with a letter or digit)."
        )


def _missing_namespace(namespace: str, context: str | None) -> UsageError:
    from kftui.core.sanitize import inert

    where = f" of context {inert(context)}" if context else ""
    return UsageError(f"--namespace: the cluster{where} has no namespace {namespace!r}.")


def _check_namespace(namespace: str, context: str | None, kubeconfig: str | None) -> None:
    """A namespace the cluster says does not exist is one line; an unreachable cluster is left to watch mode,
    which says so and keeps retrying. (Where the prefetch child runs, it asks instead, beside the UI's imports.)"""
    try:
        from kubernetes.client import CoreV1Api
        from kubernetes.client.exceptions import ApiException

        from kftui.cluster.kubeconfig import api_client

        api = api_client(context=context, path=kubeconfig)
    except (ConfigError, ImportError):
        return
    try:
        CoreV1Api(api).read_namespace(namespace, _request_timeout=(3, 3))
    except ApiException as exc:
        if exc.status == 404:
            raise _missing_namespace(namespace, context) from exc
    except Exception:  # unreachable, refused, timed out: watch mode reports it with its own retries
        return
    finally:
        api.close()


def _pod_cells() -> Callable[[PodRow], Cells]:
    """Run in the prefetch child: the pods table's own filing of a row, so the first frame only stores it."""
    from kftui.core.podtable import pods_model

    prepare = pods_model().prepare

    def filed(row: PodRow) -> Cells:
        key, _row, cells, hay = prepare(row)
        return key, cells, hay

    return filed


def _opens_watch(mode: str | None, services: Services, persist: bool) -> bool:
    """Whether the app will open in watch mode (bare `kftui` does once setup has passed)."""
    if mode is not None or not persist:
        return mode == "watch"
    try:
        return services.state.read().opening_mode == "watch"
    except Exception:  # an unreadable state file is the app's to report; no child for it
        return False


def launch(
    mode: str | None,
    context: str | None = None,
    namespace: str | None = None,
    kubeconfig: str | None = None,
    kfp_host: str | None = None,
    persist: bool = True,
) -> None:
    """Build the services from the options and run the app until the user quits."""
    collecting = gc.isenabled()
    # start-up builds a few hundred thousand objects that live as long as the app; collections before the first
    # frame only walk them (about 25 ms at a launch), so the app turns collection back on once it has drawn
    gc.disable()
    try:
        _launch(mode, context, namespace, kubeconfig, kfp_host, persist)
    finally:
        if collecting:
            gc.enable()


def _launch(mode: str | None, context: str | None, namespace: str | None, kubeconfig: str | None,
            kfp_host: str | None, persist: bool) -> None:
    from kftui.factory import Options, Services

    services = Services(Options(context=context, namespace=namespace, kubeconfig=kubeconfig, kfp_host=kfp_host))
    if _opens_watch(mode, services, persist):  # first of all: the child lists (and checks -n) on the other core
        services.prefetch_pods(_pod_cells)
    try:
        from kftui.cluster.kubeconfig import check_kubeconfig

        # where a child runs, it reads the kubeconfig's YAML (it parses it anyway) and says what is wrong with it
        check_kubeconfig(kubeconfig, content=not services.pod_prefetch_pending())
        if context is not None:
            _check_context(context, kubeconfig)
        if namespace is not None:
            _check_namespace_name(namespace)
        from kftui.settings import load_settings

        settings = load_settings()  # a hand-edited mistake is one line naming the field, before the screen opens
        if namespace is not None and not services.pod_prefetch_pending():
            _check_namespace(namespace, context, kubeconfig)  # no child here: ask in this process
        from kftui.app import KftuiApp

        app = KftuiApp(services=services, mode=mode, persist=persist, settings=settings)
        if services.pod_prefetch_pending():
            problem = services.pod_kubeconfig_problem()
            if problem is None:  # the child did not say: read it here after all
                check_kubeconfig(kubeconfig)
            elif problem:
                raise ConfigError(problem)
        if namespace is not None and services.pod_namespace_verdict() == "missing":
            raise _missing_namespace(namespace, context)
        app.run()
    finally:
        services.drop_pod_prefetch()  # a child still listing (an error above, or the app closing) is ended
