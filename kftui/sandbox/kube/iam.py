"""GKE's IAM authorizer in front of the fake Kubernetes API: a Google identity is allowed by the project's IAM.

On GKE a request to the cluster's API server is allowed by Kubernetes RBAC *or* by Google IAM. The IAM
authorizer maps each request to one permission `container.<resource>.<verb>` (custom resources are all
`thirdPartyObjects`; `patch` is `update`, `watch` is `list`, `pods/log` is `getLogs` ...) and checks it on the
cluster's project, so an Editor can create Deployments but not ClusterRoles. A refusal is the API server's
403 Status with GKE's reason appended: `... at the cluster scope: requires one of
["container.clusterRoles.create"] permission(s).`

Here a caller is a Google identity when its bearer token was issued by the sandbox's GCP side (the token the
gke-gcloud-auth-plugin gets from gcloud); such a request is checked, and recorded, exactly as the GCP sandbox
checks its own calls. Requests with no token, or one the GCP world does not know (the kubeconfig the sandbox
writes for itself, in-cluster service accounts), keep RBAC's answer, which the sandbox leaves permissive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp import common
from kftui.sandbox.kube.types import BUILTIN

_GCP_ATTR = "_kftui_gke_iam_world"

RESOURCES: dict[str, str] = {
    "apiServices": "create delete get getStatus list update updateStatus",
    "auditSinks": "create delete get list update",
    "backendConfigs": "create delete get list update",
    "bindings": "create delete get list update",
    "certificateSigningRequests": "approve create delete get getStatus list update updateStatus",
    "clusterRoleBindings": "create delete get list update",
    "clusterRoles": "bind create delete escalate get list update",
    "componentStatuses": "get list",
    "configMaps": "create delete get list update",
    "controllerRevisions": "create delete get list update",
    "cronJobs": "create delete get getStatus list update updateStatus",
    "csiDrivers": "create delete get list update",
    "csiNodeInfos": "create delete get list update",
    "csiNodes": "create delete get list update",
    "customResourceDefinitions": "create delete get getStatus list update updateStatus",
    "daemonSets": "create delete get getStatus list update updateStatus",
    "deployments": "create delete get getScale getStatus list rollback update updateScale updateStatus",
    "endpointSlices": "create delete get list update",
    "endpoints": "create delete get list update",
    "events": "create delete get list update",
    "frontendConfigs": "create delete get list update",
    "horizontalPodAutoscalers": "create delete get getStatus list update updateStatus",
    "ingresses": "create delete get getStatus list update updateStatus",
    "initializerConfigurations": "create delete get list update",
    "jobs": "create delete get getStatus list update updateStatus",
    "leases": "create delete get list update",
    "limitRanges": "create delete get list update",
    "localSubjectAccessReviews": "create list",
    "managedCertificates": "create delete get list update",
    "mutatingWebhookConfigurations": "create delete get list update",
    "namespaces": "create delete finalize get getStatus list update updateStatus",
    "networkPolicies": "create delete get list update",
    "nodes": "create delete get getStatus list proxy update updateStatus",
    "persistentVolumeClaims": "create delete get getStatus list update updateStatus",
    "persistentVolumes": "create delete get getStatus list update updateStatus",
    "petSets": "create delete get list update updateStatus",
    "podDisruptionBudgets": "create delete get getStatus list update updateStatus",
    "podPresets": "create delete get list update",
    "podSecurityPolicies": "create delete get list update use",
    "podTemplates": "create delete get list update",
    "pods": "attach create delete evict exec get getLogs getStatus initialize list portForward proxy update "
            "updateStatus",
    "priorityClasses": "create delete get list update",
    "replicaSets": "create delete get getScale getStatus list update updateScale updateStatus",
    "replicationControllers": "create delete get getScale getStatus list update updateScale updateStatus",
    "resourceQuotas": "create delete get getStatus list update updateStatus",
    "roleBindings": "create delete get list update",
    "roles": "bind create delete escalate get list update",
    "runtimeClasses": "create delete get list update",
    "scheduledJobs": "create delete get list update updateStatus",
    "secrets": "create delete get list update",
    "selfSubjectAccessReviews": "create list",
    "selfSubjectRulesReviews": "create",
    "serviceAccounts": "create createToken delete get list update",
    "services": "create delete get getStatus list proxy update updateStatus",
    "statefulSets": "create delete get getScale getStatus list update updateScale updateStatus",
    "storageClasses": "create delete get list update",
    "storageStates": "create delete get getStatus list update updateStatus",
    "storageVersionMigrations": "create delete get getStatus list update updateStatus",
    "subjectAccessReviews": "create list",
    "thirdPartyObjects": "create delete get list update",
    "thirdPartyResources": "create delete get list update",
    "tokenReviews": "create",
    "updateInfos": "create delete get list update",
    "validatingWebhookConfigurations": "create delete get list update",
    "volumeAttachments": "create delete get getStatus list update updateStatus",
    "volumeSnapshotClasses": "create delete get list update",
    "volumeSnapshotContents": "create delete get getStatus list update updateStatus",
    "volumeSnapshots": "create delete get getStatus list update updateStatus",
}
"""Every Kubernetes-API permission Google's role table names (`container.<resource>.<verb>`, 2026-08): the
resources GKE's IAM authorizer has an opinion on. A built-in resource missing here (IngressClass,
ValidatingAdmissionPolicy ...) is left to RBAC."""

KUBE_PERMISSIONS: frozenset[str] = frozenset(
    f"container.{resource}.{verb}" for resource, verbs in RESOURCES.items() for verb in verbs.split()
)

_BY_PLURAL = {name.lower(): name for name in RESOURCES}
_BUILTIN_KEYS = frozenset(t.key for t in BUILTIN)

IAM_VERB = {"get": "get", "list": "list", "watch": "list", "create": "create", "update": "update",
            "patch": "update", "delete": "delete", "deletecollection": "delete"}
"""Kubernetes verb -> the IAM verb GKE checks for it."""

SUBRESOURCE_VERB: dict[str, str] = {
    "log": "getLogs", "exec": "exec", "portforward": "portForward", "attach": "attach", "eviction": "evict",
    "proxy": "proxy", "finalize": "finalize", "token": "createToken", "rollback": "rollback", "approval": "approve",
}
"""Subresources GKE maps to one permission whatever the verb."""

_READ = frozenset({"get", "list", "getStatus", "getScale"})


def _all_but(*missing: str) -> frozenset[str]:
    """Every Kubernetes-API permission except the listed `<resource>.<verb>`s."""
    gone = {f"container.{m}" for m in missing}
    return frozenset(KUBE_PERMISSIONS - gone)


def _reads(extra: tuple[str, ...], missing: tuple[str, ...]) -> frozenset[str]:
    """The read permissions (get, list, getStatus, getScale), plus and minus some."""
    reads = {p for p in KUBE_PERMISSIONS if p.rsplit(".", 1)[1] in _READ}
    return frozenset((reads | {f"container.{e}" for e in extra}) - {f"container.{m}" for m in missing})


_RBAC_WRITES = ("clusterRoleBindings.create", "clusterRoleBindings.delete", "clusterRoleBindings.update",
                "clusterRoles.bind", "clusterRoles.create", "clusterRoles.delete", "clusterRoles.escalate",
                "clusterRoles.update", "roleBindings.create", "roleBindings.delete", "roleBindings.update",
                "roles.bind", "roles.create", "roles.delete", "roles.escalate", "roles.update")
_EDITOR = _all_but(*_RBAC_WRITES, "certificateSigningRequests.approve", "localSubjectAccessReviews.create",
                   "serviceAccounts.createToken", "subjectAccessReviews.create")

ROLE_KUBE_PERMISSIONS: dict[str, frozenset[str]] = {
    "roles/container.admin": KUBE_PERMISSIONS,
    "roles/editor": _EDITOR,
    "roles/container.editor": _EDITOR,
    "roles/container.developer": _all_but(
        *_RBAC_WRITES, "certificateSigningRequests.approve", "certificateSigningRequests.getStatus",
        "controllerRevisions.create", "controllerRevisions.delete", "controllerRevisions.update",
        "mutatingWebhookConfigurations.create", "mutatingWebhookConfigurations.delete",
        "mutatingWebhookConfigurations.update", "podSecurityPolicies.create", "podSecurityPolicies.delete",
        "podSecurityPolicies.update", "podSecurityPolicies.use", "validatingWebhookConfigurations.create",
        "validatingWebhookConfigurations.delete", "validatingWebhookConfigurations.update"),
    "roles/viewer": _reads(("pods.getLogs", "selfSubjectAccessReviews.create", "selfSubjectRulesReviews.create",
                            "tokenReviews.create"), ("deployments.getScale", "secrets.get", "secrets.list")),
    "roles/container.viewer": _reads(("tokenReviews.create",), (
        "localSubjectAccessReviews.list", "secrets.get", "secrets.list", "selfSubjectAccessReviews.list",
        "subjectAccessReviews.list", "volumeSnapshots.getStatus")),
}
"""The Kubernetes-API permissions of the predefined roles that carry them (Google's role table, 2026-08; Owner
holds all of them). A scenario's `roles:` lists only what the GCP APIs check, so these add what the cluster
checks; a test compares them with the whole table."""


@dataclass(frozen=True, slots=True)
class Attributes:
    """What the API server's request-info parser makes of a request: the input of every authorizer."""

    verb: str
    group: str
    version: str
    resource: str
    subresource: str
    namespace: str
    name: str


