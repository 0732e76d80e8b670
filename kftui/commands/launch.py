"""Open the app: checks the inputs that would otherwise fail inside the UI, then runs it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from kftui.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from kftui.factory import Services

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""Kubernetes' DNS-1123 label rule for namespace names (at most 63 characters)."""


def _check_kubeconfig(kubeconfig: str | None) -> None:
    """An unreadable kubeconfig is named here, in one line, instead of as an error inside the UI."""
    paths = [kubeconfig] if kubeconfig else [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    for raw in paths:
        path = Path(raw).expanduser()
        if kubeconfig and not path.exists():
            raise ConfigError(f"kubeconfig {path} does not exist")
        if path.exists():
            if not path.is_file():
                raise ConfigError(f"kubeconfig {path} is not a regular file")
            try:
                path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"kubeconfig {path} cannot be read: {exc.strerror}") from exc
            _check_kubeconfig_content(path)


def _check_kubeconfig_content(path: Path) -> None:
    """Catch a kubeconfig that is not YAML or has no contexts before the UI starts."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"kubeconfig {path} is not valid YAML{where}") from exc
    if data is None:
        return
    if not isinstance(data, dict) or not isinstance(data.get("contexts", []), list):
        raise ConfigError(f"kubeconfig {path} is not a kubeconfig: expected a mapping with a 'contexts' list")


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
    from kftui.factory import Options, Services

    services = Services(Options(context=context, namespace=namespace, kubeconfig=kubeconfig, kfp_host=kfp_host))
    if _opens_watch(mode, services, persist):  # first of all: the child lists (and checks -n) on the other core
        services.prefetch_pods()
    try:
        _check_kubeconfig(kubeconfig)
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
        if namespace is not None and services.pod_namespace_verdict() == "missing":
            raise _missing_namespace(namespace, context)
        app.run()
    finally:
        services.drop_pod_prefetch()  # a child still listing (an error above, or the app closing) is ended
