"""Missing permissions: name the permission, the smallest role that grants it, and who can grant it."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_PERMISSION = r"[a-z][a-zA-Z0-9]*\.[a-zA-Z0-9]+\.[a-zA-Z0-9]+"
_Q = "['\"\u2018\u2019\u201c\u201d]"
"""Any quote: errors name permissions in straight, double and curly quotes."""
_NQ = "[^'\"\u2018\u2019\u201c\u201d]"

PATTERNS = (
    rf"required {_Q}(?P<permission>{_PERMISSION}){_Q} permission(?:\(s\))?"
    rf"(?: for {_Q}(?P<resource>{_NQ}{{1,300}}){_Q})?",
    rf"lacks iam permission {_Q}(?P<permission>{_PERMISSION}){_Q} for the resource"
    rf" {_Q}(?P<resource>{_NQ}{{1,300}}){_Q}",
    rf"permission {_Q}?(?P<permission>{_PERMISSION}){_Q}? denied on (?:resource|service account)"
    rf"(?: {_Q}?(?P<resource>[^\s'\"\u2018\u2019\u201c\u201d()]{{3,300}}){_Q}?)?",
    rf"permission {_Q}?(?P<permission>{_PERMISSION}){_Q}? (?:is required|denied)"
    rf"(?: to perform this operation on service account (?P<resource>[^\s'\"]{{3,300}}?)\.?(?:[\s'\"]|$))?",
    rf"does not have (?P<permission>{_PERMISSION}) access to",
    rf"you need the (?P<permission>{_PERMISSION}) permission",
    rf"(?:has|have) the {_Q}(?P<permission>{_PERMISSION}){_Q} permission",
    r"\[(?P<account>[^\]\s@]{1,100}@[^\]\s]{1,200})\] does not have permission to access (?P<kind>\w+) instance"
    r" \[(?P<resource>[^\]]{1,300})\]",
    r"the caller does not have permission",
)
"""Every wording of a missing permission, most specific first."""

IMPLIED = (
    (r"permission denied to enable service \[(?P<resource>[^\]\s]{1,200})\]", "serviceusage.services.enable"),
    (r"permission denied to list services for consumer container \[(?P<resource>[^\]\s]{1,200})\]",
     "serviceusage.services.list"),
)
"""Service Usage's own refusals: they name the service or project, and the method implies the permission."""

def role_for(permission: str | None) -> str | None:
    """The smallest predefined role that grants the permission, from Google's role table; None when unknown."""
    if not permission:
        return None
    from kftui.core.roles import smallest_role

    return smallest_role(permission)


def member_of(principal: str | None) -> str | None:
    """The IAM member string for a principal: serviceAccount:, group:, domain: or user:, from its kind."""
    if not principal:
        return None
    kind, sep, _ = principal.partition(":")
    if sep and kind in {"user", "serviceAccount", "group", "domain", "principal", "principalSet"}:
        return principal
    if principal.endswith(".gserviceaccount.com"):
        return f"serviceAccount:{principal}"
    if "@" in principal:
        return f"user:{principal}"
    if "." in principal:
        return f"domain:{principal}"
    return None


def _real(value: str | None) -> str | None:
    """Masked or placeholder values (`******`, `<project>`, `{projectID}`) are not facts."""
    if not value or any(c in value for c in "*<>{}$") or value.lower() in {"none", "redacted"}:
        return None
    return value


def _caller(p: Problem, ctx: v.Context, m: re.Match[str] | None) -> str | None:
    """Who was refused: the account gcloud names, else the caller's context."""
    named = (
        v.group(m, "account")
        or v.group(p.search(r"authenticated as (\S+@\S+?) which is the active account"))
        or v.group(p.search(r"\buser \[([^\]\s]+@[^\]\s]+)\] does not have permission"))
    )
    return _real(named) or v.ctx_get(ctx, "member") or v.ctx_get(ctx, "account") or v.ctx_get(ctx, "email")


