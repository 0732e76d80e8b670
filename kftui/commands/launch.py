"""Open the app: checks the inputs that would otherwise fail inside the UI, then runs it."""

from __future__ import annotations

import os
from pathlib import Path

from kftui.errors import ConfigError


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


def launch(
    mode: str | None,
    context: str | None = None,
    namespace: str | None = None,
    kubeconfig: str | None = None,
    kfp_host: str | None = None,
    persist: bool = True,
) -> None:
    """Build the services from the options and run the app until the user quits."""
    _check_kubeconfig(kubeconfig)
    from kftui.settings import load_settings

    settings = load_settings()  # a hand-edited mistake is one line naming the field, before the screen opens
    from kftui.app import KftuiApp
    from kftui.factory import Options, Services

    services = Services(Options(context=context, namespace=namespace, kubeconfig=kubeconfig, kfp_host=kfp_host))
    KftuiApp(services=services, mode=mode, persist=persist, settings=settings).run()
