"""Scenario shorthands expanded into full Kubernetes objects, plus selector matching, as the API server would."""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

# resource plural -> (apiVersion, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("v1", "Namespace", False),
    "nodes": ("v1", "Node", False),
    "pods": ("v1", "Pod", True),
    "events": ("v1", "Event", True),
    "notebooks": ("kubeflow.org/v1", "Notebook", True),
}


def rfc3339(ns: int, nano: bool = False) -> str:
    """Kubernetes time strings: seconds for object fields, nanoseconds for log timestamps."""
    sec, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z" if nano else f"{base}Z"


_PINNED_NOW: ContextVar[int | None] = ContextVar("pinned_now", default=None)


@contextmanager
def pinned_now(now_ns: int | None) -> Iterator[None]:
    """Seed a scenario as of a fixed instant, so a still world has the same timestamps in every run."""
    token = _PINNED_NOW.set(now_ns)
    try:
        yield
    finally:
        _PINNED_NOW.reset(token)


def ago(seconds: float | int | None, now_ns: int | None = None) -> str:
    """An object timestamp `seconds` before now (scenario files speak in ages, not dates)."""
    if now_ns is None:
        now_ns = _PINNED_NOW.get()
    now_ns = time.time_ns() if now_ns is None else now_ns
    return rfc3339(now_ns - int(float(seconds or 0) * 1_000_000_000))


def uid_for(*parts: str) -> str:
    """A stable uid so the same scenario gives the same uids (kubectl describe filters events by uid)."""
    h = hashlib.sha1("/".join(parts).encode()).hexdigest()  # noqa: S324 - not security
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _container_state(c: Mapping[str, Any], started: str) -> Obj:
    """The containerStatus `state` block for a shorthand container."""
    state = str(c.get("state", "running"))
    if state == "waiting":
        block: Obj = {"reason": c.get("reason", "ContainerCreating")}
        if c.get("message"):
            block["message"] = c["message"]
        return {"waiting": block}
    if state == "terminated":
        code = int(c.get("exitCode", 0))
        return {
            "terminated": {
                "exitCode": code,
                "reason": c.get("reason", "Completed" if code == 0 else "Error"),
                "startedAt": started,
                "finishedAt": c.get("finishedAt", started),
                "containerID": f"containerd://{uid_for(str(c.get('name')), 'run').replace('-', '')}",
            }
        }
    return {"running": {"startedAt": started}}