def _permission_from(p: Problem, m: re.Match[str] | None) -> tuple[str | None, str | None, str | None]:
    """(permission, resource, project) the text names, spelled as Google's role table spells them."""
    from kftui.core.roles import canonical

    permission = p.metadata.get("permission") or v.group(m, "permission")
    resource = p.metadata.get("resource") or v.group(m, "resource")
    project: str | None = None
    kind = v.group(m, "kind")
    if permission is None and kind and resource:
        # gcloud: "does not have permission to access projects instance [P:setIamPolicy]"
        name, _, method = resource.partition(":")
        service = {"projects": "resourcemanager.projects", "b": "storage.buckets"}.get(kind)
        if service and method:
            permission = f"{service}.{method}"
        if kind == "projects":
            project = _real(name)
    if permission:
        permission = canonical(permission) or permission
    if resource and resource.startswith("//"):
        resource = resource.split("/", 3)[-1]
    return permission, _real(resource), project


@rule("permission-denied", priority=50)
def permission_denied(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google refused for lack of a permission; say which, and the smallest predefined role that grants it."""
    m = None
    for pattern in PATTERNS:
        m = p.search(pattern)
        if m is not None:
            break
    implied = None
    for pattern, permission_named in IMPLIED if m is None else ():
        m = p.search(pattern)
        if m is not None:
            implied = permission_named
            break
    json_denied = p.has_reason("IAM_PERMISSION_DENIED", "PERMISSION_DENIED", "FORBIDDEN", "INSUFFICIENTPERMISSIONS")
    if m is None and not (json_denied and "permission" in p.metadata):
        return None
    if p.has("is forbidden: user") or p.search(r"cannot \w+ resource \""):
        return None  # Kubernetes RBAC, answered by its own rule
    permission, resource, named_project = _permission_from(p, m)
    permission = permission or implied
    account = _caller(p, ctx, m)
    project, _ = v.project(p, ctx)
    project = named_project or _real(project)
    role = role_for(permission)
    member = member_of(account)
    who = account or "the account kftui is using"
    needs = f"the permission {permission}" if permission else "a permission"
    on = f" on {resource}" if resource else (f" in project {project}" if project else "")
    grant = f"role {role}" if role else "a role that includes it (Owner works for setup)"
    sa_target = resource if resource and resource.endswith(".gserviceaccount.com") else None
    if sa_target and "/serviceAccounts/" in sa_target:
        sa_target = sa_target.rsplit("/", 1)[-1]
    fixes: list[Fix] = []
    member_arg = q(member) if member else "user:YOUR_EMAIL"
    if sa_target and permission and permission.startswith("iam.serviceAccounts."):
        fixes.append(
            Fix(
                title=f"Grant {role or 'the role'} on the service account {sa_target} only",
                command=(
                    f"gcloud iam service-accounts add-iam-policy-binding {q(sa_target)} --member={member_arg}"
                    f" --role={role or 'ROLE'}"
                ),
            )
        )
    fixes.append(
        Fix(
            title=f"Ask a project Owner to grant {role or 'the role'}"
            + ("" if member else " (serviceAccount:EMAIL for a service account, group:EMAIL for a group)"),
            command=(
                f"gcloud projects add-iam-policy-binding {q(v.or_placeholder(project, 'project'))}"
                f" --member={member_arg} --role={role or 'ROLE'}"
            ),
        )
    )
    fixes.append(Fix(title="Check which accounts gcloud and ADC are using", command="gcloud auth list"))
    fixes.append(Fix(title="See who has which role", url=console("iam-admin/iam", project)))
    return Diagnosis(
        cause="permission-denied",
        title=f"Permission denied: {permission or 'the caller lacks a permission'}",
        explanation=(
            f"Google refused because {who} lacks {needs}{on}. This is about who is signed in, not about how "
            "the project is set up: the wrong account may be active (gcloud and Application Default Credentials "
            f"can differ), or the account needs {grant}, which a project Owner can grant."
        ),
        facts=v.facts(
            permission=permission, resource=resource, role=role, account=account, member=member, project=project
        ),
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
