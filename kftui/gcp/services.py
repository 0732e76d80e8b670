"""Which APIs a project has on, and turning the missing ones on (an operation, then a re-check)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kftui.core.cloud import EnableProgress, EnableResult, ServiceState
from kftui.gcp.calls import call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import CALL_TIMEOUT, translated
from kftui.gcp.projects import wait_operation

API = "serviceusage"
BATCH_LIMIT = 20
"""Service Usage accepts at most 20 services per batchEnable."""


def _parent(project: str) -> str:
    """`projects/<id or number>`."""
    return project if project.startswith("projects/") else f"projects/{project}"


def _state(service: Any) -> ServiceState:
    """A Service message as a core ServiceState."""
    state = getattr(service.state, "name", str(service.state))
    return ServiceState(
        name=service.config.name or service.name.split("/")[-1],
        enabled=state == "ENABLED",
        title=service.config.title or "",
    )


class Services:
    """Service Usage v1, as the APIs step asks it."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The ServiceUsageClient, built on first use."""
        if self._client is None:
            from google.cloud import service_usage_v1

            with translated():
                self._client = service_usage_v1.ServiceUsageClient(**client_kwargs(API))
        return self._client

    def enabled(self, project: str) -> set[str]:
        """Names (e.g. compute.googleapis.com) of every API enabled in the project."""
        with translated():
            pager = self.client.list_services(
                request={"parent": _parent(project), "filter": "state:ENABLED", "page_size": 200},
                **call_options(API),
            )
            return {_state(s).name for s in pager}

    def get(self, project: str, service: str) -> ServiceState:
        """One API's state in the project."""
        with translated():
            answer = self.client.get_service(
                request={"name": f"{_parent(project)}/services/{service}"}, **call_options(API)
            )
        return _state(answer)

    def enable(
        self,
        project: str,
        services: Sequence[str],
        *,
        on_progress: Callable[[EnableProgress], None] | None = None,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
    ) -> EnableResult:
        """Enable APIs in batches of 20, wait for each operation, then re-check what is really on."""
        wanted = tuple(dict.fromkeys(services))
        for start in range(0, len(wanted), BATCH_LIMIT):
            batch = wanted[start : start + BATCH_LIMIT]
            with translated():
                operation = self.client.batch_enable_services(
                    request={"parent": _parent(project), "service_ids": list(batch)}, **call_options(API)
                )
                name = str(getattr(operation.operation, "name", ""))

                def tick(polls: int, done: bool, name: str = name, batch: tuple[str, ...] = batch) -> None:
                    if on_progress is not None:
                        on_progress(EnableProgress(name, batch, polls, done))

                wait_operation(operation, timeout, poll_interval, tick, api=API)
                operation.result(timeout=CALL_TIMEOUT)
        now = self.enabled(project)
        return EnableResult(
            requested=wanted,
            enabled=frozenset(now),
            still_disabled=tuple(s for s in wanted if s not in now),
        )
