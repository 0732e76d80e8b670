"""The resource types the fake API server serves, keyed by group and plural as a real one keys them.

A type is one storage (`plural.group`) served at one or more versions; an object is stored once, at the storage
version, and read or written at any served version by rewriting its apiVersion (the trivial conversion a CRD
with `strategy: None` gets). Discovery, both the legacy documents and the aggregated `apidiscovery.k8s.io/v2`
list kubectl asks for first, is computed from this registry, so a CRD's kinds appear the moment it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ = ("get", "list", "watch")


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One stored resource: its group, plural, kind, scope, served versions (preferred first) and storage."""

    group: str
    plural: str
    kind: str
    namespaced: bool
    versions: tuple[str, ...]
    storage: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = VERBS

    @property
    def key(self) -> str:
        """`plural` for the core group, else `plural.group` (the name kubectl and the API's errors use)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        """The singular resource name, lower-case kind as the API server defaults it."""
        return self.kind.lower()

    def api_version(self, version: str | None = None) -> str:
        """`group/version` (or just `v1` for core) at a served version (the storage one by default)."""
        v = version or self.storage
        return f"{self.group}/{v}" if self.group else v


def _t(group: str, plural: str, kind: str, namespaced: bool, versions: Iterable[str] = ("v1",),
       short: Iterable[str] = (), categories: Iterable[str] = (), sub: Iterable[str] = (),
       verbs: Iterable[str] = VERBS) -> ResourceType:
    """A built-in type whose first version is also its storage version."""
    vs = tuple(versions)
    return ResourceType(group, plural, kind, namespaced, vs, vs[0], tuple(short), tuple(categories), tuple(sub),
                        tuple(verbs))


ALL = ("all",)
BUILTIN: tuple[ResourceType, ...] = (
    _t("", "namespaces", "Namespace", False, short=["ns"], sub=["status", "finalize"]),
    _t("", "nodes", "Node", False, short=["no"], sub=["status", "proxy"]),
    _t("", "pods", "Pod", True, short=["po"], categories=ALL,
       sub=["log", "status", "exec", "portforward", "attach", "binding", "eviction", "ephemeralcontainers"]),
    _t("", "events", "Event", True, short=["ev"]),
    _t("", "configmaps", "ConfigMap", True, short=["cm"]),
    _t("", "secrets", "Secret", True),
    _t("", "serviceaccounts", "ServiceAccount", True, short=["sa"], sub=["token"]),
    _t("", "services", "Service", True, short=["svc"], categories=ALL, sub=["status", "proxy"]),
    _t("", "endpoints", "Endpoints", True, short=["ep"]),
    _t("", "persistentvolumeclaims", "PersistentVolumeClaim", True, short=["pvc"], sub=["status"]),
    _t("", "persistentvolumes", "PersistentVolume", False, short=["pv"], sub=["status"]),
    _t("", "resourcequotas", "ResourceQuota", True, short=["quota"], sub=["status"]),
    _t("", "limitranges", "LimitRange", True, short=["limits"]),
    _t("", "replicationcontrollers", "ReplicationController", True, short=["rc"], categories=ALL,
       sub=["status", "scale"]),
    _t("apps", "deployments", "Deployment", True, short=["deploy"], categories=ALL, sub=["status", "scale"]),
    _t("apps", "statefulsets", "StatefulSet", True, short=["sts"], categories=ALL, sub=["status", "scale"]),
    _t("apps", "daemonsets", "DaemonSet", True, short=["ds"], categories=ALL, sub=["status"]),
    _t("apps", "replicasets", "ReplicaSet", True, short=["rs"], categories=ALL, sub=["status", "scale"]),
    _t("apps", "controllerrevisions", "ControllerRevision", True),
    _t("batch", "jobs", "Job", True, categories=ALL, sub=["status"]),
    _t("batch", "cronjobs", "CronJob", True, short=["cj"], categories=ALL, sub=["status"]),
    _t("autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, versions=["v2", "v1"],
       short=["hpa"], categories=ALL, sub=["status"]),
    _t("policy", "poddisruptionbudgets", "PodDisruptionBudget", True, short=["pdb"], sub=["status"]),
    _t("networking.k8s.io", "networkpolicies", "NetworkPolicy", True, short=["netpol"]),
    _t("networking.k8s.io", "ingresses", "Ingress", True, short=["ing"], sub=["status"]),
    _t("networking.k8s.io", "ingressclasses", "IngressClass", False),
    _t("discovery.k8s.io", "endpointslices", "EndpointSlice", True),
    _t("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
    _t("admissionregistration.k8s.io", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
       False),
    _t("admissionregistration.k8s.io", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", False,
       sub=["status"]),
    _t("admissionregistration.k8s.io", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding",
       False),
    _t("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", False,
       short=["crd", "crds"], sub=["status"]),
    _t("rbac.authorization.k8s.io", "roles", "Role", True),
    _t("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", True),
    _t("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
    _t("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
    _t("scheduling.k8s.io", "priorityclasses", "PriorityClass", False, short=["pc"]),
    _t("storage.k8s.io", "storageclasses", "StorageClass", False, short=["sc"]),
    _t("coordination.k8s.io", "leases", "Lease", True),
    _t("certificates.k8s.io", "certificatesigningrequests", "CertificateSigningRequest", False, short=["csr"],
       sub=["status", "approval"]),
    _t("node.k8s.io", "runtimeclasses", "RuntimeClass", False),
)
"""What a GKE 1.33 cluster serves out of the box (the parts a Kubeflow install touches, and their neighbours)."""

NOTEBOOKS = _t("kubeflow.org", "notebooks", "Notebook", True, sub=["status"])
"""The scenario's notebooks exist before any CRD is applied (the demo cluster already runs Kubeflow)."""

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key of Kubernetes' version priority: GA before beta before alpha, higher numbers first."""
    m = _VERSION.match(version)
    if not m:
        return (3, 0, 0, version)
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (level, -int(m.group(1)), -int(m.group(3) or 0), "")