def expand_pod(entry: Mapping[str, Any], now_ns: int | None = None) -> Obj:
    """A full Pod from a scenario entry (shorthand keys or raw metadata/spec/status)."""
    if "metadata" in entry and "spec" in entry:
        pod = copy.deepcopy(dict(entry))
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        pod.pop("logs", None)
        return pod
    name = str(entry["name"])
    ns = str(entry.get("namespace", "default"))
    created = ago(entry.get("age_seconds", 600), now_ns)
    containers = entry.get("containers") or [{"name": "main", "image": entry.get("image", "busybox:1.36")}]
    spec_containers: list[Obj] = []
    statuses: list[Obj] = []
    for c in containers:
        resources: Obj = {}
        if c.get("gpu"):
            resources = {"limits": {"nvidia.com/gpu": str(c["gpu"])}, "requests": {"nvidia.com/gpu": str(c["gpu"])}}
        if c.get("resources"):
            resources = copy.deepcopy(c["resources"])
        sc: Obj = {"name": c["name"], "image": c.get("image", "busybox:1.36"), "resources": resources}
        if c.get("command"):
            sc["command"] = list(c["command"])
        spec_containers.append(sc)
        st: Obj = {
            "name": c["name"],
            "image": c.get("image", "busybox:1.36"),
            "imageID": "" if c.get("state") == "waiting" else f"docker.io/library/{c['name']}@sha256:{'0' * 64}",
            "ready": bool(c.get("ready", c.get("state", "running") == "running")),
            "restartCount": int(c.get("restartCount", 0)),
            "started": c.get("state", "running") == "running",
            "state": _container_state(c, ago(c.get("started_seconds_ago", entry.get("age_seconds", 600)), now_ns)),
        }
        if c.get("state", "running") != "waiting":
            st["containerID"] = f"containerd://{uid_for(ns, name, c['name']).replace('-', '')}"
        if c.get("lastState"):
            st["lastState"] = copy.deepcopy(c["lastState"])
        statuses.append(st)
    phase = str(entry.get("phase", "Running"))
    node = entry.get("node")
    spec: Obj = {"containers": spec_containers, "restartPolicy": entry.get("restartPolicy", "Always")}
    if node:
        spec["nodeName"] = node
    for key in ("nodeSelector", "tolerations", "serviceAccountName"):
        if entry.get(key):
            spec[key] = copy.deepcopy(entry[key])
    all_ready = all(s["ready"] for s in statuses) and phase == "Running"
    conditions: list[Obj]
    if entry.get("conditions") is not None:
        conditions = copy.deepcopy(list(entry["conditions"]))
    elif not node:
        conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                       "message": entry.get("unschedulable", "0/3 nodes are available."),
                       "lastTransitionTime": created, "lastProbeTime": None}]
    else:
        conditions = [
            {"type": "Initialized", "status": "True", "lastTransitionTime": created},
            {"type": "Ready", "status": "True" if all_ready else "False", "lastTransitionTime": created},
            {"type": "ContainersReady", "status": "True" if all_ready else "False", "lastTransitionTime": created},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": created},
        ]
    status: Obj = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
    if node:
        status["containerStatuses"] = statuses
        status["hostIP"] = f"10.128.0.{2 + int(uid_for('node', str(node))[:4], 16) % 200}"
        status["podIP"] = f"10.8.{len(ns) % 8}.{2 + int(uid_for(ns, name)[:4], 16) % 250}"
        status["startTime"] = created
    if entry.get("reason"):
        status["reason"] = entry["reason"]
    metadata: Obj = {
        "name": name,
        "namespace": ns,
        "uid": uid_for("pod", ns, name),
        "creationTimestamp": created,
        "labels": dict(entry.get("labels") or {}),
        "annotations": dict(entry.get("annotations") or {}),
    }
    if entry.get("ownerReferences"):
        owners = copy.deepcopy(list(entry["ownerReferences"]))
        for ref in owners:  # the Python client rejects an ownerReference without uid
            ref.setdefault("uid", uid_for(str(ref.get("kind")), ns, str(ref.get("name"))))
            ref.setdefault("apiVersion", "apps/v1")
        metadata["ownerReferences"] = owners
    if entry.get("deletionTimestamp"):
        metadata["deletionTimestamp"] = entry["deletionTimestamp"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def expand_node(entry: Mapping[str, Any], now_ns: int | None = None) -> Obj:
    """A Node with capacity, labels and taints from a scenario entry."""
    name = str(entry["name"])
    capacity = {k: str(v) for k, v in (entry.get("capacity") or {"cpu": "4", "memory": "15Gi"}).items()}
    spec: Obj = {}
    if entry.get("taints"):
        spec["taints"] = copy.deepcopy(entry["taints"])
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": uid_for("node", name), "labels": dict(entry.get("labels") or {}),
                     "creationTimestamp": ago(entry.get("age_seconds", 86400), now_ns)},
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "nodeInfo": {"kubeletVersion": "v1.33.5-gke.1000", "containerRuntimeVersion": "containerd://1.7.24",
                         "osImage": "Container-Optimized OS from Google", "architecture": "amd64",
                         "operatingSystem": "linux"},
            "addresses": [{"type": "Hostname", "address": name}],
        },
    }


def expand_namespace(entry: Mapping[str, Any] | str, now_ns: int | None = None) -> Obj:
    """A Namespace, Active, with optional labels (profile namespaces carry Kubeflow's labels)."""
    e: Mapping[str, Any] = {"name": entry} if isinstance(entry, str) else entry
    name = str(e["name"])
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "uid": uid_for("ns", name), "labels": dict(e.get("labels") or {}),
                     "creationTimestamp": ago(e.get("age_seconds", 86400), now_ns)},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def expand_event(entry: Mapping[str, Any], seq: int, now_ns: int | None = None,
                 involved_uid: str | None = None) -> Obj:
    """A core/v1 Event about an object, with first/last timestamps derived from ages."""
    inv = dict(entry.get("involvedObject") or {})
    inv.setdefault("kind", "Pod")
    inv.setdefault("apiVersion", "kubeflow.org/v1" if inv["kind"] == "Notebook" else "v1")
    ns = str(entry.get("namespace") or inv.get("namespace") or "default")
    inv.setdefault("namespace", ns)
    if involved_uid:
        inv.setdefault("uid", involved_uid)
    last = ago(entry.get("age_seconds", 30), now_ns)
    first = ago(entry.get("first_seconds_ago", entry.get("age_seconds", 30)), now_ns)
    name = f"{inv.get('name', 'x')}.{(now_ns or time.time_ns()) // 1000 + seq:x}"
    source = entry.get("source") or {"component": "default-scheduler"}
    if isinstance(source, str):
        source = {"component": source}
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "uid": uid_for("ev", ns, name), "creationTimestamp": first},
        "involvedObject": inv,
        "type": entry.get("type", "Normal"),
        "reason": entry.get("reason", ""),
        "message": entry.get("message", ""),
        "count": int(entry.get("count", 1)),
        "firstTimestamp": first,
        "lastTimestamp": last,
        "source": source,
        "reportingComponent": source.get("component", ""),
    }


