"""Installing manifests with the real kubectl: kustomize build, server-side apply, deployment readiness, events.

kubectl is used as a subprocess on purpose: it is what the upstream instructions use, so its server-side apply,
kustomize and auth plugin behave exactly as they would for the user typing the script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kftui.errors import ConfigError, ToolMissingError

KUBECTL_TIMEOUT = 300.0
COMPONENT_LABELS = ("app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/name", "app")


def kubectl_path() -> str:
    """Where kubectl is, or ToolMissingError saying how to get it."""
    found = shutil.which("kubectl")
    if found is None:
        raise ToolMissingError("kubectl was not found on PATH: `gcloud components install kubectl` installs it.")
    return found


def kubectl(
    context: str, *args: str, stdin: str | None = None, timeout: float = KUBECTL_TIMEOUT
) -> tuple[int, str, str]:
    """Run `kubectl --context C ARGS` (no context: kubectl's current one); returns (exit code, stdout, stderr)."""
    command = [kubectl_path(), *([f"--context={context}"] if context else []), *args]
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"`kubectl {' '.join(args)}` did not finish within {timeout:.0f} s.") from exc
    return done.returncode, done.stdout, done.stderr


def context_problem(context: str) -> str | None:
    """None when the context answers (`kubectl get namespaces`), else kubectl's words."""
    code, _, err = kubectl(context, "get", "namespaces", "-o", "name", "--request-timeout=20s", timeout=60)
    return None if code == 0 else (err.strip() or f"kubectl exited with {code}")


@dataclass(frozen=True, slots=True)
class Manifest:
    """One object of a kustomization: how kubectl names it in its output, and the component it belongs to."""

    ref: str
    """`kind[.group]/name`, as kubectl prints it."""
    namespace: str
    component: str


def _ref(obj: Mapping[str, Any]) -> str:
    """kubectl's `kind.group/name` for an object."""
    api = str(obj.get("apiVersion", ""))
    group = api.rpartition("/")[0] if "/" in api else ""
    kind = str(obj.get("kind", "")).lower()
    name = str((obj.get("metadata") or {}).get("name", ""))
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def component_of(obj: Mapping[str, Any]) -> str:
    """Which part of Kubeflow an object belongs to: its component label, else its namespace, else `cluster`."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    for key in COMPONENT_LABELS:
        if labels.get(key):
            return str(labels[key])
    return str(meta.get("namespace") or "cluster")


def build(directory: Path) -> list[Manifest]:
    """`kubectl kustomize DIR`: the objects the kustomization makes, in order."""
    import yaml

    code, out, err = kubectl("", "kustomize", str(directory))
    if code != 0:
        raise ConfigError(f"`kubectl kustomize {directory}` failed: {err.strip()}")
    found: list[Manifest] = []
    for doc in yaml.safe_load_all(out):
        if isinstance(doc, dict) and doc.get("kind"):
            ns = str((doc.get("metadata") or {}).get("namespace") or "")
            found.append(Manifest(_ref(doc), ns, component_of(doc)))
    return found


def existing(context: str, directory: Path) -> set[str]:
    """Refs of the kustomization's objects that already exist (unknown kinds count as absent)."""
    _, out, _ = kubectl(context, "get", "-k", str(directory), "-o", "name", "--ignore-not-found")
    return {line.strip() for line in out.splitlines() if line.strip()}


@dataclass
class ApplyResult:
    """One `kubectl apply -k DIR --server-side --force-conflicts`: what was applied and kubectl's errors."""

    code: int
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when kubectl applied everything."""
        return self.code == 0


def apply(context: str, directory: Path) -> ApplyResult:
    """Server-side apply of a kustomization (CRDs may need a second run: the caller retries)."""
    code, out, err = kubectl(context, "apply", "-k", str(directory), "--server-side", "--force-conflicts")
    result = ApplyResult(code)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and "/" in parts[0]:
            result.applied.append(parts[0])
    result.errors = [line.strip() for line in err.splitlines() if line.strip()]
    return result


@dataclass(frozen=True, slots=True)
class DeploymentState:
    """A Deployment's readiness, with what it selects (to find its pods when it is stuck)."""

    namespace: str
    name: str
    ready: bool
    replicas: int
    available: int
    message: str
    selector: str
    service_account: str = "default"
    """Who its pods pull images as (a pull secret must be attached to this account)."""


def deployments(context: str, namespaces: Sequence[str] = ()) -> list[DeploymentState]:
    """Deployments (in the given namespaces, or all) and whether each is Available."""
    code, out, err = kubectl(context, "get", "deployments", "-A", "-o", "json", "--request-timeout=30s", timeout=60)
    if code != 0:
        raise ConfigError(f"`kubectl get deployments` failed: {err.strip()}")
    found: list[DeploymentState] = []
    for item in json.loads(out or "{}").get("items") or []:
        meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
        if namespaces and meta.get("namespace") not in namespaces:
            continue
        conds = {c.get("type"): c for c in status.get("conditions") or []}
        available = conds.get("Available") or {}
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        found.append(
            DeploymentState(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                ready=available.get("status") == "True",
                replicas=int(spec.get("replicas", 1)),
                available=int(status.get("availableReplicas", 0)),
                message=str(available.get("message") or "no status yet"),
                selector=",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                service_account=str(((spec.get("template") or {}).get("spec") or {}).get("serviceAccountName")
                                    or "default"),
            )
        )
    return found


def pod_events(context: str, namespace: str, selector: str) -> list[dict[str, str]]:
    """Events of the pods a selector matches, oldest first (what the diagnosis engine reads)."""
    if not selector:
        return []
    code, out, _ = kubectl(context, "get", "pods", "-n", namespace, "-l", selector, "-o", "json", timeout=60)
    if code != 0:
        return []
    names = [str((p.get("metadata") or {}).get("name")) for p in json.loads(out or "{}").get("items") or []]
    events: list[dict[str, str]] = []
    for name in names:
        code, out, _ = kubectl(context, "get", "events", "-n", namespace, "--field-selector",
                               f"involvedObject.name={name}", "-o", "json", timeout=60)
        if code != 0:
            continue
        for ev in json.loads(out or "{}").get("items") or []:
            events.append({
                "type": str(ev.get("type", "")),
                "reason": str(ev.get("reason", "")),
                "message": str(ev.get("message", "")),
                "object": f"pod/{name}",
                "time": str(ev.get("lastTimestamp") or ev.get("eventTime") or ""),
            })
    return sorted(events, key=lambda e: e["time"])


def replace_dex_password(context: str, bcrypt_hash: str) -> str | None:
    """Put a new bcrypt hash in Dex's `dex-passwords` secret and restart Dex; None on success, else why not."""
    patch = json.dumps({"stringData": {"DEX_USER_PASSWORD": bcrypt_hash}})
    code, _, err = kubectl(context, "-n", "auth", "patch", "secret", "dex-passwords", "--type=merge", "-p", patch)
    if code != 0:
        return err.strip() or "kubectl patch failed"
    kubectl(context, "-n", "auth", "rollout", "restart", "deployment/dex")
    return None
