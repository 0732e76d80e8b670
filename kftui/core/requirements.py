"""What a Kubeflow-on-GKE deploy needs from a project: the one list of APIs, and of the calls and the permissions
Google checks for each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RequiredService:
    """An API the deploy turns on, and why, so the wizard can say what breaks without it."""

    name: str
    why: str


REQUIRED_SERVICES: tuple[RequiredService, ...] = (
    RequiredService("compute.googleapis.com", "VMs, GPUs, disks and networks for the cluster's nodes"),
    RequiredService("container.googleapis.com", "the GKE cluster and its GPU node pool"),
    RequiredService("iam.googleapis.com", "service accounts for the nodes and workloads"),
    RequiredService("cloudresourcemanager.googleapis.com", "reading the project and its IAM policy"),
    RequiredService("serviceusage.googleapis.com", "checking and enabling the other APIs"),
    RequiredService("cloudquotas.googleapis.com", "reading GPU quotas and requesting increases"),
    RequiredService("cloudbilling.googleapis.com", "reading whether the project can spend money"),
)
"""Every API a manifests-on-GKE deploy needs (domain.md); the APIs step and doctor read only this list."""


def required_service_names() -> tuple[str, ...]:
    """Just the names, in wizard order, for API calls and commands."""
    return tuple(s.name for s in REQUIRED_SERVICES)


@dataclass(frozen=True, slots=True)
class GoogleCall:
    """One call kftui makes to Google (or to GKE's Kubernetes API, which Google's IAM authorizes), what for,
    and the permissions Google checks for it (from each method's API reference)."""

    method: str
    doing: str
    permissions: tuple[str, ...]
    goal: str
    """What the user asked for that makes kftui call it: check | apis | deploy | quota | destroy."""


GOALS = ("check", "apis", "deploy", "quota", "destroy")
"""check: the wizard's and doctor's reads; apis: turning APIs on; deploy: the cluster and Kubeflow;
quota: filing GPU quota requests; destroy: `kftui deploy --destroy`."""


def _kube(resources: str, verbs: str = "create update") -> tuple[str, ...]:
    """GKE's IAM permissions `container.<resource>.<verb>` for some Kubernetes resources (as its authorizer names
    them: custom resources are all `thirdPartyObjects`)."""
    return tuple(f"container.{r}.{v}" for r in resources.split() for v in verbs.split())


APPLY = "server-side apply patches each object (update) and creates it the first time (create)"
KUBE_CALLS: tuple[GoogleCall, ...] = (
    GoogleCall("kubectl apply --server-side (Namespaces)", f"create Kubeflow's namespaces; {APPLY}",
               _kube("namespaces"), "deploy"),
    GoogleCall("kubectl apply --server-side (CustomResourceDefinitions)", "install Kubeflow's 74 CRDs",
               _kube("customResourceDefinitions"), "deploy"),
    GoogleCall("kubectl apply --server-side (ClusterRoles, ClusterRoleBindings, Roles, RoleBindings)",
               "install Kubeflow's roles and bindings, which GKE authorizes through IAM",
               _kube("clusterRoles clusterRoleBindings roles roleBindings"), "deploy"),
    GoogleCall("kubectl apply --server-side (admission webhooks)",
               "install the webhooks of cert-manager, Istio, KServe, Katib, Knative and Kubeflow",
               _kube("mutatingWebhookConfigurations validatingWebhookConfigurations"), "deploy"),
    GoogleCall("kubectl apply --server-side (custom resources)",
               "install Istio, cert-manager, KServe and Kubeflow objects (GKE: thirdPartyObjects)",
               _kube("thirdPartyObjects"), "deploy"),
    GoogleCall("kubectl apply --server-side (workloads and their configuration)",
               "install Kubeflow's deployments, services, accounts, config and policies",
               _kube("deployments statefulSets daemonSets services serviceAccounts configMaps secrets "
                     "persistentVolumeClaims networkPolicies horizontalPodAutoscalers podDisruptionBudgets "
                     "priorityClasses"), "deploy"),
    GoogleCall("kubectl wait, get (CRDs, deployments)", "wait until CRDs are established and deployments ready",
               _kube("customResourceDefinitions deployments namespaces", "get list"), "deploy"),
    GoogleCall("kubectl get, apply (the Dex password Secret)", "replace Dex's default password",
               _kube("secrets", "get"), "deploy"),
)
"""What the deploy asks of the cluster's API server: on GKE, Google's IAM authorizes a Google identity's every
Kubernetes request as one permission (the sandbox's GKE authorizer checks them the same way)."""
KUBE_PERMISSIONS = frozenset(p for call in KUBE_CALLS for p in call.permissions)

KUBE_SMALLEST_ROLE: dict[str, str] = {
    **dict.fromkeys(KUBE_PERMISSIONS, "roles/container.developer"),
    **dict.fromkeys(_kube("clusterRoles clusterRoleBindings roles roleBindings"), "roles/container.admin"),
    **dict.fromkeys(_kube("mutatingWebhookConfigurations validatingWebhookConfigurations"), "roles/container.editor"),
    **dict.fromkeys(_kube("customResourceDefinitions deployments namespaces", "get list"), "roles/container.viewer"),
}
"""The smallest role for each Kubernetes-side permission alone: Developer writes workloads and CRDs, only Admin
writes RBAC, webhooks need Kubernetes Engine Editor, reads need Viewer (a test checks them against the table)."""

CALLS: tuple[GoogleCall, ...] = (
    GoogleCall("cloudresourcemanager.projects.get", "read the project and its parent",
               ("resourcemanager.projects.get",), "check"),
    GoogleCall("cloudresourcemanager.projects.getIamPolicy", "say which roles you hold (optional)",
               ("resourcemanager.projects.getIamPolicy",), "check"),
    GoogleCall("cloudbilling.projects.getBillingInfo", "read whether billing is on",
               ("resourcemanager.projects.get",), "check"),
    GoogleCall("serviceusage.services.list", "list the enabled APIs", ("serviceusage.services.list",), "check"),
    GoogleCall("serviceusage.services.batchEnable", "turn on the required APIs",
               ("serviceusage.services.enable",), "apis"),
    GoogleCall("compute.projects.get", "read the global GPU quota (GPUS_ALL_REGIONS)", ("compute.projects.get",),
               "check"),
    GoogleCall("compute.regions.list", "list the project's regions", ("compute.regions.list",), "check"),
    GoogleCall("compute.regions.get", "read regional GPU and CPU quotas", ("compute.regions.get",), "check"),
    GoogleCall("compute.zones.list", "list the zones of a region", ("compute.zones.list",), "check"),
    GoogleCall("compute.acceleratorTypes.aggregatedList", "find the zones that offer the chosen GPU",
               ("compute.acceleratorTypes.list",), "check"),
    GoogleCall("compute.acceleratorTypes.get", "confirm a zone offers the GPU", ("compute.acceleratorTypes.get",),
               "check"),
    GoogleCall("compute.machineTypes.list", "find machine types that carry the GPU",
               ("compute.machineTypes.list",), "check"),
    GoogleCall("cloudquotas.quotaInfos.list", "find the quota ids of the GPU metrics", ("cloudquotas.quotas.get",),
               "check"),
    GoogleCall("cloudquotas.quotaPreferences.list", "follow the quota requests kftui filed",
               ("cloudquotas.quotas.get",), "check"),
    GoogleCall("cloudquotas.quotaPreferences.create", "request GPU quota increases", ("cloudquotas.quotas.update",),
               "quota"),
    GoogleCall("cloudquotas.quotaPreferences.get", "read a filed request's state", ("cloudquotas.quotas.get",),
               "quota"),
    GoogleCall("container.projects.locations.clusters.create",
               "create the GKE cluster (its nodes run as the node service account)",
               ("container.clusters.create", "iam.serviceAccounts.actAs"), "deploy"),
    GoogleCall("container.projects.locations.clusters.nodePools.create", "add the GPU node pool",
               ("container.clusters.update", "iam.serviceAccounts.actAs"), "deploy"),
    GoogleCall("container.projects.locations.operations.get", "follow the cluster and pool operations",
               ("container.operations.get",), "deploy"),
    GoogleCall("container.projects.locations.clusters.get", "read the cluster (gcloud get-credentials too)",
               ("container.clusters.get",), "deploy"),
    GoogleCall("container.projects.locations.clusters.list", "find clusters kftui deployed",
               ("container.clusters.list",), "deploy"),
    GoogleCall("gcloud container clusters get-credentials", "fetch kubectl credentials for the cluster",
               ("container.clusters.get", "container.clusters.getCredentials"), "deploy"),
    *KUBE_CALLS,
    GoogleCall("container.projects.locations.clusters.delete", "delete the cluster (--destroy)",
               ("container.clusters.delete",), "destroy"),
)
"""Every Google call kftui makes and what Google checks for it: the IAM step and doctor ask exactly these."""


def permissions_for(goals: Iterable[str]) -> tuple[str, ...]:
    """The union of the permissions the calls of these goals need, in table order, each once."""
    wanted = set(goals)
    return tuple(dict.fromkeys(p for call in CALLS if call.goal in wanted for p in call.permissions))


def goals_for(answers: Mapping[str, Any]) -> tuple[str, ...]:
    """What the user asked for: checks, APIs and the deploy always; quota requests only with a GPU chosen."""
    gpu = str(answers.get("gpu_type") or "").strip()
    return ("check", "apis", "deploy", "quota") if gpu and gpu != "none" else ("check", "apis", "deploy")


def why(permission: str) -> str:
    """What kftui needs a permission for, in words: the calls that check it."""
    return "; ".join(dict.fromkeys(c.doing for c in CALLS if permission in c.permissions)) or "a Google call"


@dataclass(frozen=True, slots=True)
class RequiredPermission:
    """A permission the calls need, what for, and the smallest predefined role that grants it."""

    name: str
    why: str
    role: str


SMALLEST_ROLE: dict[str, str] = {
    "resourcemanager.projects.get": "roles/browser",
    "resourcemanager.projects.getIamPolicy": "roles/browser",
    "resourcemanager.projects.setIamPolicy": "roles/resourcemanager.projectIamAdmin",
    "serviceusage.services.list": "roles/serviceusage.serviceUsageViewer",
    "serviceusage.services.enable": "roles/serviceusage.serviceUsageAdmin",
    "compute.projects.get": "roles/compute.networkViewer",
    "compute.regions.list": "roles/compute.networkViewer",
    "compute.regions.get": "roles/compute.networkViewer",
    "compute.zones.list": "roles/compute.networkViewer",
    "compute.acceleratorTypes.list": "roles/compute.networkViewer",
    "compute.acceleratorTypes.get": "roles/compute.networkViewer",
    "compute.machineTypes.list": "roles/compute.networkViewer",
    "cloudquotas.quotas.get": "roles/cloudquotas.viewer",
    "cloudquotas.quotas.update": "roles/cloudquotas.admin",
    "container.clusters.create": "roles/container.clusterAdmin",
    "container.clusters.update": "roles/container.clusterAdmin",
    "container.clusters.delete": "roles/container.clusterAdmin",
    "container.operations.get": "roles/container.clusterAdmin",
    "container.clusters.get": "roles/container.clusterViewer",
    "container.clusters.list": "roles/container.clusterViewer",
    "container.clusters.getCredentials": "roles/container.admin",
    "container.customResourceDefinitions.create": "roles/container.admin",
    "container.clusterRoles.create": "roles/container.admin",
    "container.clusterRoleBindings.create": "roles/container.admin",
    "iam.serviceAccounts.actAs": "roles/iam.serviceAccountUser",
    **KUBE_SMALLEST_ROLE,
}
"""For each permission, the smallest predefined role meant for people that grants it (Google's role table,
2026-08; service-agent roles left out). A test checks every entry against the table."""


def roles_for(permissions: Iterable[str]) -> dict[str, list[str]]:
    """The roles to grant for missing permissions, each with the permissions it covers: the one seam fixes use.

    The Kubernetes-side ones are covered together by the fewest smallest roles of Google's table (one
    Kubernetes Engine Admin grant rather than Developer, Editor and Admin for pieces of one apply).
    """
    wanted = list(dict.fromkeys(permissions))
    kube = [p for p in wanted if p in KUBE_PERMISSIONS]
    cover: list[str] = []
    if kube:
        from kftui.core.roles import covers, smallest_roles

        cover = smallest_roles(kube)
    out: dict[str, list[str]] = {}
    for permission in wanted:
        role = SMALLEST_ROLE.get(permission, "roles/owner")
        if permission in KUBE_PERMISSIONS:
            role = next((r for r in cover if covers(r, [permission])), role)
        out.setdefault(role, []).append(permission)
    return out


DEPLOY_PERMISSIONS: tuple[RequiredPermission, ...] = tuple(
    RequiredPermission(p, why(p), SMALLEST_ROLE.get(p, "roles/owner")) for p in permissions_for(GOALS[:4])
)
"""What `testIamPermissions` is asked about for a GPU deploy (checks, APIs, deploy, quota); Owner grants all."""

ROLE_TITLES: dict[str, str] = {
    "roles/owner": "Owner",
    "roles/editor": "Editor",
    "roles/viewer": "Viewer",
    "roles/browser": "Browser",
    "roles/container.admin": "Kubernetes Engine Admin",
    "roles/container.clusterAdmin": "Kubernetes Engine Cluster Admin",
    "roles/container.clusterViewer": "Kubernetes Engine Cluster Viewer",
    "roles/iam.serviceAccountUser": "Service Account User",
    "roles/iam.serviceAccountCreator": "Create Service Accounts",
    "roles/iam.serviceAccountAdmin": "Service Account Admin",
    "roles/compute.instanceAdmin.v1": "Compute Instance Admin (v1)",
    "roles/compute.viewer": "Compute Viewer",
    "roles/compute.networkViewer": "Compute Network Viewer",
    "roles/compute.admin": "Compute Admin",
    "roles/resourcemanager.projectIamAdmin": "Project IAM Admin",
    "roles/serviceusage.serviceUsageAdmin": "Service Usage Admin",
    "roles/cloudquotas.admin": "Cloud Quotas Admin",
    "roles/iap.httpsResourceAccessor": "IAP-secured Web App User",
    "roles/serviceusage.serviceUsageViewer": "Service Usage Viewer",
    "roles/cloudquotas.viewer": "Cloud Quotas Viewer",
}
"""Console names of the roles kftui mentions, so messages read "you are Editor" rather than a role id."""


def deploy_permission_names() -> tuple[str, ...]:
    """Just the permission names, for `testIamPermissions`."""
    return tuple(p.name for p in DEPLOY_PERMISSIONS)


def smallest_role(permission: str) -> str | None:
    """The smallest predefined role granting a permission, from Google's role table (kftui.core.roles)."""
    from kftui.core.roles import smallest_role as from_table

    return from_table(permission) or SMALLEST_ROLE.get(permission)


def role_title(role: str) -> str:
    """A role's Console name when known, else its id."""
    from kftui.core.roles import role_title as from_table

    return ROLE_TITLES.get(role) or from_table(role)
