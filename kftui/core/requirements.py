"""What a Kubeflow-on-GKE deploy needs from a project: the one list of APIs and of IAM permissions."""

from __future__ import annotations

from dataclasses import dataclass


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
class RequiredPermission:
    """A permission the deploy uses, what for, and the smallest predefined role that grants it."""

    name: str
    why: str
    role: str


DEPLOY_PERMISSIONS: tuple[RequiredPermission, ...] = (
    RequiredPermission("container.clusters.create", "create the GKE cluster", "roles/container.clusterAdmin"),
    RequiredPermission(
        "container.clusters.get", "read the cluster and fetch kubectl credentials", "roles/container.clusterViewer"
    ),
    RequiredPermission(
        "iam.serviceAccounts.actAs",
        "let GKE's nodes run as the node service account (needed to create a cluster or node pool)",
        "roles/iam.serviceAccountUser",
    ),
    RequiredPermission(
        "compute.instances.create", "create GPU VMs (node pools, test VMs)", "roles/compute.instanceAdmin.v1"
    ),
    RequiredPermission("compute.regions.get", "read regional GPU quotas", "roles/compute.viewer"),
    RequiredPermission(
        "compute.acceleratorTypes.list", "find the zones that offer the chosen GPU", "roles/compute.viewer"
    ),
    RequiredPermission(
        "iam.serviceAccounts.create", "create service accounts for Kubeflow", "roles/iam.serviceAccountCreator"
    ),
    RequiredPermission(
        "resourcemanager.projects.setIamPolicy",
        "grant those service accounts and Kubeflow's users their roles",
        "roles/resourcemanager.projectIamAdmin",
    ),
    RequiredPermission(
        "serviceusage.services.enable", "turn on the required APIs", "roles/serviceusage.serviceUsageAdmin"
    ),
    RequiredPermission(  # what creating a QuotaPreference is checked against (Cloud Quotas API reference)
        "cloudquotas.quotas.update", "request GPU quota increases", "roles/cloudquotas.admin"
    ),
)
"""What `testIamPermissions` is asked about before a deploy; Owner grants all of them."""

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
    "roles/compute.admin": "Compute Admin",
    "roles/resourcemanager.projectIamAdmin": "Project IAM Admin",
    "roles/serviceusage.serviceUsageAdmin": "Service Usage Admin",
    "roles/cloudquotas.admin": "Cloud Quotas Admin",
    "roles/iap.httpsResourceAccessor": "IAP-secured Web App User",
}
"""Console names of the roles kftui mentions, so messages read "you are Editor" rather than a role id."""


def deploy_permission_names() -> tuple[str, ...]:
    """Just the permission names, for `testIamPermissions`."""
    return tuple(p.name for p in DEPLOY_PERMISSIONS)


def smallest_role(permission: str) -> str | None:
    """The smallest predefined role granting a permission, from Google's role table (kftui.core.roles)."""
    from kftui.core.roles import smallest_role as from_table

    return from_table(permission)


def role_title(role: str) -> str:
    """A role's Console name when known, else its id."""
    from kftui.core.roles import role_title as from_table

    return ROLE_TITLES.get(role) or from_table(role)
