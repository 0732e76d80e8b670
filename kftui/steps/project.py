"""The project step: which Google Cloud project, does it exist, can we see it, and what is its parent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kftui.core import validate
from kftui.core.cloud import ProjectInfo
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.diagnose import diagnose_exception
from kftui.steps.base import CONSOLE, Field, Progress, StepContext, error_finding, project_of, services_of

if TYPE_CHECKING:
    from kftui.gcp.errors import GcpApiError

CREATE_ACTION = "create-project:"
_NOT_ABOUT_EXISTENCE = frozenset(
    {"SERVICE_DISABLED", "BILLING_DISABLED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "RATE_LIMIT_EXCEEDED"}
)
"""403 reasons that say something other than "hidden or absent", answered by the diagnosis instead."""

def create_fix(project: str) -> Fix:
    """The fix that creates a project the user named (kftui can do it after confirmation)."""
    return Fix(
        f"Create project {project}",
        command=f"gcloud projects create {project}",
        url=f"{CONSOLE}/projectcreate",
        action=f"{CREATE_ACTION}{project}",
    )


def _suggest(ctx: StepContext, text: str) -> list[tuple[str, str]]:
    """Projects whose id or name starts with what the user typed; an API error just means no suggestions."""
    from kftui.gcp.errors import GcpApiError

    try:
        found: list[ProjectInfo] = services_of(ctx).projects().search(text.strip(), limit=20)
    except GcpApiError:
        return []
    return [(p.project_id, f"{p.project_id}  {p.display_name}".rstrip()) for p in found]


def parent_words(info: ProjectInfo) -> str:
    """Where a project lives, in the words the OAuth decision needs."""
    if not info.parent:
        return "no organization (a personal project): Google sign-in needs an External consent screen"
    kind = "an organization" if info.parent.startswith("organizations/") else "a folder"
    return f"{kind} ({info.parent}): Google sign-in can be kept to your organization's members (Internal)"


class ProjectStep:
    """Settles the one project everything else is checked in, and creates it when it does not exist."""

    id = "project"
    title = "Project"
    order = 20
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ("account",)
    """Account may learn gcloud's project; checking before it ends would show a false "No project chosen"."""
    checks: tuple[str, ...] = ("project.access", "project.parent")
    fields: tuple[Field, ...] = (
        Field(
            "project",
            "Project ID",
            kind="choice",
            placeholder="my-kubeflow-project",
            help="The project ID (not its display name). Type to search the projects you can see.",
            validate=validate.project_id,
            suggest=_suggest,
        ),
    )

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """Read the project once: its state, then its parent (which sets the consent screen's audience)."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding(
                "project.access",
                Status.FAIL,
                "No project chosen",
                "gcloud has no default project and none was given. Pick one of your projects or type a new ID.",
                fixes=(
                    Fix("Set gcloud's default project", command="gcloud config set project PROJECT_ID"),
                    Fix(
                        "Or create a new project",
                        command="gcloud projects create PROJECT_ID",
                        url=f"{CONSOLE}/projectcreate",
                    ),
                ),
            )
            yield self._parent_skip("no project chosen")
            return
        problem = validate.project_id(project) if not project.isdigit() else None
        if problem:
            yield Finding("project.access", Status.FAIL, f"'{project}' is not a valid project ID", problem)
            yield self._parent_skip("the project ID is not valid")
            return
        try:
            info: ProjectInfo = services_of(ctx).projects().get(project)
        except GcpApiError as exc:
            yield self._unreachable(project, exc)
            yield self._parent_skip("the project could not be read")
            return
        yield self._access(info)
        yield self._parent(info)

    def _parent_skip(self, reason: str) -> Finding:
        return Finding("project.parent", Status.SKIP, "Parent not checked", f"Not checked: {reason}.")

    def _unreachable(self, project: str, exc: GcpApiError) -> Finding:
        """403 and 404 both may mean "does not exist" (Google hides which), so both offer to create it."""
        diagnosis = diagnose_exception(exc, project=project)
        status, kind = exc.status, exc.kind
        if kind == "api" and status == 404:
            return Finding(
                "project.access",
                Status.FAIL,
                f"Project {project} does not exist",
                f"Google has no project with the ID {project}. Create it (IDs are global: if someone else "
                "already uses it, pick another), or choose one of your projects.",
                fixes=(create_fix(project), *diagnosis.fixes),
                diagnosis=diagnosis,
            )
        if kind == "api" and status == 403 and exc.reason not in _NOT_ABOUT_EXISTENCE:
            return Finding(
                "project.access",
                Status.FAIL,
                f"Project {project} does not exist or you cannot see it",
                f"Google answers 'permission denied' both for a project you may not read and for one that does "
                f"not exist. If {project} is yours, the account in use lacks access (gcloud and Application "
                "Default Credentials may be different accounts); if it does not exist yet, create it.",
                fixes=(create_fix(project), *diagnosis.fixes),
                diagnosis=diagnosis,
            )
        return error_finding("project.access", exc, project, f"read project {project}")

    def _access(self, info: ProjectInfo) -> Finding:
        learned = {"project": info.project_id}
        name = f" ({info.display_name})" if info.display_name and info.display_name != info.project_id else ""
        if not info.active:
            return Finding(
                "project.access",
                Status.FAIL,
                f"Project {info.project_id} is {info.state.replace('_', ' ').lower()}",
                f"Project {info.project_id}{name} is in state {info.state}; nothing can be deployed into it. "
                "A project marked for deletion can be restored within 30 days.",
                fixes=(Fix("Restore the project", command=f"gcloud projects undelete {info.project_id}"),),
                learned=learned,
            )
        return Finding(
            "project.access",
            Status.PASS,
            f"Project {info.project_id} is active",
            f"{info.project_id}{name}, number {info.number}, state {info.state}.",
            learned=learned,
        )

    def _parent(self, info: ProjectInfo) -> Finding:
        return Finding(
            "project.parent",
            Status.PASS,
            "Under an organization" if info.has_organization else "No organization",
            f"The project lives under {parent_words(info)}. It sets the OAuth step's consent screen audience.",
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Create the project the user named, reporting the operation's progress line by line."""
        if not action.startswith(CREATE_ACTION):
            raise ValueError(f"the project step has no action {action!r}")
        project = action[len(CREATE_ACTION) :]
        problem = validate.project_id(project)
        if problem:
            from kftui.errors import UsageError

            raise UsageError(problem)
        progress(f"$ gcloud projects create {project}")

        def tick(polls: int, done: bool) -> None:
            progress(f"project {project} created" if done else f"waiting for Google to create {project} ({polls})")

        info: ProjectInfo = services_of(ctx).projects().create(project, on_progress=tick, poll_interval=1.0)
        return (
            f"Created project {info.project_id} (number {info.number}). "
            "Next: link a billing account, then enable the APIs."
        )


STEP = ProjectStep()
