"""The APIs step: every service a deploy calls must be enabled, and kftui can enable them in one batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from kftui.core.cloud import EnableProgress, EnableResult
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.core.requirements import REQUIRED_SERVICES, required_service_names
from kftui.errors import KftuiError
from kftui.steps.base import Field, Progress, StepContext, error_finding, project_of, services_of

ENABLE_ACTION = "enable-apis"


def enable_command(project: str, services: Sequence[str]) -> str:
    """The exact gcloud command that enables these services."""
    return f"gcloud services enable {' '.join(services)} --project {project}"


def missing_services(enabled: set[str]) -> list[str]:
    """Required services that are not in the enabled set, in the one list's order."""
    return [name for name in required_service_names() if name not in enabled]


class ApisStep:
    """Compares the one required list with what the project has on, naming each API that is off."""

    id = "apis"
    title = "APIs"
    order = 40
    requires: tuple[str, ...] = ("project",)
    checks: tuple[str, ...] = ("apis.enabled",)
    fields: tuple[Field, ...] = ()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """One list call for the enabled services, compared with REQUIRED_SERVICES."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding("apis.enabled", Status.SKIP, "APIs not checked", "Not checked: no project chosen.")
            return
        try:
            enabled: set[str] = services_of(ctx).service_usage().enabled(project)
        except GcpApiError as exc:
            yield error_finding("apis.enabled", exc, project, f"list the enabled APIs of {project}")
            return
        missing = missing_services(enabled)
        if not missing:
            yield Finding(
                "apis.enabled",
                Status.PASS,
                f"All {len(REQUIRED_SERVICES)} required APIs are enabled",
                "Enabled: " + ", ".join(required_service_names()) + ".",
            )
            return
        why = {s.name: s.why for s in REQUIRED_SERVICES}
        listed = "; ".join(f"{name} ({why[name]})" for name in missing)
        noun = "API is" if len(missing) == 1 else "APIs are"
        yield Finding(
            "apis.enabled",
            Status.FAIL,
            f"{len(missing)} required {noun} disabled: {', '.join(missing)}",
            f"Disabled in {project}: {listed}. Enabling takes a minute or two and needs billing on the project.",
            fixes=(Fix("Enable them in one go", command=enable_command(project, missing), action=ENABLE_ACTION),),
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Enable the missing APIs as one batch operation, reporting each poll, then re-check what is on."""
        if action != ENABLE_ACTION:
            raise ValueError(f"the APIs step has no action {action!r}")
        project = project_of(ctx)
        if project is None:
            raise KftuiError("Choose a project before enabling APIs.")
        services = services_of(ctx).service_usage()
        missing = missing_services(services.enabled(project))
        if not missing:
            return f"All required APIs were already enabled in {project}."
        progress("$ " + enable_command(project, missing))

        def tick(tick: EnableProgress) -> None:
            names = ", ".join(tick.services)
            if tick.done:
                progress(f"operation {tick.operation or '(unnamed)'} finished: {names}")
            else:
                progress(f"enabling {names} … still working ({tick.polls})")

        result: EnableResult = services.enable(project, missing, on_progress=tick, poll_interval=1.0)
        if not result.ok:
            raise KftuiError(
                f"Google finished the operation but these APIs are still disabled in {project}: "
                f"{', '.join(result.still_disabled)}. Try again in a minute, or run: "
                + enable_command(project, result.still_disabled)
            )
        progress(f"re-checked: all {len(REQUIRED_SERVICES)} required APIs are enabled")
        return f"Enabled {', '.join(missing)} in {project}."


STEP = ApisStep()