def connect(kube_world: Any, gcp_world: common.World) -> None:
    """Put the kube sandbox behind the GCP world's IAM (the Sandbox does this once both are up)."""
    vars(kube_world)[_GCP_ATTR] = gcp_world


def request_attributes(method: str, path: str, query: Mapping[str, str]) -> Attributes | None:
    """The resource attributes of a request, or None for non-resource paths (discovery, /version, /openapi)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
        else:
            namespace, rest = "", ["namespaces", rest[1], *rest[2:]]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if resource == "namespaces" and name:
        namespace = name  # a namespace's own namespace is itself (as the API server's request info says)
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, "")
    if method in ("GET", "HEAD"):
        verb = "get" if name else ("watch" if query.get("watch") in ("true", "True", "1") else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    if not verb:
        return None
    return Attributes(verb, group, version, resource, subresource, namespace, name)


def permission_for(attrs: Attributes, custom: bool) -> str | None:
    """The permission GKE's IAM authorizer checks for a request, or None when it has no opinion."""
    iam_resource = "thirdPartyObjects" if custom else _BY_PLURAL.get(attrs.resource)
    if iam_resource is None:
        return None
    verb = IAM_VERB[attrs.verb]
    if attrs.subresource in SUBRESOURCE_VERB:
        verb = SUBRESOURCE_VERB[attrs.subresource]
    elif attrs.subresource in ("status", "scale") and not custom:
        verb = ("get" if verb in ("get", "list") else "update") + attrs.subresource.capitalize()
    permission = f"container.{iam_resource}.{verb}"
    return permission if permission in KUBE_PERMISSIONS else f"container.{iam_resource}.{IAM_VERB[attrs.verb]}"


