"""The IAM step: which permissions of the calls kftui will make the caller lacks, and the smallest roles for them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from kftui.core import validate
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.core.requirements import goals_for, permissions_for, role_title, roles_for, why
from kftui.steps.base import CONSOLE, Field, Progress, StepContext, error_finding, project_of, services_of


def caller_email(ctx: StepContext) -> str | None:
    """Who testIamPermissions answers for: the ADC identity (what kftui's calls use), else a known answer."""
    from kftui.errors import KftuiError
    from kftui.gcp.auth import adc_identity

    try:
        identity = adc_identity()
    except KftuiError:
        identity = None
    if identity is not None and identity.email:
        return identity.email
    known = ctx.answer("account")
    return str(known) if known else None


def grant_command(project: str, email: str | None, role: str) -> str:
    """The exact gcloud command that grants `role` to the caller (serviceAccount: for service accounts)."""
    member = validate.member_for(email) if email else "user:YOUR_EMAIL"
    return f"gcloud projects add-iam-policy-binding {project} --member={member} --role={role}"


def roles_words(roles: list[str] | None) -> str:
    """ "you are Editor" style words for the caller's current roles."""
    if roles is None:
        return "Your current roles could not be read"
    if not roles:
        return "You have no role granted directly on the project (access may come from a group or a folder)"
    return "You are " + ", ".join(role_title(r) for r in roles)


class IamStep:
    """Asks Resource Manager's testIamPermissions the exact deploy permissions instead of guessing from roles."""

    id = "iam"
    title = "Permissions"
    order = 50
    requires: tuple[str, ...] = ("project",)
    checks: tuple[str, ...] = ("iam.permissions",)
    fields: tuple[Field, ...] = ()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """testIamPermissions and the caller's roles are independent reads, so they run side by side."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding("iam.permissions", Status.SKIP, "Permissions not checked", "Not checked: no project chosen.")
            return
        projects = services_of(ctx).projects()
        email = caller_email(ctx)
        wanted = permissions_for(goals_for(ctx.answers))
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="iam") as pool:
            missing_f = pool.submit(projects.missing_permissions, project, wanted)
            roles_f = pool.submit(projects.roles_of, project, email) if email else None
            try:
                missing: list[str] = missing_f.result()
            except GcpApiError as exc:
                yield error_finding("iam.permissions", exc, project, f"test your permissions on {project}")
                return
            roles: list[str] | None
            try:
                roles = roles_f.result() if roles_f is not None else None
            except GcpApiError:
                roles = None  # reading the policy needs getIamPolicy; the permission test above is what counts
        yield self._judge(project, email, missing, roles, wanted)

    def _judge(
        self, project: str, email: str | None, missing: list[str], roles: list[str] | None, wanted: tuple[str, ...]
    ) -> Finding:
        who = f" as {email}" if email else ""
        current = roles_words(roles)
        if not missing:
            return Finding(
                "iam.permissions",
                Status.PASS,
                f"All {len(wanted)} permissions kftui's calls need are granted",
                f"{current}; checked{who} with testIamPermissions on {project}.",
            )
        ordered = [p for p in wanted if p in missing] + [p for p in missing if p not in wanted]
        by_role = roles_for(ordered)
        role_of = {perm: role for role, perms in by_role.items() for perm in perms}
        alike: dict[tuple[str, str], list[str]] = {}  # permissions needed for the same thing from the same role
        for perm in ordered:
            alike.setdefault((why(perm), role_of[perm]), []).append(perm)
        needs = "; ".join(
            f"{', '.join(perms)} ({doing}) from {role_title(role)} ({role})" for (doing, role), perms in alike.items()
        )
        fixes = [
            Fix(
                f"Grant {role_title(role)} ({', '.join(perms)})",
                command=grant_command(project, email, role),
            )
            for role, perms in by_role.items()
        ]
        fixes.append(
            Fix(
                "Or grant Owner, which covers every deploy permission",
                command=grant_command(project, email, "roles/owner"),
            )
        )
        fixes.append(Fix("See who has which role", url=f"{CONSOLE}/iam-admin/iam?project={project}"))
        noun = "permission" if len(missing) == 1 else "permissions"
        return Finding(
            "iam.permissions",
            Status.FAIL,
            f"Missing {len(missing)} {noun} kftui's calls need: {', '.join(ordered)}",
            f"{current}; deploying{who} also needs {needs}. A project Owner or Project IAM Admin can grant these.",
            fixes=tuple(fixes),
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Granting roles needs someone who already may (an Owner); kftui shows the commands instead."""
        raise ValueError(f"the permissions step has no action {action!r}")


STEP = IamStep()
