"""The GPU step: which zones can run the GPU pool today, what blocks it, and the quota requests that unblock it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.core.findings import Finding, Status, Table
from kftui.core.gpu import (
    GLOBAL_GPU_METRIC,
    QUOTA_KINDS,
    AcceleratorOffers,
    Blocker,
    BlockerKind,
    GpuRequest,
    MachineType,
    QuotaInfo,
    QuotaRequest,
    QuotaValue,
    RegionQuotas,
    ZonePlan,
    ineligibility_words,
    machine_choice_key,
    machine_prefixes,
    machine_words,
    plan_zone,
    plan_zones,
    region_of,
)
from kftui.core.validate import (
    NONE,
    validate_gpu_count,
    validate_gpu_type,
    validate_max_nodes,
    validate_zone,
)
from kftui.diagnose import diagnose, diagnose_exception
from kftui.errors import KftuiError, UsageError
from kftui.operations import quota as quota_ops
from kftui.operations.quota import NO_CONTACT, Contact, contact_email, find_contact, quota_info_for
from kftui.steps.base import EnvServices, Field, Progress, StepContext, StepServices, project_of, services_of, store_of

REQUEST_ACTION = "request-quota:"
"""Fix action prefix: `request-quota:<quota_id>:<region or global>:<value>`."""
CONSOLE = "https://console.cloud.google.com"

# --------------------------------------------------------------------------------------------------
# Reading the world
# --------------------------------------------------------------------------------------------------


def _project(ctx: StepContext) -> str | None:
    """The chosen project id, stripped, or None."""
    return project_of(ctx)


def _suggest_gpu(ctx: StepContext, text: str) -> list[tuple[str, str]]:
    """The project's own accelerator types (never a fixed list), plus `none`."""
    from kftui.gcp.errors import GcpApiError

    typed = text.strip().lower()
    out: list[tuple[str, str]] = []
    project = _project(ctx)
    if project is not None:
        try:
            offers: AcceleratorOffers = services_of(ctx).compute(project).accelerator_offers()
        except GcpApiError:
            offers = AcceleratorOffers(offers=())
        for gpu in offers.gpu_types():
            if typed and typed not in gpu:
                continue
            zones = offers.zones_for(gpu)
            desc = next((o.description for o in offers.offers if o.gpu_type == gpu and o.description), "")
            out.append((gpu, f"{gpu}  {desc} ({len(zones)} zone{'s' if len(zones) != 1 else ''})".replace("  (", " (")))
    if not typed or typed in NONE:
        out.append((NONE, "none  no GPUs: a CPU-only cluster"))
    return out


def _suggest_zone(ctx: StepContext, text: str) -> list[tuple[str, str]]:
    """Zones that offer the chosen GPU type."""
    from kftui.gcp.errors import GcpApiError

    project, gpu = _project(ctx), str(ctx.answer("gpu_type") or "").strip()
    if project is None or not gpu or gpu == NONE:
        return []
    try:
        offers: AcceleratorOffers = services_of(ctx).compute(project).accelerator_offers()
    except GcpApiError:
        return []
    typed = text.strip().lower()
    return [(z, f"{z}  offers {gpu}") for z in offers.zones_for(gpu) if typed in z]


@dataclass
class GpuWorld:
    """What one run read from Compute: offers, global and regional quotas, machine catalogs."""

    offers: AcceleratorOffers
    global_quotas: dict[str, QuotaValue]
    regions: dict[str, RegionQuotas | None] = field(default_factory=dict)
    region_errors: dict[str, str] = field(default_factory=dict)
    machine_types: dict[str, Sequence[MachineType]] = field(default_factory=dict)
    machine_errors: dict[str, str] = field(default_factory=dict)


def read_world(
    project: str, gpu: str, extra_zones: Sequence[str] = (), services: StepServices | None = None
) -> GpuWorld:
    """One reading of Compute for a GPU plan; regions and zones are read in parallel."""
    from kftui.gcp.errors import GcpApiError

    compute = (services or EnvServices()).compute(project)
    offers: AcceleratorOffers = compute.accelerator_offers()
    world = GpuWorld(offers=offers, global_quotas=compute.global_quotas())
    zones = sorted(set(offers.zones_for(gpu)) | {z for z in extra_zones if z})
    regions = sorted({region_of(z) for z in zones})

    def region(name: str) -> None:
        try:
            world.regions[name] = compute.region_quotas(name)
        except GcpApiError as exc:
            world.regions[name] = None
            world.region_errors[name] = exc.message

    def machines(zone: str) -> None:
        try:
            world.machine_types[zone] = compute.machine_types(zone)
        except GcpApiError as exc:  # unknown catalog: the planner falls back to the family rules
            world.machine_errors[zone] = exc.message

    # One call of each kind first, so the lazily built clients exist before threads share them.
    if regions:
        region(regions[0])
    if zones:
        machines(zones[0])
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="gpu-plan") as pool:
        jobs = [pool.submit(region, r) for r in regions[1:]] + [pool.submit(machines, z) for z in zones[1:]]
        for job in jobs:
            job.result()
    return world


