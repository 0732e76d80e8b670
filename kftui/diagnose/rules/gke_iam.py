"""GKE refused a Kubernetes request because Google IAM lacks the permission its authorizer maps it to."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule
from kftui.diagnose.rules.iam import member_of, role_for

GKE_IAM_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/iam"
RBAC = frozenset({"clusterRoles", "clusterRoleBindings", "roles", "roleBindings"})


@rule("gke-iam-forbidden", priority=53)
def gke_iam_forbidden(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """`... requires one of ["container.clusterRoles.create"] permission(s)`: a Google role fixes it, not RBAC."""
    m = p.search(r"requires one of \[\"(?P<permission>container\.[a-z][A-Za-z]{1,60}\.[a-z][A-Za-z]{1,40})\"")
    if m is None:
        return None
    from kftui.core.roles import canonical

    permission = canonical(m.group("permission")) or m.group("permission")
    head = p.search(
        r"is forbidden: user \"(?P<user>[^\"]{1,300})\" cannot (?P<verb>\w+) resource \"(?P<resource>[^\"]{1,200})\""
        r"(?: in api group \"(?P<group>[^\"]*)\")?(?: in the namespace \"(?P<namespace>[^\"]{1,63})\")?"
    )
    user = v.group(head, "user") or v.ctx_get(ctx, "account")
    verb, resource = v.group(head, "verb"), v.group(head, "resource")
    namespace = v.group(head, "namespace")
    role = role_for(permission)
    member = member_of(user)
    project, _ = v.project(p, ctx)
    what = f"{verb} {resource}" if verb and resource else f"use {permission.split('.')[1]}"
    scope = f" in namespace {namespace}" if namespace else (" cluster-wide" if head else "")
    grant = f"{role} ({_title(role)})" if role else "a role that includes it"
    writes_rbac = permission.split(".")[1] in RBAC and permission.rsplit(".", 1)[1] != "get"
    rbac_note = " (Editor and Kubernetes Engine Developer may not write roles or their bindings)" if writes_rbac else ""
    return Diagnosis(
        cause="gke-iam-forbidden",
        title=f"GKE needs {permission} to {what}: grant {role or 'a role with it'}",
        explanation=(
            f"The cluster's API server refused: on GKE a Google account may {what}{scope} when Kubernetes RBAC or "
            f"Google IAM allows it, and IAM maps this request to {permission}, which {user or 'the account'} does "
            f"not hold in the cluster's project. Grant {grant} on the project{rbac_note}, then run the command "
            "again (a deploy continues where it stopped)."
        ),
        facts=v.facts(permission=permission, role=role, user=user, member=member, verb=verb, resource=resource,
                      namespace=namespace, api_group=v.group(head, "group"), project=project),
        fixes=(
            Fix(
                title=f"Ask a project Owner to grant {role or 'the role'}",
                command=(
                    f"gcloud projects add-iam-policy-binding {q(v.or_placeholder(project, 'project'))}"
                    f" --member={q(member) if member else 'user:YOUR_EMAIL'} --role={role or 'ROLE'}"
                ),
            ),
            Fix(title="Check what you may do in the cluster", command=f"kubectl auth can-i {verb} {resource}"
                if verb and resource else "kubectl auth can-i --list"),
            Fix(title="How GKE combines IAM and RBAC", url=GKE_IAM_DOC),
            Fix(title="See who has which role", url=console("iam-admin/iam", project)),
        ),
    )


def _title(role: str) -> str:
    """A role's Console name (Kubernetes Engine Admin)."""
    from kftui.core.roles import role_title

    return role_title(role)
