"""Installing manifests with the real kubectl: kustomize build, server-side apply, deployment readiness, events.

kubectl is used as a subprocess on purpose: it is what the upstream instructions use, so its server-side apply,
kustomize and auth plugin behave exactly as they would for the user typing the script.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kftui.core.plan import GOOGLE_CONFIG, GOOGLE_ENV, GOOGLE_SECRET, OAUTH2_NAMESPACE, google_proxy_config
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


class BuildError(ConfigError):
    """A kustomization did not build; `network` when it needs remote bases this machine cannot fetch."""

    def __init__(self, message: str, network: bool = False) -> None:
        """Keep whether the network is the cause (the caller says so in one line)."""
        super().__init__(message)
        self.network = network


_NETWORK_SIGNS = ("Could not resolve host", "no such host", "dial tcp", "git fetch", "cloneCmd", "git clone",
                  "network is unreachable", "Connection timed out", "i/o timeout")
_URL = re.compile(r"https?://[^\s'\"]+")


def kustomize_command() -> list[str]:
    """`kustomize build` when installed (what upstream's README uses), else `kubectl kustomize`."""
    standalone = shutil.which("kustomize")
    return [standalone, "build"] if standalone else [kubectl_path(), "kustomize"]


def render(directory: Path, timeout: float = KUBECTL_TIMEOUT) -> str:
    """The YAML a kustomization makes; BuildError in one line (naming a remote base when the network is the cause)."""
    command = [*kustomize_command(), str(directory)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"building {directory.name} took over {timeout:.0f} s", network=True) from exc
    if done.returncode == 0:
        return done.stdout
    err = done.stderr
    if any(sign in err for sign in _NETWORK_SIGNS):
        urls = _URL.findall(err)
        where = urls[0].rstrip(":,") if urls else "a remote base"
        raise BuildError(f"it pulls {where} from the network, which this machine cannot reach", network=True)
    lines = [line.strip() for line in err.splitlines() if line.strip() and not line.startswith("# Warning")]
    raise BuildError((lines[-1] if lines else f"{command[0]} exited with {done.returncode}")[:300])


def documents(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream (libyaml's parser when present: releases are large)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [d for d in yaml.load_all(text, Loader=loader) if isinstance(d, dict) and d.get("kind")]
    except yaml.YAMLError as exc:
        raise ConfigError(f"the manifests are not valid YAML: {str(exc).splitlines()[0]}") from exc


def read_rendered(path: Path) -> str:
    """A rendered manifests file (plain or gzipped YAML)."""
    import gzip

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def ref_of(obj: Mapping[str, Any]) -> str:
    """`kind.group/name` as kubectl prints it."""
    return _ref(obj)


def build(directory: Path) -> list[Manifest]:
    """The objects a kustomization makes, in order."""
    found: list[Manifest] = []
    for doc in documents(render(directory)):
        ns = str((doc.get("metadata") or {}).get("namespace") or "")
        found.append(Manifest(_ref(doc), ns, component_of(doc)))
    return found


@dataclass
class ApplyResult:
    """One `kubectl apply --server-side --force-conflicts`: what was applied and kubectl's errors."""

    code: int
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when kubectl applied everything."""
        return self.code == 0


def _result(code: int, out: str, err: str) -> ApplyResult:
    """kubectl's output: one `ref serverside-applied` line per object, errors on stderr."""
    result = ApplyResult(code)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and "/" in parts[0]:
            result.applied.append(parts[0])
    result.errors = [line.strip() for line in err.splitlines() if line.strip()]
    return result


def apply(context: str, directory: Path) -> ApplyResult:
    """Server-side apply of a kustomization directory."""
    return _result(*kubectl(context, "apply", "-k", str(directory), "--server-side", "--force-conflicts"))


def apply_objects(context: str, objects: Sequence[Mapping[str, Any]]) -> ApplyResult:
    """Server-side apply of objects sent on stdin as one v1 List (never written to a file)."""
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})
    return _result(*kubectl(context, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=body))


BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "admissionregistration.k8s.io",
    "apiextensions.k8s.io", "rbac.authorization.k8s.io", "scheduling.k8s.io", "storage.k8s.io",
    "coordination.k8s.io", "certificates.k8s.io", "discovery.k8s.io", "node.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
})
"""API groups Kubernetes itself serves: a kind of these is never waiting for a CRD."""

_NO_MATCH = re.compile(r'no matches for kind "([^"]+)" in version "([^"]+)"')
_NO_ENDPOINTS = re.compile(
    r'Post "https://([a-z0-9-]+)\.([a-z0-9-]+)\.svc[^"]*": (no endpoints available|service "[^"]+" not found)')
_NO_NAMESPACE = re.compile(r'namespaces "([^"]+)" not found')