# --------------------------------------------------------------------------------------------------
# Quota ids, contact email, justification
# --------------------------------------------------------------------------------------------------


def justification(gpu: str, count: int, max_nodes: int, region: str) -> str:
    """The prefilled reason Google reads: what the GPUs are for, how many, where."""
    total = count * max_nodes
    return (
        f"Kubeflow on GKE: {total} x {gpu} for a GPU node pool ({max_nodes} node(s) x {count} GPU(s), "
        f"autoscaling from 0) for notebooks and training pipelines in {region}. Requested with kftui."
    )


def _parse_request(action: str) -> tuple[str, str, int]:
    """quota id, region (or "global") and value from a `request-quota:` action."""
    if not action.startswith(REQUEST_ACTION):
        raise ValueError(f"the gpu step has no action {action!r}")
    parts = action[len(REQUEST_ACTION) :].split(":")
    if len(parts) != 3 or quota_ops.validate_value(parts[2]):
        raise ValueError(f"malformed quota request action {action!r}")
    return parts[0], parts[1], int(parts[2])


def _validate_contact(value: str) -> str | None:
    """Optional, but when given a person's address: Google refuses a service account as the contact."""
    return quota_ops.person_problem(value, "Contact email") if value.strip() else None


def _validate_quota_value(value: str) -> str | None:
    """The preferred value: ASCII digits, at least 1, within Cloud Quotas' int64."""
    return quota_ops.validate_value(value)


def _request_reason(ctx: StepContext, where: str) -> str:
    """The prefilled justification, from the plan the user chose."""
    gpu = str(ctx.answer("gpu_type") or "GPUs").strip()
    count = _int_answer(ctx.answer("gpu_count"), 1)
    max_nodes = _int_answer(ctx.answer("gpu_max_nodes"), 1)
    zone = str(ctx.answer("zone") or "").strip()
    region = where if where != "global" else (region_of(zone) if zone else "any region")
    return justification(gpu, count, max_nodes, region)


def request_command(project: str, gpu: str, where: str, value: int, email: str | None) -> str:
    """The `kftui quota request` line a Fix shows: runnable as printed, so it names the contact and carries --yes
    (copying the line is the confirmation, as with the deploy's); without a contact, the bare line to add one to."""
    line = f"kftui quota request --project {project} --gpu {gpu} --region {where} --count {value}"
    return line + (f" --email {email} --yes" if email else "")


# --------------------------------------------------------------------------------------------------
# Plain words through the diagnosis engine
# --------------------------------------------------------------------------------------------------


def _quota_text(quota: QuotaValue, needed: int, quota_id: str, regional: bool) -> str:
    """The text GKE gives when a GPU node pool does not fit a quota (the engine turns it into plain words)."""
    short = max(0.0, needed - quota.available)
    scope = "regional" if regional else "global"
    return (
        f'Insufficient {scope} quota to satisfy request: resource "{quota.metric}": request requires '
        f"'{float(needed):.1f}' and is short '{short:.1f}'. project has a quota of '{quota.limit:.1f}' with "
        f"'{quota.available:.1f}' available.\n\tlimit name = {quota_id}"
    )


def _context(project: str, gpu: str, zone: str, email: str | None) -> dict[str, str]:
    """What the engine may fill in when the text does not say it."""
    out = {"project": project, "gpu": gpu, "zone": zone}
    if email:
        out["email"] = email
    return out


def _zone_diagnosis(project: str, gpu: str, zone: str) -> Diagnosis:
    """Compute's own 404 for a type a zone does not have."""
    return diagnose(
        f"The resource 'projects/{project}/zones/{zone}/acceleratorTypes/{gpu}' was not found",
        project=project,
        gpu=gpu,
        zone=zone,
    )


# --------------------------------------------------------------------------------------------------
# The checks (shared by the step and `kftui doctor`)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """What the user asked for."""

    project: str
    gpu: str
    count: int
    max_nodes: int
    zone: str | None = None
    machine_type: str | None = None
    email: str | None = None

    @property
    def total(self) -> int:
        """GPUs at the pool's maximum size."""
        return self.count * self.max_nodes