def crd_type(crd: Mapping[str, Any]) -> ResourceType | None:
    """The type a CustomResourceDefinition adds: every served version, its storage version, its names."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    plural, kind, group = names.get("plural"), names.get("kind"), spec.get("group")
    if not (plural and kind and group):
        return None
    versions = [v for v in spec.get("versions") or [] if v.get("name")]
    served = sorted((str(v["name"]) for v in versions if v.get("served", True)), key=version_priority)
    if not served:
        return None
    storage = next((str(v["name"]) for v in versions if v.get("storage")), served[0])
    subs = sorted({s for v in versions for s in (v.get("subresources") or {})})
    return ResourceType(str(group), str(plural), str(kind), spec.get("scope", "Namespaced") == "Namespaced",
                        tuple(served), storage, tuple(names.get("shortNames") or ()),
                        tuple(names.get("categories") or ()), tuple(subs))


def group_versions(types: Iterable[ResourceType]) -> dict[str, list[str]]:
    """Each group's served versions, highest priority first (the first is the group's preferred version)."""
    found: dict[str, set[str]] = {}
    for t in types:
        found.setdefault(t.group, set()).update(t.versions)
    return {g: sorted(vs, key=version_priority) for g, vs in found.items()}


def _sub_entries(t: ResourceType) -> list[tuple[str, str, tuple[str, ...]]]:
    """(subresource, kind it returns, verbs) for a type's subresources."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for sub in t.subresources:
        if sub == "log":
            out.append((sub, "Pod", ("get",)))
        elif sub == "scale":
            out.append((sub, "Scale", ("get", "patch", "update")))
        elif sub in ("exec", "portforward", "attach", "proxy"):
            out.append((sub, "PodExecOptions" if sub == "exec" else t.kind, ("create", "get")))
        elif sub in ("token", "binding", "eviction"):
            out.append((sub, {"token": "TokenRequest", "binding": "Binding", "eviction": "Eviction"}[sub],
                        ("create",)))
        else:
            out.append((sub, t.kind, ("get", "patch", "update")))
    return out


def resource_list(types: Iterable[ResourceType], group: str, version: str) -> list[dict[str, Any]]:
    """The legacy APIResourceList entries of one group/version."""
    out: list[dict[str, Any]] = []
    for t in sorted(types, key=lambda t: t.plural):
        if t.group != group or version not in t.versions:
            continue
        entry: dict[str, Any] = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                                 "kind": t.kind, "verbs": list(t.verbs)}
        if t.short_names:
            entry["shortNames"] = list(t.short_names)
        if t.categories:
            entry["categories"] = list(t.categories)
        entry["storageVersionHash"] = _hash(t.key)
        out.append(entry)
        for sub, kind, verbs in _sub_entries(t):
            out.append({"name": f"{t.plural}/{sub}", "singularName": "", "namespaced": t.namespaced, "kind": kind,
                        "verbs": list(verbs)})
    return out


