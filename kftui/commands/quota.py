"""`kftui quota request|status`: ask Google for GPU quota from the terminal, and follow what it decided."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kftui.factory import Services
    from kftui.settings import StateStore

from kftui.errors import KftuiError, UsageError

Confirm = Callable[[str], bool]


def _store() -> StateStore:
    """The process's state store; whatever it had to set aside is said on stderr, one line each."""
    from kftui.settings import default_store

    store = default_store()
    store.read()
    for line in store.take_problems():
        click.echo(f"kftui: {line}", err=True)
    return store


def _explained(exc: BaseException, project: str) -> KftuiError:
    """An API failure in the diagnosis engine's plain words (exit 1), never a raw response."""
    from kftui.diagnose import diagnose_exception

    diagnosis = diagnose_exception(exc, project=project)
    return KftuiError(f"{diagnosis.title}. {diagnosis.explanation}")


def _default_project(project: str | None) -> str:
    """--project, else the project the setup wizard remembered."""
    if project and project.strip():
        return project.strip()
    remembered = str(_store().current.answers.get("project") or "").strip()
    if remembered:
        return remembered
    raise UsageError("--project is required: no project was given and setup has not remembered one.")


def _check_shapes(gpu: str, region: str, count: int, email: str | None) -> None:
    """Everything that can be judged without asking Google, so bad input sends nothing."""
    from kftui.core import validate as plan
    from kftui.operations.quota import MAX_QUOTA_VALUE

    if count < 1:
        raise UsageError(f"--count must be at least 1 (got {count}): it is the quota limit to ask for.")
    if count > MAX_QUOTA_VALUE:
        raise UsageError(f"--count must be at most {MAX_QUOTA_VALUE} (Cloud Quotas stores limits as int64).")
    problem = plan.validate_gpu_type(gpu)
    if problem or gpu.strip() == plan.NONE:
        raise UsageError(f"--gpu: {problem or 'give a GPU type such as nvidia-tesla-t4, not none.'}")
    problem = plan.validate_region(region)
    if problem:
        raise UsageError(f"--region: {problem}")
    if email is not None:
        from kftui.operations.quota import person_problem

        problem = person_problem(email, "--email")
        if problem:
            raise UsageError(problem)


def _services(project: str | None) -> Services:
    """The adapters the commands share with the app (one Cloud Quotas adapter per project, built once)."""
    from kftui.factory import Options, Services

    return Services(Options(project=project))