def _int_answer(value: object, default: int) -> int:
    """An integer answer in ASCII digits (validated before use), or the default when absent or not a number."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 19 else default


def _pending_for(
    requests: Sequence[QuotaRequest], quota_id: str, dims: Mapping[str, str], value: int
) -> QuotaRequest | None:
    """A request already filed (and not denied) that asks for at least `value` of this quota."""
    return next(
        (
            r
            for r in requests
            if r.quota_id == quota_id
            and dict(r.dimensions) == dict(dims)
            and r.preferred_value >= value
            and r.state == "pending"
        ),
        None,
    )


class _Checker:
    """Turns one reading of the world into the four checks the step and the doctor share."""

    def __init__(
        self,
        plan: PlanInput,
        world: GpuWorld,
        row: ZonePlan,
        infos: Sequence[QuotaInfo] | None,
        infos_error: str,
        requests: Sequence[QuotaRequest],
        contact: Contact | None = None,
        contact_problem: str = "",
    ) -> None:
        self.plan, self.world, self.row = plan, world, row
        self.infos, self.infos_error, self.requests = infos, infos_error, requests
        self.contact, self.contact_problem = contact, contact_problem
        self.ctx = _context(plan.project, plan.gpu, row.zone, plan.email)

    def all(self) -> list[Finding]:
        """gpu.zone, gpu.machine-type, quota.gpus-all-regions, quota.region-gpus."""
        return [self.zone(), self.machine_type(), self.global_quota(), self.regional_quota()]

    def zone(self) -> Finding:
        """Does the zone offer the type (and that many per VM)?"""
        plan, row = self.plan, self.row
        missing = row.feasibility.first(BlockerKind.NOT_IN_ZONE)
        if missing is not None:
            diagnosis = _zone_diagnosis(plan.project, plan.gpu, row.zone)
            return Finding(
                "gpu.zone",
                Status.FAIL,
                f"{row.zone} does not offer {plan.gpu}",
                f"{missing.message} {diagnosis.explanation}",
                fixes=diagnosis.fixes,
                diagnosis=diagnosis,
            )
        too_many = row.feasibility.first(BlockerKind.TOO_MANY_PER_NODE)
        if too_many is not None:
            return Finding(
                "gpu.zone",
                Status.FAIL,
                f"{plan.count} x {plan.gpu} do not fit one VM",
                f"{too_many.message} Ask for fewer GPUs per node and more nodes instead.",
            )
        return Finding(
            "gpu.zone",
            Status.PASS,
            f"{row.zone} offers {plan.gpu}",
            f"Up to {row.max_cards} per VM; the plan puts {plan.count} on each node.",
        )

    def machine_type(self) -> Finding:
        """Can a machine type in the zone carry that many of the GPU?"""
        plan, row = self.plan, self.row
        if row.feasibility.first(BlockerKind.NOT_IN_ZONE) is not None:
            return Finding(
                "gpu.machine-type",
                Status.SKIP,
                "Machine type not checked",
                f"Not checked: {row.zone} does not offer {plan.gpu}.",
            )
        bad = row.feasibility.first(BlockerKind.MACHINE_TYPE_INCOMPATIBLE)
        catalog = self.world.machine_types.get(row.zone, ())
        if bad is not None:
            example = plan.machine_type or next(
                (mt.name for mt in catalog if any(g == plan.gpu for g, _ in mt.accelerators)), "n1-standard-4"
            )
            diagnosis = diagnose(
                f"Accelerator type {plan.gpu} is not compatible with machine type {example}.", **self.ctx
            )
            return Finding(
                "gpu.machine-type",
                Status.FAIL,
                f"No machine type in {row.zone} takes {plan.count} x {plan.gpu}"
                if plan.machine_type is None
                else f"{plan.machine_type} cannot carry {plan.count} x {plan.gpu}",
                f"{bad.message} {diagnosis.explanation}",
                fixes=diagnosis.fixes,
                diagnosis=diagnosis,
            )
        if not row.machines_known:
            prefixes = machine_prefixes(plan.gpu)
            error = self.world.machine_errors.get(row.zone, "")
            return Finding(
                "gpu.machine-type",
                Status.WARN,
                f"Machine types of {row.zone} could not be read",
                (f"{diagnose(error, **self.ctx).title}. " if error else "")
                + f"By Google's GPU table, {plan.gpu} runs on "
                + (", ".join(p + "*" for p in prefixes) if prefixes else "a machine family kftui does not know")
                + ". Check again later to confirm it is offered in this zone.",
            )
        chosen = row.machine_type or (row.machine_types[0] if row.machine_types else "")
        # Recorded (per zone, type and count) so the deploy plan uses the machine type shown here.
        learned: dict[str, str] = {}
        if chosen and not plan.machine_type:
            learned[machine_choice_key(row.zone, plan.gpu, plan.count)] = chosen
        return Finding(
            "gpu.machine-type",
            Status.PASS,
            f"{chosen} can carry {plan.count} x {plan.gpu}",
            f"Compatible machine types in {row.zone}: "
            f"{machine_words(plan.gpu, row.machine_types, limit=6, bundled=row.bundled)}"
            + (f"; the deploy plan uses {chosen}." if learned else "."),
            learned=learned,
        )

    def global_quota(self) -> Finding:
        """GPUS_ALL_REGIONS: the project-wide GPU cap (absent on some projects)."""
        plan = self.plan
        quota = self.world.global_quotas.get(GLOBAL_GPU_METRIC)
        if quota is None:
            blocker = self.row.feasibility.first(BlockerKind.NO_GLOBAL_CAP)
            diagnosis = diagnose(blocker.message if blocker else "no global GPU cap", **self.ctx)
            return Finding(
                "quota.gpus-all-regions",
                Status.PASS,
                "No project-wide GPU cap (GPUS_ALL_REGIONS is absent)",
                diagnosis.explanation,
                diagnosis=diagnosis,
            )
        blocker = next((b for b in self.row.feasibility.blockers if b.kind in QUOTA_KINDS and b.region is None), None)
        if blocker is None:
            return Finding(
                "quota.gpus-all-regions",
                Status.PASS,
                f"GPUS_ALL_REGIONS allows {plan.total} more GPU(s)",
                f"Limit {quota.limit:g}, {quota.usage:g} in use, {quota.available:g} free; the plan needs "
                f"{plan.total} ({plan.max_nodes} node(s) x {plan.count}).",
            )
        return self._quota_blocked("quota.gpus-all-regions", blocker, quota, None)

    def regional_quota(self) -> Finding:
        """The GPU type's quota in the zone's region."""
        plan, row = self.plan, self.row
        region = row.region
        unreadable = row.feasibility.first(BlockerKind.QUOTA_UNREADABLE)
        if unreadable is not None:
            error = self.world.region_errors.get(region)
            if error:
                diagnosis = diagnose(error, **self.ctx)
                return Finding(
                    "quota.region-gpus",
                    Status.FAIL,
                    f"Quotas of {region} could not be read",
                    f"{diagnosis.title}. {diagnosis.explanation}",
                    diagnosis=diagnosis,
                )
            diagnosis = diagnose(unreadable.message, **self.ctx)
            return Finding(
                "quota.region-gpus",
                Status.WARN,
                diagnosis.title,
                f"{unreadable.message} {diagnosis.explanation}",
                diagnosis=diagnosis,
            )
        blocker = next((b for b in row.feasibility.blockers if b.kind in QUOTA_KINDS and b.region), None)
        quota = row.quota or QuotaValue(metric=blocker.metric if blocker and blocker.metric else "", limit=0.0)
        if blocker is None:
            return Finding(
                "quota.region-gpus",
                Status.PASS,
                f"{quota.metric} in {region} allows {plan.total} more",
                f"Limit {quota.limit:g}, {quota.usage:g} in use, {quota.available:g} free; the plan needs "
                f"{plan.total}.",
            )
        return self._quota_blocked("quota.region-gpus", blocker, quota, region)

    def _quota_blocked(self, check: str, blocker: Blocker, quota: QuotaValue, region: str | None) -> Finding:
        """A failing quota check: numbers, quota id, the engine's words and the request that unblocks it."""
        plan = self.plan
        regional = region is not None
        info = quota_info_for(self.infos or (), quota.metric, regional)
        qid = info.quota_id if info else (blocker.quota_id or "")
        value = blocker.unblock_value or plan.total
        diagnosis = diagnose(_quota_text(quota, plan.total, qid, regional), **self.ctx)
        where_words = f"in {region}" if region else "across all regions"
        message = (
            f"{quota.metric} {where_words}: limit {quota.limit:g}, {quota.usage:g} in use (quota id {qid}). "
            f"The plan needs {plan.total} ({plan.max_nodes} node(s) x {plan.count} x {plan.gpu}), so the limit "
            f"must be at least {value}."
        )
        others = tuple(f for f in diagnosis.fixes if f.action != "quota.request")
        where = region or "global"
        title = f"{quota.metric} is {quota.limit:g} {where_words}"
        if self.infos is None:
            return Finding(
                check,
                Status.FAIL,
                title,
                f"{message} Cloud Quotas could not be read ({self.infos_error}), so kftui cannot file the request; "
                "use gcloud or the Console.",
                fixes=others,
                diagnosis=diagnosis,
            )
        if info is None:
            return Finding(
                check,
                Status.FAIL,
                title,
                f"{message} Cloud Quotas lists no quota for {quota.metric}; ask in the Console.",
                fixes=others,
                diagnosis=diagnosis,
            )
        if not info.eligible:
            refusal = diagnose(
                f"The project {plan.project} is not eligible for a quota increase: {info.ineligibility_reason}.",
                project=plan.project,
            )
            return Finding(
                check,
                Status.FAIL,
                title,
                f"{message} It cannot be requested now: {ineligibility_words(info.ineligibility_reason)}.",
                fixes=refusal.fixes,
                diagnosis=refusal,
            )
        dims = {"region": region} if region and "region" in info.dimensions else {}
        pending = _pending_for(self.requests, info.quota_id, dims, value)
        if pending is not None:
            return Finding(
                check,
                Status.FAIL,
                title,
                f"{message} Requested {pending.preferred_value} already; Google is still deciding "
                f"(request {pending.name.rsplit('/', 1)[-1]}).",
                fixes=others,
                diagnosis=diagnosis,
            )
        contact = self.contact
        command = request_command(plan.project, plan.gpu, where, value, contact.email) if contact else None
        request = Fix(
            f"Request {quota.metric} = {value} {where_words}",
            command=command,
            action=f"{REQUEST_ACTION}{info.quota_id}:{where}:{value}",
        )
        if contact is not None:
            who = f" Google will write to {contact.email} ({contact.words()}) if it needs more information."
        else:  # never a stand-in address: say what is missing and where to give it
            line = request_command(plan.project, plan.gpu, where, value, None)
            who = (
                f" {self.contact_problem or NO_CONTACT} Fill in the 'Contact email' field (the request form asks "
                f"for it), or run `{line} --email` followed by your address."
            )
        return Finding(
            check,
            Status.FAIL,
            title,
            f"{message} kftui can file the request for you (or use gcloud or the Console).{who}",
            fixes=(request, *others),
            diagnosis=diagnosis,
        )


