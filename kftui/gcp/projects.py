"""Project questions: does it exist and in what state, which permissions and roles does the caller have."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from kftui.core.cloud import ProjectInfo
from kftui.gcp.calls import RetryPolicy, call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import CALL_TIMEOUT, GcpApiError, translated

API = "cloudresourcemanager"


def _info(project: Any) -> ProjectInfo:
    """A v3 Project message as a core ProjectInfo."""
    state = getattr(project.state, "name", str(project.state))
    return ProjectInfo(
        project_id=project.project_id,
        number=project.name.split("/")[-1],
        state=state,
        display_name=project.display_name or "",
        parent=project.parent or None,
    )


def _resource(project: str) -> str:
    """`projects/<id>` unless the caller already gave a resource name."""
    return project if project.startswith("projects/") else f"projects/{project}"


def _escape(text: str) -> str:
    """Keep a user's typing from turning into query syntax."""
    return "".join(ch for ch in text if ch.isalnum() or ch in "-_ ").strip()


class Projects:
    """Resource Manager v3, as the account and project steps ask it."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The ProjectsClient, built on first use (the import is slow)."""
        if self._client is None:
            from google.cloud import resourcemanager_v3

            with translated():
                self._client = resourcemanager_v3.ProjectsClient(**client_kwargs(API))
        return self._client

    def get(self, project: str) -> ProjectInfo:
        """Id, number, state and parent of one project (403 if it is hidden or absent)."""
        with translated():
            return _info(self.client.get_project(name=_resource(project), **call_options(API)))

    def search(self, text: str = "", limit: int = 20) -> list[ProjectInfo]:
        """Projects whose id or display name starts with `text`, for search-as-you-type."""
        word = _escape(text)
        value = f'"{word}*"' if " " in word else f"{word}*"
        queries = [f"projectId:{value}", f"displayName:{value}"] if word else [""]
        found: dict[str, ProjectInfo] = {}
        with translated():
            for query in queries:
                pager = self.client.search_projects(request={"query": query}, **call_options(API))
                for project in pager:
                    info = _info(project)
                    found.setdefault(info.project_id, info)
                    if len(found) >= limit:
                        break
                if len(found) >= limit:
                    break
        return sorted(found.values(), key=lambda p: p.project_id)

    def create(
        self,
        project_id: str,
        display_name: str | None = None,
        parent: str | None = None,
        *,
        timeout: float = 300.0,
        poll_interval: float = 2.0,
        on_progress: Callable[[int, bool], None] | None = None,
    ) -> ProjectInfo:
        """Create a project and wait for its operation; `on_progress(polls, done)` ticks while waiting."""
        from google.cloud import resourcemanager_v3

        body = resourcemanager_v3.Project(project_id=project_id, display_name=display_name or project_id)
        if parent:
            body.parent = parent
        with translated():
            operation = self.client.create_project(project=body, **call_options(API, idempotent=False))
            wait_operation(operation, timeout, poll_interval, on_progress)
            return _info(operation.result(timeout=CALL_TIMEOUT))

    def missing_permissions(self, project: str, permissions: Sequence[str]) -> list[str]:
        """The permissions from `permissions` the caller does NOT hold on the project, in input order."""
        wanted = list(dict.fromkeys(permissions))
        with translated():
            answer = self.client.test_iam_permissions(
                request={"resource": _resource(project), "permissions": wanted}, **call_options(API)
            )
        granted = set(answer.permissions)
        return [p for p in wanted if p not in granted]

    def roles_of(self, project: str, email: str) -> list[str]:
        """The roles the project's IAM policy grants directly to `email` (as user, SA or group member)."""
        with translated():
            policy = self.client.get_iam_policy(request={"resource": _resource(project)}, **call_options(API))
        members = {f"{kind}:{email}" for kind in ("user", "serviceAccount", "group")}
        return sorted({b.role for b in policy.bindings if members & set(b.members)})

    def people_with(self, project: str, roles: Sequence[str]) -> list[str]:
        """Emails of the people (`user:` members, never service accounts or groups) the policy grants `roles`,
        in the order of `roles` (owners before editors), so a quota request can name a person to contact."""
        with translated():
            policy = self.client.get_iam_policy(request={"resource": _resource(project)}, **call_options(API))
        by_role: dict[str, list[str]] = {}
        for binding in policy.bindings:
            if binding.condition.expression:
                continue  # a conditional grant may not hold for a quota decision
            for member in binding.members:
                if member.startswith("user:"):
                    by_role.setdefault(binding.role, []).append(member.removeprefix("user:"))
        return list(dict.fromkeys(email for role in roles for email in by_role.get(role, [])))


def wait_operation(
    operation: Any,
    timeout: float,
    poll_interval: float,
    on_progress: Callable[[int, bool], None] | None = None,
    api: str = API,
) -> None:
    """Poll a google.api_core Operation until done, ticking `on_progress`; GcpApiError(504) on timeout."""
    deadline = time.monotonic() + timeout
    polls = 0
    while not operation.done(retry=RetryPolicy(api)):
        polls += 1
        if on_progress is not None:
            on_progress(polls, False)
        if time.monotonic() > deadline:
            name = getattr(operation.operation, "name", "")
            raise GcpApiError(
                f"Operation {name} did not finish within {timeout:.0f} s.",
                status=504,
                raw_text=f"operation {name} timed out",
                kind="timeout",
            )
        time.sleep(poll_interval)
    if on_progress is not None:
        on_progress(polls, True)
