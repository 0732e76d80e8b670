"""Kubeconfig contexts (names, current, server, namespace) and API clients built per context."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kftui.errors import ConfigError


@dataclass(frozen=True, slots=True)
class KubeContext:
    """One kubeconfig context as a person picks it."""

    name: str
    cluster: str
    server: str
    namespace: str
    user: str
    current: bool
    source: Path


def kubeconfig_paths(path: str | Path | None = None) -> list[Path]:
    """The files that make up the kubeconfig: the given path, else $KUBECONFIG (colon list), else ~/.kube/config."""
    if path is not None:
        return [Path(p).expanduser() for p in str(path).split(os.pathsep) if p]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def _read(path: Path) -> dict[str, Any]:
    """One kubeconfig file as a mapping; ConfigError naming the file when it cannot be used."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read kubeconfig {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"Kubeconfig {path} is not valid YAML{where}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Kubeconfig {path} is not a kubeconfig: expected a mapping at the top")
    for key in ("contexts", "clusters", "users"):
        if data.get(key) is not None and not isinstance(data[key], list):
            raise ConfigError(f"Kubeconfig {path} is not valid: `{key}` must be a list")
    return data


def kubeconfig_files(kubeconfig: str | None) -> list[Path]:
    """The files launch checks: the --kubeconfig given, else each file $KUBECONFIG names (none: kubectl's default,
    whose absence is no error)."""
    raw = [kubeconfig] if kubeconfig else [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in raw]


def check_kubeconfig(kubeconfig: str | None, content: bool = True) -> None:
    """An unreadable kubeconfig is named in one line before any screen opens, instead of as an error inside the
    UI. With `content=False` the YAML is left to the prefetch child (which parses it anyway), so that this process
    loads no YAML parser before its first frame."""
    for path in kubeconfig_files(kubeconfig):
        if kubeconfig and not path.exists():
            raise ConfigError(f"kubeconfig {path} does not exist")
        if path.exists():
            if not path.is_file():
                raise ConfigError(f"kubeconfig {path} is not a regular file")
            try:
                path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"kubeconfig {path} cannot be read: {exc.strerror}") from exc
            if content:
                check_kubeconfig_content(path)


def check_kubeconfig_content(path: Path) -> None:
    """Catch a kubeconfig that is not YAML or has no contexts list."""
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


def load_contexts(path: str | Path | None = None) -> list[KubeContext]:
    """Every context across the kubeconfig files (first definition wins, as kubectl merges them)."""
    files = kubeconfig_paths(path)
    existing = [p for p in files if p.exists()]
    if not existing:
        if path is not None or os.environ.get("KUBECONFIG"):
            raise ConfigError(f"Kubeconfig {files[0]} does not exist")
        return []
    contexts: dict[str, tuple[dict[str, Any], Path]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    current = ""
    for p in existing:
        data = _read(p)
        current = current or str(data.get("current-context") or "")
        for item in data.get("contexts") or []:
            if isinstance(item, dict) and item.get("name") and item["name"] not in contexts:
                contexts[str(item["name"])] = (dict(item.get("context") or {}), p)
        for item in data.get("clusters") or []:
            if isinstance(item, dict) and item.get("name") and item["name"] not in clusters:
                clusters[str(item["name"])] = dict(item.get("cluster") or {})
    out = []
    for name, (ctx, source) in contexts.items():
        cluster = str(ctx.get("cluster") or "")
        out.append(KubeContext(name=name, cluster=cluster, server=str(clusters.get(cluster, {}).get("server") or ""),
                               namespace=str(ctx.get("namespace") or "default"), user=str(ctx.get("user") or ""),
                               current=name == current, source=source))
    return out


def current_context(path: str | Path | None = None, name: str | None = None) -> KubeContext | None:
    """The context kubectl would use (with `--context NAME`, that one), or None when there is none."""
    contexts = load_contexts(path)
    if name:
        return next((c for c in contexts if c.name == name), None)
    return next((c for c in contexts if c.current), None)


TRANSPORT_RETRIES = 1
"""urllib3's own retries per request (its default is 3): kftui's loops retry with backoff and say so, and a
hanging server must cost one timeout, not four."""


def api_client(context: str | None = None, path: str | Path | None = None) -> Any:
    """A fresh `kubernetes.client.ApiClient` for a context (no global configuration is touched)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
    from urllib3.util.retry import Retry

    files = kubeconfig_paths(path)
    for f in files:
        if f.exists():
            _read(f)  # clear errors for unreadable or invalid files before the library's own
    try:
        configuration = client.Configuration()
        configuration.retries = Retry(total=TRANSPORT_RETRIES)
        return config.new_client_from_config(config_file=os.pathsep.join(str(f) for f in files),
                                             context=context, persist_config=False,
                                             client_configuration=configuration)
    except ConfigException as exc:
        raise ConfigError(f"Kubeconfig {files[0]}: {exc}") from exc
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"Kubeconfig {files[0]} cannot be used: {exc}") from exc