def _read_infos(project: str, services: StepServices) -> tuple[list[QuotaInfo] | None, str]:
    """Cloud Quotas' view of compute quotas, or None and why it could not be read."""
    from kftui.gcp.errors import GcpApiError

    try:
        infos: list[QuotaInfo] = services.quotas(project).quota_infos()
    except GcpApiError as exc:
        return None, diagnose_exception(exc, project=project).title
    return infos, ""


def _plan_table(plan: PlanInput, rows: Sequence[ZonePlan]) -> Table:
    """The zone table: region, zone, cards per VM, machine types, regional quota, feasible today."""
    body: list[tuple[str, ...]] = []
    for r in rows:
        if r.machines_known:
            machines = r.words
        else:
            machines = ", ".join(p + "*" for p in machine_prefixes(plan.gpu)) or "unknown"
        if r.quota is None:
            quota_cells = ("unreadable", "-", "-")
        else:
            quota_cells = (f"{r.quota.limit:g}", f"{r.quota.usage:g}", f"{r.quota.available:g}")
        blocking = [b for b in r.feasibility.blockers if b.blocking]
        if not r.ok:
            verdict = "no: " + ", ".join(str(b.kind) for b in blocking)
        else:
            verdict = "yes" if r.certain else "unknown: quota unreadable"
        body.append((r.region, r.zone, str(r.max_cards), machines or "none", *quota_cells, verdict))
    return Table(
        columns=("region", "zone", "max/VM", "machine types", "quota", "used", "free", "feasible"),
        rows=tuple(body),
        row_status=tuple(Status.FAIL if not r.ok else Status.PASS if r.certain else Status.WARN for r in rows),
    )