def expand_notebook(entry: Mapping[str, Any], now_ns: int | None = None) -> Obj:
    """A kubeflow.org/v1 Notebook; its status is filled later from its pod, as the controller does."""
    if "metadata" in entry and "spec" in entry:
        nb = copy.deepcopy(dict(entry))
        nb.setdefault("apiVersion", "kubeflow.org/v1")
        nb.setdefault("kind", "Notebook")
        return nb
    name = str(entry["name"])
    ns = str(entry["namespace"])
    resources: Obj = {"requests": {"cpu": str(entry.get("cpu", "0.5")), "memory": str(entry.get("memory", "1Gi"))},
                      "limits": {}}
    if entry.get("gpu"):
        resources["limits"]["nvidia.com/gpu"] = str(entry["gpu"])
    container: Obj = {"name": name, "image": entry.get("image", "kubeflownotebookswg/jupyter-scipy:v1.9.0"),
                      "resources": resources}
    pod_spec: Obj = {"containers": [container], "serviceAccountName": "default-editor"}
    if entry.get("gpu"):
        pod_spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    annotations = dict(entry.get("annotations") or {})
    if entry.get("stopped"):
        annotations["kubeflow-resource-stopped"] = ago(0, now_ns)
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": name, "namespace": ns, "uid": uid_for("nb", ns, name),
                     "creationTimestamp": ago(entry.get("age_seconds", 600), now_ns),
                     "labels": {"app": name, **dict(entry.get("labels") or {})}, "annotations": annotations},
        "spec": {"template": {"spec": pod_spec}},
        "status": {"conditions": [], "containerState": {}, "readyReplicas": 0},
    }


def notebook_status_from_pod(pod: Mapping[str, Any] | None) -> Obj:
    """What the notebook controller copies from pod `<name>-0` into the Notebook's status."""
    if pod is None:
        return {"conditions": [], "containerState": {}, "readyReplicas": 0}
    st = pod.get("status") or {}
    conds = [
        {k: v for k, v in c.items() if k in ("type", "status", "reason", "message", "lastProbeTime",
                                                  "lastTransitionTime")}
        for c in st.get("conditions") or []
    ]
    cstates = st.get("containerStatuses") or []
    state = copy.deepcopy(cstates[0].get("state", {})) if cstates else {}
    ready = 1 if cstates and all(c.get("ready") for c in cstates) and st.get("phase") == "Running" else 0
    return {"conditions": conds, "containerState": state, "readyReplicas": ready}


def lookup(obj: Mapping[str, Any], dotted: str) -> Any:
    """A dotted field path (`involvedObject.name`) inside an object, or None."""
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def parse_selector(text: str | None) -> list[tuple[str, str, str | list[str]]]:
    """Split a label or field selector into (key, op, value) terms; ops: =, !=, exists, !exists, in, notin."""
    if not text:
        return []
    terms: list[tuple[str, str, str | list[str]]] = []
    parts: list[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for raw in parts:
        p = raw.strip()
        if not p:
            continue
        if " notin " in p or " in " in p:
            key, op, rest = (p.partition(" notin ") if " notin " in p else p.partition(" in "))
            values = [v.strip() for v in rest.strip().strip("()").split(",") if v.strip()]
            terms.append((key.strip(), op.strip(), values))
        elif "!=" in p:
            k, _, v = p.partition("!=")
            terms.append((k.strip(), "!=", v.strip()))
        elif "==" in p:
            k, _, v = p.partition("==")
            terms.append((k.strip(), "=", v.strip()))
        elif "=" in p:
            k, _, v = p.partition("=")
            terms.append((k.strip(), "=", v.strip()))
        elif p.startswith("!"):
            terms.append((p[1:].strip(), "!exists", ""))
        else:
            terms.append((p, "exists", ""))
    return terms


def _term_ok(value: str | None, op: str, want: str | list[str]) -> bool:
    """One selector term against one value (None = absent)."""
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    if op == "exists":
        return value is not None
    if op == "!exists":
        return value is None
    if op == "in":
        return value is not None and value in want
    if op == "notin":
        return value is None or value not in want
    return False


def matches(obj: Mapping[str, Any], labels: list[tuple[str, str, str | list[str]]],
            fields: list[tuple[str, str, str | list[str]]]) -> bool:
    """Whether an object passes a parsed label selector and a parsed field selector."""
    obj_labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, want in labels:
        if not _term_ok(obj_labels.get(key), op, want):
            return False
    for key, op, want in fields:
        raw = lookup(obj, key)
        value = None if raw is None else str(raw)
        if op in ("=", "!=") and value is None:
            value = ""
        if not _term_ok(value, op, want):
            return False
    return True
