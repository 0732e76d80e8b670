"""A project id gcloud cannot reach (mistyped, deleted, not shared) or none configured at all."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule
from kftui.diagnose.rules.iam import PATTERNS as PERMISSION_PATTERNS

_UNREACHABLE = (
    r"do(?:es)? not have permission to access projects? (?:instance )?\[(?P<project>[^\]:\s]{1,100})\]"
    r" \(or it may not exist\)",
    r"you do not appear to have access to project \[(?P<project>[^\]\s]{1,100})\] or it does not exist",
    r"\bproject '(?P<project>[\w*-]{1,100})' not found or permission denied",
    r"(?:^|: )permission denied on resource project (?P<project>[a-z][\w.:-]{0,99}?)\.?(?=\s|\[|$)",
)


def _named_permission(p: Problem) -> bool:
    """A text that names the missing permission is a permission problem, not a project-id problem."""
    return any(p.search(pattern) for pattern in PERMISSION_PATTERNS[:-2])


@rule("project-not-found", priority=51)
def project_not_found(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google answers the same for a mistyped id and a project you may not see; check both, id first."""
    m = next((found for pattern in _UNREACHABLE if (found := p.search(pattern)) is not None), None)
    if m is None or _named_permission(p):
        return None
    if p.search(r"\bapi has not been used in project\b|\bis not enabled for consumer\b"):
        return None  # an API switched off, which the api-disabled rule explains
    named = m.group("project")
    project = None if any(c in named for c in "*<>{}$") else named
    account = v.group(p.search(r"\buser \[([^\]\s]+@[^\]\s]+)\]")) or v.ctx_get(ctx, "account")
    who = f"the account {account}" if account else "the account gcloud uses"
    shown = project or "the project id"
    fixes = [
        Fix(title="List the project ids this account can see", command="gcloud projects list"),
        Fix(title="Check which account is active", command="gcloud auth list"),
    ]
    if project:
        fixes.insert(0, Fix(title=f"Check that {project} exists", command=f"gcloud projects describe {q(project)}"))
    known = v.ctx_get(ctx, "project")
    if known and known != project:
        fixes.append(Fix(title=f"Use your project {known} instead", command=f"gcloud config set project {q(known)}"))
    return Diagnosis(
        cause="project-not-found",
        title=f"Project {shown} does not exist or {who} cannot see it",
        explanation=(
            f"Google answered that {who} may not use {v.project_words(project)} or that it does not exist; it "
            "gives the same answer for both on purpose. Most often the id is mistyped or is the project's display "
            "name rather than its id (ids are lower case, with digits and dashes), or the project was deleted. "
            "Otherwise a project Owner must grant this account a role on it."
        ),
        facts=v.facts(project=project, account=account),
        fixes=tuple(fixes),
    )


@rule("project-not-set", priority=51)
def project_not_set(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """gcloud has no default project and the command named none."""
    if not p.search(r"the required property \[project\] is not currently set"):
        return None
    project = v.ctx_get(ctx, "project")
    return Diagnosis(
        cause="project-not-set",
        title="gcloud has no project set",
        explanation=(
            "The command needs a project and gcloud has none configured, so it stopped before calling Google. "
            "Set the default project once (or pass --project to each command); kftui passes the project it "
            "deploys to explicitly."
        ),
        facts=v.facts(project=project),
        fixes=(
            Fix(
                title="Set the default project",
                command=f"gcloud config set project {q(v.or_placeholder(project, 'project'))}",
            ),
            Fix(title="List the project ids you can use", command="gcloud projects list"),
        ),
    )