def _plan_finding(plan: PlanInput, world: GpuWorld, rows: Sequence[ZonePlan]) -> Finding:
    """The planner finding: the global cap above the table, feasible zones first, the zone to remember."""
    quota = world.global_quotas.get(GLOBAL_GPU_METRIC)
    cap = (
        f"GPUS_ALL_REGIONS (all regions): limit {quota.limit:g}, {quota.usage:g} in use, {quota.available:g} free."
        if quota
        else "GPUS_ALL_REGIONS: not set for this project (no project-wide GPU cap)."
    )
    good = [r for r in rows if r.ok and r.certain]
    need = f"The plan needs {plan.total} GPU(s): {plan.max_nodes} node(s) x {plan.count} x {plan.gpu}."
    unreachable = (
        f" Zones Compute could not reach: {', '.join(world.offers.unreachable)}." if world.offers.unreachable else ""
    )
    learned: dict[str, str] = {}
    if plan.zone is None and good:
        learned["zone"] = good[0].zone
    chosen = plan.zone or (good[0].zone if good else None)
    tail = f" Zone for the GPU pool: {chosen}." if chosen else ""
    return Finding(
        "gpu.plan",
        Status.PASS if good else Status.FAIL,
        f"{len(good)} of {len(rows)} zones offering {plan.gpu} can run the plan today",
        f"{cap} {need}{unreachable}{tail}",
        learned=learned,
        table=_plan_table(plan, rows),
    )


