"""Missing permissions: name the permission, the smallest role that grants it, and who can grant it."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_PERMISSION = r"[a-z][a-zA-Z0-9]*\.[a-zA-Z0-9]+\.[a-zA-Z0-9]+"

# Smallest predefined role that grants a permission, by exact name first, then by service prefix.
_ROLE_BY_PERMISSION = {
    "resourcemanager.projects.setIamPolicy": "roles/resourcemanager.projectIamAdmin",
    "resourcemanager.projects.getIamPolicy": "roles/iam.securityReviewer",
    "resourcemanager.projects.get": "roles/browser",
    "iam.serviceAccounts.create": "roles/iam.serviceAccountAdmin",
    "iam.serviceAccounts.actAs": "roles/iam.serviceAccountUser",
    "serviceusage.services.enable": "roles/serviceusage.serviceUsageAdmin",
    "serviceusage.services.use": "roles/serviceusage.serviceUsageConsumer",
    "compute.projects.get": "roles/compute.viewer",
    "compute.instances.create": "roles/compute.instanceAdmin.v1",
    "container.clusters.create": "roles/container.clusterAdmin",
    "container.clusters.get": "roles/container.clusterViewer",
}
_ROLE_BY_SERVICE = {
    "container": "roles/container.admin",
    "compute": "roles/compute.admin",
    "iam": "roles/iam.serviceAccountAdmin",
    "serviceusage": "roles/serviceusage.serviceUsageAdmin",
    "cloudquotas": "roles/cloudquotas.admin",
    "iap": "roles/iap.admin",
    "storage": "roles/storage.admin",
    "artifactregistry": "roles/artifactregistry.reader",
    "logging": "roles/logging.viewer",
    "resourcemanager": "roles/resourcemanager.projectIamAdmin",
    "billing": "roles/billing.projectManager",
}


def role_for(permission: str | None) -> str | None:
    """The smallest role kftui knows that grants a permission; None when unsure."""
    if not permission:
        return None
    from kftui.core.requirements import smallest_role

    known = smallest_role(permission)  # the deploy permissions' roles live in one place: core.requirements
    if known:
        return known
    if permission in _ROLE_BY_PERMISSION:
        return _ROLE_BY_PERMISSION[permission]
    service, _, rest = permission.partition(".")
    if service == "storage" and rest.endswith((".get", ".list")):
        return "roles/storage.objectViewer"
    return _ROLE_BY_SERVICE.get(service)


_PATTERNS = (
    rf"required '(?P<permission>{_PERMISSION})' permission for '(?P<resource>[^']+)'",
    rf"permission '(?P<permission>{_PERMISSION})' denied on resource '?(?P<resource>[^' ]+)'?",
    rf"permission '?(?P<permission>{_PERMISSION})'? (?:is required|denied)",
    rf"does not have (?P<permission>{_PERMISSION}) access to",
    r"\[(?P<account>[^\]\s@]{1,100}@[^\]\s]{1,200})\] does not have permission to access \w+ instance"
    r" \[(?P<resource>[^\]]{1,300})\]",
    r"the caller does not have permission",
)


@rule("permission-denied", priority=50)
def permission_denied(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google refused for lack of a permission; say which, and which role would grant it."""
    m = None
    for pattern in _PATTERNS:
        m = p.search(pattern)
        if m is not None:
            break
    json_denied = p.has_reason("IAM_PERMISSION_DENIED", "PERMISSION_DENIED", "FORBIDDEN", "INSUFFICIENTPERMISSIONS")
    if m is None and not (json_denied and "permission" in p.metadata):
        return None
    if p.has("is forbidden: user") or p.search(r"cannot \w+ resource \""):
        return None  # Kubernetes RBAC, answered by its own rule
    permission = p.metadata.get("permission") or v.group(m, "permission")
    resource = p.metadata.get("resource") or v.group(m, "resource")
    if resource and resource.startswith("//"):
        resource = resource.split("/", 3)[-1]
    account = v.group(m, "account") or v.ctx_get(ctx, "account") or v.ctx_get(ctx, "email")
    project, _ = v.project(p, ctx)
    role = role_for(permission)
    who = account or "the account kftui is using"
    needs = f"the permission {permission}" if permission else "a permission"
    on = f" on {resource}" if resource else (f" in project {project}" if project else "")
    grant = f"role {role}" if role else "a role that includes it (Owner works for setup)"
    member = f"user:{account}" if account else "user:EMAIL"
    fixes = [
        Fix(
            title=f"Ask a project Owner to grant {role or 'the role'}",
            command=(
                f"gcloud projects add-iam-policy-binding {q(v.or_placeholder(project, 'project'))}"
                f" --member={q(member)} --role={role or 'ROLE'}"
            ),
        ),
        Fix(title="Check which accounts gcloud and ADC are using", command="gcloud auth list"),
        Fix(title="See who has which role", url=console("iam-admin/iam", project)),
    ]
    return Diagnosis(
        cause="permission-denied",
        title=f"Permission denied: {permission or 'the caller lacks a permission'}",
        explanation=(
            f"Google refused because {who} lacks {needs}{on}. This is about who is signed in, not about how "
            "the project is set up: the wrong account may be active (gcloud and Application Default Credentials "
            f"can differ), or the account needs {grant}, which a project Owner can grant."
        ),
        facts=v.facts(permission=permission, resource=resource, role=role, account=account, project=project),
        fixes=tuple(fixes),
    )


@rule("rbac-forbidden", priority=52)
def rbac_forbidden(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Kubernetes said no (RBAC), which no Google IAM change fixes by itself."""
    if not p.has("is forbidden: user"):
        return None
    m = p.search(
        r"(?:(?P<kind>[\w.-]{1,100}) (?:\"(?P<name>[^\"]{1,253})\" )?)?is forbidden: user \"(?P<user>[^\"]+)\" cannot"
        r" (?P<verb>\w+) resource \"(?P<resource>[^\"]+)\"(?: in api group \"(?P<group>[^\"]*)\")?"
        r"(?: in the namespace \"(?P<namespace>[^\"]+)\")?"
    )
    if m is None:
        return None
    user, verb, resource = m.group("user"), m.group("verb"), m.group("resource")
    namespace = v.group(m, "namespace") or v.ctx_get(ctx, "namespace")
    scope = f"in namespace {namespace}" if namespace else "cluster-wide"
    return Diagnosis(
        cause="rbac-forbidden",
        title=f"Kubernetes forbids {user} to {verb} {resource}",
        explanation=(
            f"The cluster refused: {user} may not {verb} {resource} {scope}. Kubernetes has its own permission "
            "system (RBAC) on top of Google IAM; on GKE the IAM role Kubernetes Engine Developer or Admin grants "
            "broad access, and Kubeflow profiles grant access per namespace."
        ),
        facts=v.facts(user=user, verb=verb, resource=resource, namespace=namespace, api_group=v.group(m, "group")),
        fixes=(
            Fix(
                title="Check what this user may do",
                command=f"kubectl auth can-i {verb} {resource}" + (f" -n {namespace}" if namespace else ""),
            ),
            Fix(title="See the role bindings" + (f" in {namespace}" if namespace else ""),
                command="kubectl get rolebindings,clusterrolebindings -A -o wide"
                if not namespace else f"kubectl -n {namespace} get rolebindings -o wide"),
        ),
    )
