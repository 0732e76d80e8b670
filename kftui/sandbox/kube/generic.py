"""Kinds the sandbox stores without behaviour of their own, so `kubectl apply -k` of a small kustomization works.

What kubectl needs for `apply --server-side`: discovery of each group/version, an OpenAPI v3 document that says
PATCH takes `fieldValidation` (else kubectl wants a full schema to validate on its side), and PATCH with
`application/apply-patch+yaml` that creates or merges. CRDs add their kinds to discovery at once; a resource of a
kind whose CRD is applied in the same run still fails the first time, as on a real cluster, because kubectl maps
kinds before it sends anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

Info = tuple[str, str, bool]
"""(apiVersion, kind, namespaced) of a resource plural."""

BUILTIN: dict[str, Info] = {
    "configmaps": ("v1", "ConfigMap", True),
    "secrets": ("v1", "Secret", True),
    "serviceaccounts": ("v1", "ServiceAccount", True),
    "services": ("v1", "Service", True),
    "persistentvolumeclaims": ("v1", "PersistentVolumeClaim", True),
    "deployments": ("apps/v1", "Deployment", True),
    "statefulsets": ("apps/v1", "StatefulSet", True),
    "daemonsets": ("apps/v1", "DaemonSet", True),
    "customresourcedefinitions": ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False),
    "roles": ("rbac.authorization.k8s.io/v1", "Role", True),
    "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
    "clusterroles": ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    "clusterrolebindings": ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
}

STUCK_ANNOTATION = "sandbox.kftui.dev/stuck"
"""A Deployment carrying this annotation never becomes Available (to show a stuck install)."""

APPLY_PATCH = "application/apply-patch+yaml"
_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
_SHORT = {"configmaps": ["cm"], "services": ["svc"], "serviceaccounts": ["sa"], "deployments": ["deploy"],
          "statefulsets": ["sts"], "daemonsets": ["ds"], "persistentvolumeclaims": ["pvc"],
          "customresourcedefinitions": ["crd", "crds"]}


def split_api(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> (apps, v1); `v1` -> ("", v1)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def resource_list(resources: Mapping[str, Info], api_version: str) -> list[dict[str, Any]]:
    """APIResource entries of one group/version."""
    out: list[dict[str, Any]] = []
    for plural, (api, kind, namespaced) in sorted(resources.items()):
        if api != api_version:
            continue
        entry: dict[str, Any] = {"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                                 "kind": kind, "verbs": list(_VERBS)}
        if plural in _SHORT:
            entry["shortNames"] = _SHORT[plural]
        out.append(entry)
        if plural == "deployments":
            out.append({"name": "deployments/status", "singularName": "", "namespaced": True, "kind": kind,
                        "verbs": ["get", "patch", "update"]})
    return out


def group_versions(resources: Mapping[str, Info]) -> dict[str, list[str]]:
    """Named groups and their versions (the core group "" is served under /api)."""
    groups: dict[str, list[str]] = {}
    for api, _, _ in resources.values():
        group, version = split_api(api)
        if group and version not in groups.setdefault(group, []):
            groups[group].append(version)
    return groups


def api_group(name: str, versions: list[str]) -> dict[str, Any]:
    """One APIGroup object."""
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def _hash(payload: Any) -> str:
    """A stable hash for openapi `serverRelativeURL`s (kubectl caches by it)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16].upper()


def openapi_root(resources: Mapping[str, Info]) -> dict[str, Any]:
    """GET /openapi/v3: one entry per group/version."""
    paths: dict[str, Any] = {}
    for api in sorted({info[0] for info in resources.values()}):
        key = "api/v1" if api == "v1" else f"apis/{api}"
        doc = openapi_doc(resources, api)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(doc)}"}
    return {"paths": paths}


def openapi_doc(resources: Mapping[str, Info], api_version: str) -> dict[str, Any]:
    """A minimal OpenAPI v3 document: each kind's PATCH takes `fieldValidation` (so kubectl validates server-side)."""
    group, version = split_api(api_version)
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    paths: dict[str, Any] = {}
    for plural, (api, kind, namespaced) in sorted(resources.items()):
        if api != api_version:
            continue
        path = f"{prefix}/namespaces/{{namespace}}/{plural}/{{name}}" if namespaced else f"{prefix}/{plural}/{{name}}"
        gvk = {"group": group, "version": version, "kind": kind}
        params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                  for n in ("fieldManager", "fieldValidation", "force", "dryRun")]
        paths[path] = {"patch": {"operationId": f"patch{kind}", "parameters": params,
                                 "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                                 "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.5"}, "paths": paths,
            "components": {"schemas": {}}}


def crd_kinds(crd: Mapping[str, Any]) -> dict[str, Info]:
    """The resources a CustomResourceDefinition adds (every served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    plural, kind, group = names.get("plural"), names.get("kind"), spec.get("group")
    if not (plural and kind and group):
        return {}
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    served = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True) and v.get("name")]
    return {plural: (f"{group}/{served[0]}", str(kind), namespaced)} if served else {}


def established(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The status a CRD reaches once the API server serves it."""
    names = (crd.get("spec") or {}).get("names") or {}
    return {"conditions": [{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                           {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}],
            "acceptedNames": dict(names)}


def available(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The status a Deployment reaches once its pods are ready."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    generation = int((deployment.get("metadata") or {}).get("generation", 1))
    return {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                            "message": "Deployment has minimum availability."},
                           {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                            "message": "ReplicaSet has successfully progressed."}]}


def progressing(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The status of a Deployment whose pods are not ready yet."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    return {"replicas": replicas, "updatedReplicas": replicas, "unavailableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                            "message": "Deployment does not have minimum availability."}]}