def _requests_finding(requests: Sequence[QuotaRequest]) -> Finding:
    """The quota requests kftui filed and where Google is with each (re-read on every run)."""
    rows = []
    for r in requests:
        where = r.dimensions.get("region", "global")
        granted = "-" if r.granted_value is None else str(r.granted_value)
        rows.append((r.quota_id, where, str(r.preferred_value), granted, r.state, r.state_detail or "-", r.trace_id))
    states = [r.state for r in requests]
    pending = states.count("pending")
    denied = states.count("denied")
    status = Status.PASS if pending == 0 and denied == 0 else Status.WARN
    words = []
    if pending:
        words.append(f"{pending} pending (Google is still deciding; kftui re-reads them on every run)")
    if denied:
        words.append(f"{denied} not granted in full (see the state detail; ask for less, or another region)")
    n_granted = states.count("granted")
    if n_granted:
        words.append(f"{n_granted} granted")
    return Finding(
        "quota.requests",
        status,
        f"{len(requests)} quota request(s) filed by kftui",
        _sentence("; ".join(words) or "no state yet"),
        table=Table(
            columns=("quota", "where", "asked", "granted", "state", "detail", "trace id"),
            rows=tuple(rows),
            row_status=tuple(
                Status.PASS if s == "granted" else Status.WARN if s == "pending" else Status.FAIL for s in states
            ),
        ),
    )


def _sentence(text: str) -> str:
    """Capital first letter and a full stop, leaving names inside alone."""
    return text[:1].upper() + text[1:] + "."


def _error_finding(check: str, exc: BaseException, project: str, doing: str) -> Finding:
    """A failing finding with the engine's words for an API error, never the raw text alone."""
    diagnosis = diagnose_exception(exc, project=project)
    return Finding(
        check, Status.FAIL, diagnosis.title, f"Could not {doing}. {diagnosis.explanation}", diagnosis=diagnosis
    )


def _checks_for(
    plan: PlanInput,
    world: GpuWorld,
    rows: Sequence[ZonePlan],
    requests: Sequence[QuotaRequest],
    services: StepServices,
) -> list[Finding]:
    """The four shared checks for the user's zone, else the best zone, else the first zone offering the type."""
    zone = plan.zone or (rows[0].zone if rows else None)
    if zone is None:
        return []
    row = next((r for r in rows if r.zone == zone), None)
    if row is None:
        row = plan_zone(
            GpuRequest(plan.gpu, plan.count, plan.max_nodes, zone, plan.machine_type),
            world.global_quotas,
            world.regions.get(region_of(zone)),
            world.offers,
            world.machine_types.get(zone),
        )
    needs_infos = any(b.kind in QUOTA_KINDS for b in row.feasibility.blockers)
    infos, infos_error = _read_infos(plan.project, services) if needs_infos else ([], "")
    contact, problem = _contact(plan, services) if needs_infos else (None, "")
    return _Checker(plan, world, row, infos, infos_error, requests, contact, problem).all()


def _contact(plan: PlanInput, services: StepServices) -> tuple[Contact | None, str]:
    """Whom a quota request would name (the field, the active person, an owner or editor), or why nobody."""
    try:
        return find_contact({"email": plan.email or ""}, plan.project, services.projects()), ""
    except UsageError as exc:
        return None, str(exc)


def _unknown_type(plan: PlanInput, offers: AcceleratorOffers) -> Finding:
    """The project offers no such GPU type anywhere: name the ones it does offer."""
    types = offers.gpu_types()
    return Finding(
        "gpu.zone",
        Status.FAIL,
        f"{plan.gpu} is not offered to {plan.project}",
        f"No zone lists {plan.gpu} for this project. Types it offers: {', '.join(types) or 'none'}.",
        fixes=(
            Fix(
                "List the GPU types and their zones",
                command=f"gcloud compute accelerator-types list --project={plan.project}",
            ),
        ),
    )