def _ask(message: str) -> bool:
    """Ask on the terminal; without one, refuse rather than file something nobody confirmed."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise UsageError(
            "Not filing a quota request without confirmation, and there is no terminal to ask on: "
            "re-run with --yes to file it."
        )
    return bool(click.confirm(message, default=False))


def run_request(
    *,
    project: str | None,
    gpu: str,
    region: str,
    count: int,
    email: str | None,
    justification: str | None = None,
    yes: bool = False,
    as_json: bool = False,
    confirm: Confirm | None = None,
) -> int:
    """Validate against the project's own GPU types and regions, confirm, then file one quota preference."""
    from kftui.core.gpu import GLOBAL_GPU_METRIC, QuotaInfo, ineligibility_words
    from kftui.gcp.errors import GcpApiError
    from kftui.operations import quota as ops

    gpu, region = gpu.strip(), region.strip()
    _check_shapes(gpu, region, count, email)
    project = _default_project(project)
    services = _services(project)
    try:
        compute = services.compute(project)
        offered = compute.accelerator_offers().gpu_types()
        regions = compute.regions() if region != "global" else []
    except GcpApiError as exc:
        raise _explained(exc, project) from exc
    if gpu not in offered:
        raise UsageError(
            f"--gpu: {gpu!r} is not a GPU type of project {project}; it offers: {', '.join(offered) or 'none'}."
        )
    if region != "global" and region not in regions:
        sample = ", ".join(regions[:6]) + (", ..." if len(regions) > 6 else "")
        raise UsageError(f"--region: {region!r} is not a region of project {project} (regions: {sample}).")
    found = ops.find_contact({"email": email or ""}, project, services.projects())
    if found is None:
        raise UsageError(f"{ops.NO_CONTACT} Pass --email with your address.")
    contact = found.email
    try:
        infos: list[QuotaInfo] = services.quotas(project).quota_infos()
    except GcpApiError as exc:
        raise _explained(exc, project) from exc
    regional = region != "global"
    metric = ops.gpu_metric(infos, gpu) if regional else GLOBAL_GPU_METRIC
    info = ops.quota_info_for(infos, metric, regional)
    if info is None:
        if not regional:
            raise KftuiError(
                f"Project {project} has no GPUS_ALL_REGIONS quota: there is no project-wide GPU cap to raise. "
                "Request the regional quota instead (--region REGION). Nothing was requested."
            )
        raise KftuiError(f"Project {project} lists no quota {metric} in {region}. Nothing was requested.")
    if not info.eligible:
        raise KftuiError(
            f"Project {project} cannot ask for more {metric} now: {ineligibility_words(info.ineligibility_reason)}. "
            "Nothing was requested."
        )
    dims = {"region": region} if regional else {}
    current = info.value_for(dims)
    where = f"in {region}" if regional else "across all regions"
    if current is not None and count <= current:
        raise UsageError(
            f"--count must be above the current limit of {metric} {where} ({current}); there is nothing to request."
        )
    reason = (justification or "").strip() or (
        f"Kubeflow on GKE: {count} x {gpu} for GPU node pools (notebooks and training pipelines) "
        f"in {region if regional else 'the project'}. Requested with kftui."
    )
    summary = (
        f"Ask Google to raise {metric} {where} from {current if current is not None else '?'} to {count} "
        f"(quota id {info.quota_id}, project {project}, contact {contact}: {found.words()})."
    )
    if not yes:
        if not as_json:
            click.echo(summary)
        if not (confirm or _ask)("File this quota request?"):
            click.echo("Nothing was requested.", err=True)
            return 1
    try:
        filed = ops.file_request(_store(), services.quotas(project), project, info.quota_id, region, count, contact,
                                 reason, infos=infos)
    except GcpApiError as exc:
        raise _explained(exc, project) from exc
    request = filed.request
    loud = filed.warning(project)
    if loud:  # filed at Google, not written down here: the user must hear it whatever the output format
        click.echo(f"kftui: {loud}", err=True)
    if as_json:
        out = {
            "name": request.name,
            "quota_id": request.quota_id,
            "dimensions": dict(request.dimensions),
            "preferred_value": request.preferred_value,
            "state": request.state,
            "recorded": filed.recorded,
        }
        click.echo(json.dumps(out))
        return 0
    verb = "Already filed (nothing new was sent)" if request.already_filed else "Filed"
    click.echo(f"{verb}: {request.name}")
    click.echo(f"State: {request.state}" + (f" ({request.state_detail})" if request.state_detail else ""))
    click.echo(f"Follow it with: kftui quota status --project {project}")
    return 0


def _line(record: dict[str, Any]) -> str:
    """One request as a readable line."""
    dims = record.get("dimensions") or {}
    where = dims.get("region", "global")
    granted = record.get("granted_value")
    parts = [
        f"{record['quota_id']} ({where})",
        f"asked {record['preferred_value']}",
        f"granted {granted}" if granted is not None else "granted -",
        str(record["state"]),
    ]
    tail = [str(record[k]) for k in ("state_detail", "trace_id") if record.get(k)]
    return "  ".join(parts) + (f"  {' | trace '.join(tail)}" if tail else "") + f"\n    {record['name']}"


def run_status(*, project: str | None, as_json: bool = False) -> int:
    """Re-read every quota request kftui filed (one project, or every remembered one) and print its state."""
    from kftui.gcp.errors import GcpApiError
    from kftui.operations import quota as ops

    store = _store()
    services = _services(project)
    if project and project.strip():
        projects = [project.strip()]
    else:
        remembered = sorted({str(r.get("project")) for r in ops.remembered_requests(store) if r.get("project")})
        projects = remembered or ([p] if (p := _optional_project()) else [])
    records: list[dict[str, Any]] = []
    for name in projects:
        try:
            followed = ops.follow_requests(store, name, services.quotas(name))
        except GcpApiError as exc:
            raise _explained(exc, name) from exc
        records.extend(ops.request_record(name, r) for r in followed)
    if as_json:
        click.echo(json.dumps(records))
        return 0
    if not records:
        where = f" for {', '.join(projects)}" if projects else ""
        click.echo(f"No quota requests filed by kftui{where}.")
        return 0
    for name in projects:
        mine = [r for r in records if r["project"] == name]
        if mine:
            click.echo(f"{name}:")
            for record in mine:
                click.echo(f"  {_line(record)}")
    return 0


def _optional_project() -> str | None:
    """The remembered project, or None (status without any project just says there is nothing)."""
    try:
        return _default_project(None)
    except UsageError:
        return None