def _cluster_project(gcp: common.World) -> dict[str, Any] | None:
    """The project whose cluster this API server is: the first project with a GKE cluster, else the default one."""
    from kftui.sandbox.gcp.container import clusters
    from kftui.sandbox.gcp.env import default_project

    for cluster in clusters(gcp).values():
        pid = str(cluster.get("_name", "")).split("/")[1] if "/" in str(cluster.get("_name", "")) else ""
        if pid and (project := common.project_of(gcp, pid)) is not None:
            return project
    return common.project_of(gcp, default_project(gcp.scenario))


def kube_permissions_of(role: str) -> frozenset[str]:
    """The Kubernetes-API permissions a predefined role carries (none for roles without any)."""
    return ROLE_KUBE_PERMISSIONS.get(role, frozenset())


def _details(attrs: Attributes) -> dict[str, str]:
    """metav1.StatusDetails as the API server serialises them (empty name and core group left out)."""
    details = {"name": attrs.name, "group": attrs.group, "kind": attrs.resource}
    return {k: v for k, v in details.items() if v}


def forbidden(who: str, attrs: Attributes, permission: str, verb: str | None = None) -> web.Response:
    """The API server's 403 for an authorizer's refusal, with GKE's reason naming the permission."""
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    reason = f'requires one of ["{permission}"] permission(s).'
    denied = (f'User "{who}" cannot {verb or attrs.verb} resource "{resource}" in API group "{attrs.group}" '
              f"{where}: {reason}")
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    details = _details(attrs)
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"{subject} is forbidden: {denied}", "reason": "Forbidden", "details": details, "code": 403}
    return web.Response(body=json.dumps(body).encode(), status=403, content_type="application/json")


def authorize(world: Any, request: web.Request) -> web.Response | None:
    """None when the request may go on; the 403 a GKE cluster gives a Google identity that lacks the permission.

    Create-on-update (a server-side apply or PUT of an object that does not exist yet) is authorized twice, as
    the API server does: the request's own verb, then `create`.
    """
    gcp: common.World | None = vars(world).get(_GCP_ATTR)
    if gcp is None:
        return None
    who = common.caller(request)
    if who is None:
        return None  # no Google identity: RBAC decides, and the sandbox's RBAC is permissive
    attrs = request_attributes(request.method, request.path.rstrip("/"), request.query)
    if attrs is None:
        return None  # discovery and other non-resource paths: system:discovery allows every authenticated user
    rtype = world.find_type(attrs.group, attrs.version, attrs.resource)
    if rtype is None:
        return None  # the API server answers 404 before any authorizer is asked
    permission = permission_for(attrs, rtype.key not in _BUILTIN_KEYS)
    if permission is None:
        return None
    with gcp.lock:
        project = _cluster_project(gcp)
        if project is None:
            return None
        if not common.has_permission(project, permission, gcp, who):
            return forbidden(who, attrs, permission)
        if attrs.verb in ("patch", "update") and attrs.name and not attrs.subresource:
            ns = attrs.namespace if rtype.namespaced else None
            if world.get(rtype.key, ns, attrs.name) is None:
                create = permission_for(Attributes("create", *_rest(attrs)), rtype.key not in _BUILTIN_KEYS)
                if create is not None and not common.has_permission(project, create, gcp, who):
                    return _forbidden_create(attrs, create)
    return None


def _rest(attrs: Attributes) -> tuple[str, str, str, str, str, str]:
    """Every attribute but the verb."""
    return attrs.group, attrs.version, attrs.resource, attrs.subresource, attrs.namespace, attrs.name


def _forbidden_create(attrs: Attributes, permission: str) -> web.Response:
    """The handler's own refusal of create-on-update: the authorizer's reason only, as `withAuthorization` words it."""
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f'{qualified} "{attrs.name}" is forbidden: requires one of ["{permission}"] permission(s).',
            "reason": "Forbidden", "details": _details(attrs),
            "code": 403}
    return web.Response(body=json.dumps(body).encode(), status=403, content_type="application/json")