def doctor_checks(ctx: StepContext, gpu: str, count: int, zone: str | None) -> list[Finding]:
    """`kftui doctor --gpu TYPE --gpu-count N [--zone Z]`: gpu.zone, gpu.machine-type and the two quota checks."""
    from kftui.gcp.errors import GcpApiError

    project = _project(ctx)
    ids = ("gpu.zone", "gpu.machine-type", "quota.gpus-all-regions", "quota.region-gpus")
    if project is None:
        return [Finding(i, Status.SKIP, "GPU plan not checked", "Not checked: no project chosen.") for i in ids]
    for problem in (validate_gpu_type(gpu), validate_gpu_count(str(count)), validate_zone(zone or "")):
        if problem:
            raise UsageError(problem)
    plan = PlanInput(
        project=project,
        gpu=gpu.strip(),
        count=count,
        max_nodes=_int_answer(ctx.answer("gpu_max_nodes"), 1),
        zone=(zone or "").strip() or None,
        machine_type=str(ctx.answer("machine_type") or "").strip() or None,
        email=str(ctx.answer("email") or "").strip() or None,
    )
    try:
        world = read_world(project, plan.gpu, [plan.zone] if plan.zone else [], services_of(ctx))
    except GcpApiError as exc:
        return [_error_finding(i, exc, project, f"read the GPU offers and quotas of {project}") for i in ids]
    if plan.gpu not in world.offers.gpu_types():
        first = _unknown_type(plan, world.offers)
        return [first] + [
            Finding(i, Status.SKIP, "Not checked", f"Not checked: {gpu} is not offered.") for i in ids[1:]
        ]
    rows = plan_zones(
        plan.gpu,
        plan.count,
        plan.max_nodes,
        world.global_quotas,
        world.regions,
        world.offers,
        world.machine_types,
        machine_type=plan.machine_type,
    )
    requests = _safe_follow(ctx, project)
    return _checks_for(plan, world, rows, requests, services_of(ctx))


def _safe_follow(ctx: StepContext, project: str) -> list[QuotaRequest]:
    """Filed requests, re-read; a Cloud Quotas failure must not hide the plan."""
    from kftui.gcp.errors import GcpApiError

    try:
        return quota_ops.follow_requests(store_of(ctx), project, services_of(ctx).quotas(project))
    except GcpApiError:
        return []


# --------------------------------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------------------------------


