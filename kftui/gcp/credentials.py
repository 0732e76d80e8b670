"""Cluster credentials for kubectl: `gcloud container clusters get-credentials`, so kubectl and gcloud agree.

The real gcloud writes the context; when its context cannot reach the cluster (a sandbox serving plain http,
where gcloud still writes https), kftui writes the same-named context itself from the Container API's endpoint
and CA, authenticating the way gcloud does (the gke-gcloud-auth-plugin exec credential).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kftui.errors import ConfigError, ToolMissingError
from kftui.gcp.auth import AUTH_PLUGIN, GCLOUD_TIMEOUT, gcloud_path


@dataclass(frozen=True, slots=True)
class Credentials:
    """What get-credentials did: the context name, gcloud's own words, and whether kftui wrote the context."""

    context: str
    output: str
    written_by_kftui: bool = False


def context_name(project: str, location: str, cluster: str) -> str:
    """The context name gcloud writes: `gke_PROJECT_LOCATION_CLUSTER`."""
    return f"gke_{project}_{location}_{cluster}"


def get_credentials(project: str, location: str, cluster: str) -> Credentials:
    """Run the real `gcloud container clusters get-credentials` (it writes $KUBECONFIG or ~/.kube/config)."""
    command = [gcloud_path(), "container", "clusters", "get-credentials", cluster,
               f"--project={project}", f"--location={location}", "--quiet"]
    env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=GCLOUD_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise ToolMissingError(f"gcloud could not be run: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"`gcloud ... get-credentials` did not answer within {GCLOUD_TIMEOUT:.0f} s.") from exc
    text = (done.stderr + done.stdout).strip()
    if done.returncode != 0:
        raise ConfigError(f"`gcloud container clusters get-credentials {cluster}` failed: {text}")
    return Credentials(context=context_name(project, location, cluster), output=text)


def kubeconfig_file() -> Path:
    """The file kubectl and gcloud write to: the first of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ.get("KUBECONFIG")
    if env:
        first = next((p for p in env.split(os.pathsep) if p), "")
        if first:
            return Path(first).expanduser()
    return Path.home() / ".kube" / "config"


def _upsert(items: list[Any], name: str, key: str, value: dict[str, Any]) -> list[Any]:
    """Replace or add the named entry of a kubeconfig list."""
    kept = [i for i in items if isinstance(i, dict) and i.get("name") != name]
    return [*kept, {"name": name, key: value}]


def write_context(name: str, endpoint: str, ca_certificate: str, path: Path | None = None) -> Path:
    """Write (or replace) a context the way gcloud would: cluster, exec-plugin user, context; make it current."""
    import yaml

    from kftui.paths import atomic_write

    target = path or kubeconfig_file()
    data: dict[str, Any] = {}
    if target.exists():
        try:
            loaded = yaml.safe_load(target.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"Cannot update kubeconfig {target}: {exc}") from exc
        data = loaded if isinstance(loaded, dict) else {}
    server = endpoint if "://" in endpoint else f"https://{endpoint}"
    cluster: dict[str, Any] = {"server": server}
    if server.startswith("https://") and ca_certificate:
        cluster["certificate-authority-data"] = ca_certificate
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": AUTH_PLUGIN,
            "installHint": "Install gke-gcloud-auth-plugin for use with kubectl by following "
            "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin",
            "provideClusterInfo": True,
            "interactiveMode": "IfAvailable",
        }
    }
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    data["clusters"] = _upsert(list(data.get("clusters") or []), name, "cluster", cluster)
    data["users"] = _upsert(list(data.get("users") or []), name, "user", user)
    data["contexts"] = _upsert(list(data.get("contexts") or []), name, "context", {"cluster": name, "user": name})
    data["current-context"] = name
    atomic_write(target, yaml.safe_dump(data, sort_keys=False))
    return target