@dataclass(frozen=True, slots=True)
class ApplyProblem:
    """Why some objects were refused: a kind not served yet, a webhook not reachable, a missing namespace, else."""

    kind: str
    """`crd`, `builtin`, `webhook`, `namespace` or `other`."""
    subject: str
    """The kind (crd/builtin), `namespace/service` (webhook), the namespace, or kubectl's line."""


def problems(errors: Sequence[str]) -> list[ApplyProblem]:
    """kubectl's error lines sorted into what to wait for (each distinct problem once, in order)."""
    found: dict[ApplyProblem, None] = {}
    for line in errors:
        if line == "ensure CRDs are installed first":
            continue
        if m := _NO_MATCH.search(line):
            kind, version = m.group(1), m.group(2)
            group = version.rpartition("/")[0] if "/" in version else ""
            found[ApplyProblem("builtin" if group in BUILTIN_GROUPS else "crd", f"{kind} ({version})")] = None
        elif m := _NO_ENDPOINTS.search(line):
            found[ApplyProblem("webhook", f"{m.group(2)}/{m.group(1)}")] = None
        elif m := _NO_NAMESPACE.search(line):
            found[ApplyProblem("namespace", m.group(1))] = None
        else:
            found[ApplyProblem("other", line[:300])] = None
    return list(found)


def wait_established(context: str, crds: Sequence[str], timeout: float) -> str | None:
    """`kubectl wait --for condition=established` on the named CRDs; None when they are, else kubectl's words."""
    if not crds:
        return None
    code, _, err = kubectl(context, "wait", "--for", "condition=established", f"--timeout={timeout:.0f}s",
                           *[f"crd/{name}" for name in crds], timeout=timeout + 60)
    return None if code == 0 else (err.strip().splitlines() or ["timed out"])[-1]


def wait_available(context: str, namespace: str, names: Sequence[str], timeout: float) -> str | None:
    """`kubectl wait --for=condition=Available` on deployments of a namespace (all when no names)."""
    targets = [f"deployment/{n}" for n in names] or ["deployment", "--all"]
    code, _, err = kubectl(context, "wait", "--for=condition=Available", "-n", namespace, f"--timeout={timeout:.0f}s",
                           *targets, timeout=timeout + 60)
    if code == 0 or "no matching resources found" in err:
        return None
    return (err.strip().splitlines() or ["timed out"])[-1]


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


def dex_password_hash(context: str) -> str | None:
    """The bcrypt hash Dex's `dex-passwords` Secret holds now (None when it cannot be read)."""
    import base64

    code, out, _ = kubectl(context, "get", "secret", "dex-passwords", "-n", "auth", "-o", "json", timeout=60)
    if code != 0:
        return None
    data = (json.loads(out or "{}").get("data") or {}).get("DEX_USER_PASSWORD")
    try:
        return base64.b64decode(str(data)).decode("utf-8") if data else None
    except ValueError:
        return None


def use_google_login(context: str, client_id: str, client_secret: str, redirect_url: str) -> str | None:
    """Point oauth2-proxy at Google with the user's OAuth client; the secret goes to a Secret via stdin only."""
    import base64
    import secrets

    cookie = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()[:32]
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": GOOGLE_SECRET, "namespace": OAUTH2_NAMESPACE},
         "stringData": {"client-id": client_id, "client-secret": client_secret, "cookie-secret": cookie}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": GOOGLE_CONFIG, "namespace": OAUTH2_NAMESPACE},
         "data": {"oauth2_proxy.cfg": google_proxy_config(redirect_url)}},
    ]
    code, out, err = kubectl(context, "get", "deployment", "oauth2-proxy", "-n", OAUTH2_NAMESPACE, "-o", "json")
    if code != 0:
        return err.strip() or "the oauth2-proxy deployment is not there"
    deployment = json.loads(out)
    pod = deployment["spec"]["template"]["spec"]
    for container in pod.get("containers") or []:
        for env in container.get("env") or []:
            key = GOOGLE_ENV.get(str(env.get("name")))
            if key:
                env["valueFrom"] = {"secretKeyRef": {"name": GOOGLE_SECRET, "key": key}}
    for volume in pod.get("volumes") or []:
        if volume.get("name") == "oauth2-proxy-config":
            volume["configMap"] = {"name": GOOGLE_CONFIG}
    for key in ("status",):
        deployment.pop(key, None)
    meta = deployment["metadata"]
    deployment["metadata"] = {"name": meta["name"], "namespace": meta["namespace"],
                              "labels": meta.get("labels") or {}}
    objects.append(deployment)
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    code, _, err = kubectl(context, "apply", "--server-side", "--force-conflicts", "--field-manager=kftui-login",
                           "-f", "-", stdin=body)
    return None if code == 0 else (err.strip() or "kubectl apply failed")