class GpuStep:
    """Plans the GPU node pool against what the project may really use, and files the quota requests it lacks."""

    id = "gpu"
    title = "GPUs"
    order = 70
    requires: tuple[str, ...] = ("project",)
    checks: tuple[str, ...] = (
        "gpu.plan",
        "gpu.zone",
        "gpu.machine-type",
        "quota.gpus-all-regions",
        "quota.region-gpus",
        "quota.requests",
    )
    fields: tuple[Field, ...] = (
        Field(
            "gpu_type",
            "GPU type",
            kind="choice",
            placeholder="nvidia-tesla-t4",
            help="Types your project offers (read from Compute, so new ones appear by themselves), or 'none'.",
            validate=validate_gpu_type,
            suggest=_suggest_gpu,
        ),
        Field(
            "gpu_count",
            "GPUs per node",
            placeholder="1",
            help="How many GPUs each GPU node carries (at least 1).",
            validate=validate_gpu_count,
        ),
        Field(
            "gpu_max_nodes",
            "Maximum GPU nodes",
            placeholder="1",
            help="The GPU pool autoscales from 0 up to this many nodes (at least 1).",
            validate=validate_max_nodes,
        ),
        Field(
            "zone",
            "Zone",
            kind="choice",
            placeholder="us-central1-a",
            help="Leave empty and kftui picks a zone where the plan fits today.",
            validate=validate_zone,
            suggest=_suggest_zone,
            required=False,
        ),
        Field(
            "email",
            "Contact email",
            placeholder="you@example.com",
            help="Google writes here about quota requests (default: the active account when it is a person's, else "
            "an owner or editor of the project).",
            validate=_validate_contact,
            required=False,
        ),
    )

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """Read requests first (a grant changes the quotas), then offers and quotas once, then judge."""
        from kftui.gcp.errors import GcpApiError

        project = _project(ctx)
        if project is None:
            yield Finding("gpu.plan", Status.SKIP, "GPU plan not checked", "Not checked: no project chosen.")
            return
        gpu = str(ctx.answer("gpu_type") or "").strip()
        if not gpu:
            yield Finding(
                "gpu.plan",
                Status.FAIL,
                "No GPU type chosen",
                "Pick the GPU type for the GPU node pool (the list shows the types your project offers), "
                "or 'none' for a cluster without GPUs.",
                fixes=(
                    Fix(
                        "List the GPU types your project offers",
                        command=f"gcloud compute accelerator-types list --project={project}",
                    ),
                ),
            )
            return
        if gpu == NONE:
            yield Finding(
                "gpu.plan",
                Status.PASS,
                "No GPUs planned",
                "The cluster gets CPU nodes only; choose a GPU type here later to add a GPU pool.",
            )
            return
        problems = [
            p
            for p in (
                validate_gpu_type(gpu),
                validate_gpu_count(str(ctx.answer("gpu_count") or "1")),
                validate_max_nodes(str(ctx.answer("gpu_max_nodes") or "1")),
                validate_zone(str(ctx.answer("zone") or "")),
                _validate_contact(str(ctx.answer("email") or "")),
            )
            if p
        ]
        if problems:
            yield Finding("gpu.plan", Status.FAIL, "The GPU plan has invalid values", " ".join(problems))
            return
        plan = PlanInput(
            project=project,
            gpu=gpu,
            count=_int_answer(ctx.answer("gpu_count"), 1),
            max_nodes=_int_answer(ctx.answer("gpu_max_nodes"), 1),
            zone=str(ctx.answer("zone") or "").strip() or None,
            machine_type=str(ctx.answer("machine_type") or "").strip() or None,
            email=str(ctx.answer("email") or "").strip() or None,
        )
        requests = _safe_follow(ctx, project)
        if ctx.cancelled():
            return
        try:
            world = read_world(project, gpu, [plan.zone] if plan.zone else [], services_of(ctx))
        except GcpApiError as exc:
            yield _error_finding("gpu.plan", exc, project, f"read the GPU offers and quotas of {project}")
            return
        if gpu not in world.offers.gpu_types():
            found = _unknown_type(plan, world.offers)
            yield Finding("gpu.plan", Status.FAIL, found.title, found.message, fixes=found.fixes)
            return
        rows = plan_zones(
            gpu,
            plan.count,
            plan.max_nodes,
            world.global_quotas,
            world.regions,
            world.offers,
            world.machine_types,
            machine_type=plan.machine_type,
        )
        plan_finding = _plan_finding(plan, world, rows)
        yield plan_finding
        if ctx.cancelled():
            return
        if plan.zone is None and plan_finding.learned.get("zone"):
            plan = PlanInput(**{**plan.__dict__, "zone": plan_finding.learned["zone"]})
        yield from _checks_for(plan, world, rows, requests, services_of(ctx))
        if requests:
            yield _requests_finding(requests)

    def action_command(self, action: str, ctx: StepContext) -> str | None:
        """The confirm dialog's `kftui quota request` line with the value and email the user typed."""
        _, where, value = _parse_request(action)
        typed = str(ctx.answer("quota_value") or "").strip()
        return request_command(str(ctx.answer("project") or "PROJECT"), str(ctx.answer("gpu_type") or "GPU"), where,
                               int(typed) if not quota_ops.validate_value(typed) else value, ctx.answer("email"))

    def action_fields(self, action: str, ctx: StepContext) -> tuple[tuple[Field, ...], dict[str, str]]:
        """The request form: the value (the smallest that unblocks the plan), contact email and justification."""
        quota_id, where, value = _parse_request(action)
        project = _project(ctx)
        try:
            email = contact_email(ctx.answers, project, services_of(ctx).projects())
        except KftuiError:
            email = ""  # the field stays empty and required: the form asks, never a stand-in
        fields = (
            Field(
                "quota_value",
                f"Preferred value for {quota_id} ({where})",
                placeholder=str(value),
                help=f"{value} is the smallest limit that unblocks your plan; small first requests are approved most.",
                validate=_validate_quota_value,
            ),
            Field(
                "email",
                "Contact email",
                placeholder="you@example.com",
                validate=_validate_contact,
                help="Google writes here if the request needs more information.",
            ),
            Field("quota_justification", "Justification", help="Shown to Google's reviewers; edit freely."),
        )
        defaults = {"quota_value": str(value), "email": email, "quota_justification": _request_reason(ctx, where)}
        return fields, defaults

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """File the quota request a Fix offered (deterministic id: a second press finds the first)."""
        quota_id, where, value = _parse_request(action)
        typed = str(ctx.answer("quota_value") or "").strip()
        if typed:
            problem = quota_ops.validate_value(typed)
            if problem:
                raise UsageError(problem)
            value = int(typed)
        project = _project(ctx)
        if project is None:
            raise UsageError("Project is missing: choose a project before requesting quota.")
        email = contact_email(ctx.answers, project, services_of(ctx).projects())
        reason = str(ctx.answer("quota_justification") or "").strip() or _request_reason(ctx, where)
        filed = quota_ops.file_request(store_of(ctx), services_of(ctx).quotas(project), project, quota_id, where, value,
                                       email, reason, progress)
        request = filed.request
        verb = "was already filed" if request.already_filed else "is filed"
        loud = filed.warning(project)
        if loud:
            return f"Quota request for {quota_id} ({where}) = {value} {verb}: {request.state}. {loud}"
        return (
            f"Quota request for {quota_id} ({where}) = {value} {verb}: {request.state}. "
            "kftui re-reads its state on every run."
        )


STEP = GpuStep()