def api_group(name: str, versions: list[str]) -> dict[str, Any]:
    """One legacy APIGroup document."""
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def aggregated(types: Iterable[ResourceType], core: bool) -> dict[str, Any]:
    """The `apidiscovery.k8s.io/v2` APIGroupDiscoveryList for /api (core) or /apis (every named group)."""
    pool = [t for t in types if (t.group == "") == core]
    items: list[dict[str, Any]] = []
    for group, versions in sorted(group_versions(pool).items(), key=lambda kv: kv[0]):
        entries: list[dict[str, Any]] = []
        for version in versions:
            resources: list[dict[str, Any]] = []
            for t in sorted((t for t in pool if t.group == group and version in t.versions), key=lambda t: t.plural):
                gvk = {"group": group, "version": version, "kind": t.kind}
                res: dict[str, Any] = {"resource": t.plural, "responseKind": gvk,
                                       "scope": "Namespaced" if t.namespaced else "Cluster",
                                       "singularResource": t.singular, "verbs": list(t.verbs)}
                if t.short_names:
                    res["shortNames"] = list(t.short_names)
                if t.categories:
                    res["categories"] = list(t.categories)
                subs = [{"subresource": sub, "responseKind": {"group": group, "version": version, "kind": kind},
                         "verbs": list(verbs)} for sub, kind, verbs in _sub_entries(t)]
                if subs:
                    res["subresources"] = subs
                resources.append(res)
            entries.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def _hash(payload: str) -> str:
    """A short stable hash (storageVersionHash, openapi serverRelativeURL)."""
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(payload.encode()).digest()[:8]).decode()


def openapi_root(types: Iterable[ResourceType]) -> dict[str, Any]:
    """GET /openapi/v3: one entry per served group/version."""
    pool = list(types)
    paths: dict[str, Any] = {}
    for group, versions in sorted(group_versions(pool).items()):
        for version in versions:
            key = "api/v1" if not group else f"apis/{group}/{version}"
            signature = ",".join(sorted(t.key for t in pool if t.group == group and version in t.versions))
            digest = _hash(signature).replace("+", "A").replace("/", "B").replace("=", "")
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest.upper()}"}
    return {"paths": paths}


def openapi_doc(types: Iterable[ResourceType], group: str, version: str) -> dict[str, Any]:
    """A minimal OpenAPI v3 document: each kind's PATCH takes `fieldValidation` (so kubectl validates server-side)."""
    prefix = "/api/v1" if not group else f"/apis/{group}/{version}"
    paths: dict[str, Any] = {}
    for t in sorted(types, key=lambda t: t.plural):
        if t.group != group or version not in t.versions:
            continue
        path = f"{prefix}/namespaces/{{namespace}}/{t.plural}/{{name}}" if t.namespaced else \
            f"{prefix}/{t.plural}/{{name}}"
        gvk = {"group": group, "version": version, "kind": t.kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                  for n in ("fieldManager", "fieldValidation", "force", "dryRun")]
        paths[path] = {"patch": {"operationId": f"patch{t.kind}", "parameters": params,
                                 "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                                 "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.5"}, "paths": paths,
            "components": {"schemas": {}}}


def crd_lists(crd: Mapping[str, Any], version: str | None = None) -> dict[tuple[str, ...], tuple[str, ...]]:
    """A CRD's keyed lists at one version (its storage version by default), from its OpenAPI schema:
    `x-kubernetes-list-type: map` with its `x-kubernetes-list-map-keys`, `set` as (); `*` stands for any key of an
    additionalProperties map. Lists it does not mark are atomic, as the API server treats them."""
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, Mapping)]
    entry = next((v for v in versions if v.get("name") == version), None) \
        or next((v for v in versions if v.get("storage")), None) or (versions[0] if versions else {})
    schema = (entry.get("schema") or {}).get("openAPIV3Schema") or {}
    out: dict[tuple[str, ...], tuple[str, ...]] = {}

    def walk(node: Any, path: tuple[str, ...], depth: int) -> None:
        if depth > 64 or not isinstance(node, Mapping):
            return
        if node.get("type") == "array" or "items" in node:
            kind = node.get("x-kubernetes-list-type")
            keys = tuple(str(k) for k in node.get("x-kubernetes-list-map-keys") or ())
            if kind == "map" and keys:
                out[path] = keys
            elif kind == "set":
                out[path] = ()
            walk(node.get("items"), path, depth + 1)
        for name, child in (node.get("properties") or {}).items():
            walk(child, (*path, str(name)), depth + 1)
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            walk(extra, (*path, "*"), depth + 1)

    walk(schema, (), 0)
    return out
