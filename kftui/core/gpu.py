"""GPU facts and quota maths: which machines take which GPU, which quota counts it, what blocks a pool.

Pure: standard library only. Adapters (kftui.gcp.compute/quotas/container) fill these types from the APIs.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

GLOBAL_GPU_METRIC = "GPUS_ALL_REGIONS"
"""The project-wide GPU cap every GPU VM counts against (absent on some projects: no global cap)."""

# --------------------------------------------------------------------------------------------------
# Read-side types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaValue:
    """One compute quota as `projects.get` / `regions.get` report it."""

    metric: str
    limit: float
    usage: float = 0.0

    @property
    def available(self) -> float:
        """What is left to use before the quota is exceeded."""
        return max(0.0, self.limit - self.usage)


@dataclass(frozen=True, slots=True)
class RegionQuotas:
    """A region's quotas; `unreadable` means compute could not read them (not that they are zero)."""

    region: str
    quotas: Mapping[str, QuotaValue] = field(default_factory=dict)
    unreadable: bool = False
    warning: str = ""

    def get(self, metric: str) -> QuotaValue | None:
        """The quota for a metric, if the region reported one."""
        return self.quotas.get(metric)


@dataclass(frozen=True, slots=True)
class AcceleratorOffer:
    """A GPU type offered in one zone, as `acceleratorTypes.aggregatedList` lists it."""

    gpu_type: str
    zone: str
    max_cards: int
    description: str = ""

    @property
    def region(self) -> str:
        """The zone's region (zone names are `<region>-<letter>`)."""
        return region_of(self.zone)


@dataclass(frozen=True, slots=True)
class AcceleratorOffers:
    """All offers plus the zones that could not be read (partial success)."""

    offers: tuple[AcceleratorOffer, ...]
    unreachable: tuple[str, ...] = ()

    def zones_for(self, gpu_type: str) -> tuple[str, ...]:
        """Zones offering a GPU type, sorted."""
        return tuple(sorted({o.zone for o in self.offers if o.gpu_type == gpu_type}))

    def in_zone(self, gpu_type: str, zone: str) -> AcceleratorOffer | None:
        """The offer of a type in one zone, if any."""
        return next((o for o in self.offers if o.gpu_type == gpu_type and o.zone == zone), None)

    def gpu_types(self) -> tuple[str, ...]:
        """Every GPU type offered anywhere, sorted (what the API says, never an allowlist)."""
        return tuple(sorted({o.gpu_type for o in self.offers}))


@dataclass(frozen=True, slots=True)
class MachineType:
    """A machine type in a zone; `accelerators` are the GPUs bundled with it (G2, A2, A3...)."""

    name: str
    zone: str
    guest_cpus: int
    memory_mb: int
    accelerators: tuple[tuple[str, int], ...] = ()

    @property
    def family(self) -> str:
        """The series prefix (`n1`, `g2`, `a2`...)."""
        return self.name.split("-", 1)[0]


def region_of(zone: str) -> str:
    """`us-central1-a` -> `us-central1`."""
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


# --------------------------------------------------------------------------------------------------
# GPU type -> machine types and quota metric
# --------------------------------------------------------------------------------------------------

# Machine-type name prefixes a GPU attaches to or comes bundled with (GCE's GPU platform table).
_FAMILY_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^nvidia-(tesla-)?(t4|p4|v100|p100|k80)(-vws)?$"), ("n1-",)),
    (re.compile(r"^nvidia-l4(-vws)?$"), ("g2-",)),
    (re.compile(r"^nvidia-(tesla-)?a100$"), ("a2-highgpu-", "a2-megagpu-")),
    (re.compile(r"^nvidia-a100-80gb$"), ("a2-ultragpu-",)),
    (re.compile(r"^nvidia-h100-mega-80gb$"), ("a3-megagpu-",)),
    (re.compile(r"^nvidia-h100-80gb$"), ("a3-highgpu-", "a3-edgegpu-")),
    (re.compile(r"^nvidia-h200-141gb$"), ("a3-ultragpu-",)),
    (re.compile(r"^nvidia-b200$"), ("a4-highgpu-",)),
)

# GPUs per VM the platform allows, and for GPUs bundled with their machine family the smallest machine type that
# carries each count (GCE's GPU platform table). Attach-your-own types (N1) take any n1 shape up to their limits.
_SHAPES: tuple[tuple[re.Pattern[str], dict[int, str | None]], ...] = (
    (re.compile(r"^nvidia-(tesla-)?(t4|p4|p100)(-vws)?$"), {1: None, 2: None, 4: None}),
    (re.compile(r"^nvidia-(tesla-)?(v100|k80)$"), {1: None, 2: None, 4: None, 8: None}),
    (re.compile(r"^nvidia-l4(-vws)?$"),
     {1: "g2-standard-4", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"}),
    (re.compile(r"^nvidia-(tesla-)?a100$"),
     {1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g", 16: "a2-megagpu-16g"}),
    (re.compile(r"^nvidia-a100-80gb$"),
     {1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"}),
    (re.compile(r"^nvidia-h100-80gb$"),
     {1: "a3-highgpu-1g", 2: "a3-highgpu-2g", 4: "a3-highgpu-4g", 8: "a3-highgpu-8g"}),
    (re.compile(r"^nvidia-h100-mega-80gb$"), {8: "a3-megagpu-8g"}),
    (re.compile(r"^nvidia-h200-141gb$"), {8: "a3-ultragpu-8g"}),
    (re.compile(r"^nvidia-b200$"), {8: "a4-highgpu-8g"}),
)


def gpu_counts(gpu_type: str) -> tuple[int, ...] | None:
    """GPUs per VM the platform allows for a type (None for a type kftui has no table for)."""
    for pattern, shapes in _SHAPES:
        if pattern.match(gpu_type):
            return tuple(sorted(shapes))
    return None


def shape_machine(gpu_type: str, count: int) -> str | None:
    """The smallest machine type bundling `count` GPUs of a type (None for attach-your-own or unknown shapes)."""
    for pattern, shapes in _SHAPES:
        if pattern.match(gpu_type):
            return shapes.get(count)
    return None


def bundled_shape(machine_type: str) -> tuple[str, int] | None:
    """(GPU pattern text, count) a known bundled machine type comes with, e.g. a2-highgpu-2g -> 2 A100."""
    for pattern, shapes in _SHAPES:
        for count, machine in shapes.items():
            if machine == machine_type:
                return pattern.pattern, count
    g2 = re.match(r"^g2-standard-(\d+)$", machine_type)
    if g2:  # every G2 size bundles L4s: 4-32 vCPU one, 48 four, 96 eight, 24 two
        cpus = int(g2.group(1))
        return _SHAPES[2][0].pattern, {24: 2, 48: 4, 96: 8}.get(cpus, 1)
    return None


# Exact names where the rule below would guess wrong.
_METRIC_TABLE = {
    "nvidia-tesla-t4": "NVIDIA_T4_GPUS",
    "nvidia-tesla-t4-vws": "NVIDIA_T4_VWS_GPUS",
    "nvidia-tesla-p4": "NVIDIA_P4_GPUS",
    "nvidia-tesla-p4-vws": "NVIDIA_P4_VWS_GPUS",
    "nvidia-tesla-v100": "NVIDIA_V100_GPUS",
    "nvidia-tesla-p100": "NVIDIA_P100_GPUS",
    "nvidia-tesla-p100-vws": "NVIDIA_P100_VWS_GPUS",
    "nvidia-tesla-k80": "NVIDIA_K80_GPUS",
    "nvidia-l4": "NVIDIA_L4_GPUS",
    "nvidia-l4-vws": "NVIDIA_L4_VWS_GPUS",
    "nvidia-tesla-a100": "NVIDIA_A100_GPUS",
    "nvidia-a100-80gb": "NVIDIA_A100_80GB_GPUS",
    "nvidia-h100-80gb": "NVIDIA_H100_GPUS",
    "nvidia-h100-mega-80gb": "NVIDIA_H100_MEGA_GPUS",
    "nvidia-h200-141gb": "NVIDIA_H200_GPUS",
    "nvidia-b200": "NVIDIA_B200_GPUS",
}


def machine_prefixes(gpu_type: str, machine_types: Iterable[MachineType] = ()) -> tuple[str, ...]:
    """Machine-type name prefixes that can carry a GPU type: known rules, plus what the API bundles."""
    out: list[str] = []
    for pattern, prefixes in _FAMILY_RULES:
        if pattern.match(gpu_type):
            out.extend(prefixes)
    for mt in machine_types:
        if any(gpu == gpu_type for gpu, _ in mt.accelerators):
            prefix = mt.name.rsplit("-", 1)[0] + "-"
            if not any(mt.name.startswith(p) for p in out):
                out.append(prefix)
    return tuple(dict.fromkeys(out))


def bundled(machine_type: str, machine_types: Iterable[MachineType]) -> tuple[tuple[str, int], ...]:
    """The GPUs a machine type comes with (empty for attach-your-own types like N1)."""
    for mt in machine_types:
        if mt.name == machine_type:
            return mt.accelerators
    return ()


def machine_type_compatible(
    gpu_type: str, count: int, machine_type: str, machine_types: Iterable[MachineType] = ()
) -> bool:
    """Whether `count` GPUs of a type can run on a machine type (bundled types fix the count)."""
    catalog = tuple(machine_types)
    fixed = bundled(machine_type, catalog)
    if fixed:
        return any(gpu == gpu_type and n == count for gpu, n in fixed)
    known = bundled_shape(machine_type)
    if known is not None:  # a bundled family the zone's catalog did not list (or could not be read)
        pattern, n = known
        return re.match(pattern, gpu_type) is not None and n == count
    return any(machine_type.startswith(p) for p in machine_prefixes(gpu_type, catalog))


def quota_metric(gpu_type: str, preemptible: bool = False) -> str:
    """The regional compute quota metric a GPU type counts against (rule-based for unknown names)."""
    metric = _METRIC_TABLE.get(gpu_type)
    if metric is None:
        core = gpu_type.lower().removeprefix("nvidia-").removeprefix("tesla-")
        metric = "NVIDIA_" + re.sub(r"[^A-Z0-9]+", "_", core.upper()).strip("_") + "_GPUS"
    return ("PREEMPTIBLE_" + metric) if preemptible else metric


def resolve_metric(gpu_type: str, known: Iterable[str], preemptible: bool = False) -> str:
    """The metric for a GPU type among those a region actually lists (newer names the rule misses)."""
    names = set(known)
    guess = quota_metric(gpu_type, preemptible)
    if guess in names or not names:
        return guess
    model = gpu_type.lower().removeprefix("nvidia-").removeprefix("tesla-").split("-", 1)[0].upper()
    for name in sorted(names):
        if name.startswith("PREEMPTIBLE_") != preemptible or not name.endswith("_GPUS"):
            continue
        if f"_{model}_" in f"_{name}_" and "VWS" not in name:
            return name
    return guess


def quota_id(metric: str, regional: bool) -> str:
    """Cloud Quotas' id for a compute metric (NVIDIA_T4_GPUS -> NVIDIA-T4-GPUS-per-project-region)."""
    return metric.replace("_", "-") + ("-per-project-region" if regional else "-per-project")


# --------------------------------------------------------------------------------------------------
# Feasibility of a GPU node pool
# --------------------------------------------------------------------------------------------------


class BlockerKind(enum.StrEnum):
    """Why a GPU pool cannot be created as asked; values are stable ids for diagnoses and JSON."""

    ZERO_GLOBAL = "zero-global"
    GLOBAL_TOO_LOW = "global-too-low"
    ZERO_REGIONAL = "zero-regional"
    REGIONAL_TOO_LOW = "regional-too-low"
    NOT_IN_ZONE = "not-in-zone"
    TOO_MANY_PER_NODE = "too-many-per-node"
    MACHINE_TYPE_INCOMPATIBLE = "machine-type-incompatible"
    QUOTA_UNREADABLE = "quota-unreadable"
    NO_GLOBAL_CAP = "no-global-cap"


_NOT_BLOCKING = {BlockerKind.NO_GLOBAL_CAP, BlockerKind.QUOTA_UNREADABLE}


@dataclass(frozen=True, slots=True)
class GpuRequest:
    """What the user wants: `count` GPUs of a type per node, up to `max_nodes` nodes, in one zone."""

    gpu_type: str
    count: int
    max_nodes: int
    zone: str
    machine_type: str | None = None
    preemptible: bool = False

    @property
    def region(self) -> str:
        """The region the zone belongs to."""
        return region_of(self.zone)

    @property
    def total(self) -> int:
        """GPUs in use when the pool is at its maximum size."""
        return self.count * self.max_nodes


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason (or caveat) with the numbers; `unblock_value` is the smallest value that clears it."""

    kind: BlockerKind
    message: str
    metric: str | None = None
    region: str | None = None
    current: float | None = None
    needed: float | None = None
    unblock_value: int | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """Caveats (no global cap, unreadable quota) do not stop the pool; the rest do."""
        return self.kind not in _NOT_BLOCKING

    @property
    def quota_id(self) -> str | None:
        """The Cloud Quotas id to request for a quota blocker."""
        if self.metric is None or self.kind not in _QUOTA_KINDS:
            return None
        return quota_id(self.metric, regional=self.region is not None)


_QUOTA_KINDS = {
    BlockerKind.ZERO_GLOBAL,
    BlockerKind.GLOBAL_TOO_LOW,
    BlockerKind.ZERO_REGIONAL,
    BlockerKind.REGIONAL_TOO_LOW,
}


@dataclass(frozen=True, slots=True)
class Feasibility:
    """The verdict on a GpuRequest: blockers in the order to fix them, and caveats."""

    request: GpuRequest
    blockers: tuple[Blocker, ...]

    @property
    def ok(self) -> bool:
        """True when nothing blocks (caveats may remain)."""
        return not any(b.blocking for b in self.blockers)

    def kinds(self) -> tuple[BlockerKind, ...]:
        """Blocker kinds, for quick assertions and JSON."""
        return tuple(b.kind for b in self.blockers)

    def first(self, kind: BlockerKind) -> Blocker | None:
        """The blocker of a kind, if present."""
        return next((b for b in self.blockers if b.kind == kind), None)


def _quota_blocker(
    quota: QuotaValue, needed: int, zero: BlockerKind, low: BlockerKind, where: str, region: str | None
) -> Blocker | None:
    """A quota blocker when the quota cannot fit `needed` more GPUs."""
    if quota.available >= needed:
        return None
    unblock = math.ceil(quota.usage + needed)
    kind = zero if quota.limit <= 0 else low
    return Blocker(
        kind=kind,
        message=(
            f"Quota '{quota.metric}' is {quota.limit:g} {where} ({quota.usage:g} in use); "
            f"{needed} GPU(s) need a limit of at least {unblock}."
        ),
        metric=quota.metric,
        region=region,
        current=quota.limit,
        needed=needed,
        unblock_value=unblock,
    )


def assess(
    request: GpuRequest,
    global_quotas: Mapping[str, QuotaValue],
    region: RegionQuotas | None,
    offers: AcceleratorOffers,
    machine_types: Sequence[MachineType] = (),
) -> Feasibility:
    """Everything that stops `request` from scheduling at full size, each with the value that unblocks it."""
    found: list[Blocker] = []
    gpu, zone = request.gpu_type, request.zone
    offer = offers.in_zone(gpu, zone)
    if offer is None:
        zones = offers.zones_for(gpu)
        near = tuple(z for z in zones if region_of(z) == request.region)
        found.append(
            Blocker(
                kind=BlockerKind.NOT_IN_ZONE,
                message=f"Zone {zone} does not offer {gpu}."
                + (f" Zones that do: {', '.join(near or zones)}." if zones else " No zone offers it."),
                region=request.region,
                alternatives=near or zones,
            )
        )
    elif request.count > offer.max_cards:
        found.append(
            Blocker(
                kind=BlockerKind.TOO_MANY_PER_NODE,
                message=f"{gpu} allows at most {offer.max_cards} per VM in {zone}; asked for {request.count}.",
                current=offer.max_cards,
                needed=request.count,
                unblock_value=offer.max_cards,
            )
        )
    if request.machine_type and not machine_type_compatible(gpu, request.count, request.machine_type, machine_types):
        prefixes = machine_prefixes(gpu, machine_types)
        found.append(
            Blocker(
                kind=BlockerKind.MACHINE_TYPE_INCOMPATIBLE,
                message=f"Machine type {request.machine_type} cannot carry {request.count} x {gpu}"
                + (f"; use {' or '.join(p + '*' for p in prefixes)}." if prefixes else "."),
                alternatives=prefixes,
            )
        )
    overall = global_quotas.get(GLOBAL_GPU_METRIC)
    if overall is None:
        found.append(
            Blocker(
                kind=BlockerKind.NO_GLOBAL_CAP,
                message=f"The project has no {GLOBAL_GPU_METRIC} quota: only the regional quota applies.",
                metric=GLOBAL_GPU_METRIC,
            )
        )
    else:
        b = _quota_blocker(
            overall, request.total, BlockerKind.ZERO_GLOBAL, BlockerKind.GLOBAL_TOO_LOW, "globally", None
        )
        if b:
            found.append(b)
    if region is None or region.unreadable:
        found.append(
            Blocker(
                kind=BlockerKind.QUOTA_UNREADABLE,
                message=f"Compute could not read the quotas of {request.region}"
                + (f" ({region.warning})" if region and region.warning else "")
                + "; that is not a zero. Check again later or in the Console.",
                region=request.region,
                metric=quota_metric(gpu, request.preemptible),
            )
        )
    else:
        metric = resolve_metric(gpu, region.quotas.keys(), request.preemptible)
        quota = region.get(metric) or QuotaValue(metric=metric, limit=0.0)
        b = _quota_blocker(
            quota,
            request.total,
            BlockerKind.ZERO_REGIONAL,
            BlockerKind.REGIONAL_TOO_LOW,
            f"in region {request.region}",
            request.region,
        )
        if b:
            found.append(b)
    return Feasibility(request=request, blockers=tuple(found))


# --------------------------------------------------------------------------------------------------
# Quota requests (Cloud Quotas)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaInfo:
    """A quota as Cloud Quotas describes it: id, dimensions, current values, whether it may be raised."""

    quota_id: str
    metric: str
    dimensions: tuple[str, ...]
    eligible: bool
    ineligibility_reason: str | None = None
    values: tuple[tuple[Mapping[str, str], int], ...] = ()

    @property
    def metric_name(self) -> str:
        """The compute-style metric name (`compute.googleapis.com/nvidia_t4_gpus` -> NVIDIA_T4_GPUS)."""
        return self.metric.rsplit("/", 1)[-1].upper()

    def value_for(self, dimensions: Mapping[str, str]) -> int | None:
        """The current value for exact dimensions, else the default (dimensionless) value."""
        wanted = dict(dimensions)
        default: int | None = None
        for dims, value in self.values:
            if dict(dims) == wanted:
                return value
            if not dims:
                default = value
        return default


@dataclass(frozen=True, slots=True)
class QuotaRequest:
    """A filed quota preference and how far Google got with it."""

    name: str
    quota_id: str
    dimensions: Mapping[str, str]
    preferred_value: int
    granted_value: int | None
    reconciling: bool
    state_detail: str = ""
    trace_id: str = ""
    already_filed: bool = False

    @property
    def state(self) -> str:
        """pending, granted, partially-granted or denied (for display and JSON)."""
        if self.reconciling:
            return "pending"
        if self.granted_value is None:
            return "pending"
        if self.granted_value >= self.preferred_value:
            return "granted"
        return "denied"


# --------------------------------------------------------------------------------------------------
# GKE: the pools kftui creates and what it reads back
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodePoolSpec:
    """A node pool to create; GPU pools autoscale from `min_nodes` (usually 0) to `max_nodes`."""

    name: str
    machine_type: str
    min_nodes: int = 0
    max_nodes: int = 1
    initial_nodes: int = 0
    gpu_type: str | None = None
    gpu_count: int = 0
    locations: tuple[str, ...] = ()
    spot: bool = False
    disk_size_gb: int = 100


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """A GKE cluster to create: a location (region or zone) and its initial pools."""

    name: str
    location: str
    pools: tuple[NodePoolSpec, ...]
    node_locations: tuple[str, ...] = ()
    release_channel: str = "REGULAR"
    autoprovisioning: tuple[tuple[str, int], ...] = ()
    """Node auto-provisioning limits as (resource type, maximum): cpu, memory (GB), a GPU type; empty = off."""


@dataclass(frozen=True, slots=True)
class NodePoolInfo:
    """A node pool as GKE reports it."""

    name: str
    status: str
    machine_type: str
    gpu_type: str | None
    gpu_count: int
    min_nodes: int | None
    max_nodes: int | None
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """A cluster as GKE reports it (endpoint and CA are what a kubeconfig needs)."""

    name: str
    location: str
    status: str
    endpoint: str
    ca_certificate: str
    pools: tuple[NodePoolInfo, ...]
    locations: tuple[str, ...] = ()
    status_message: str = ""


@dataclass(frozen=True, slots=True)
class OperationInfo:
    """A GKE long-running operation: what it does, whether it is done, and its error if it failed."""

    name: str
    location: str
    kind: str
    status: str
    target: str = ""
    error: str = ""
    progress: float | None = None

    @property
    def done(self) -> bool:
        """True once GKE reports DONE."""
        return self.status == "DONE"


# --------------------------------------------------------------------------------------------------
# The planner: every zone that offers a GPU type, judged for one plan
# --------------------------------------------------------------------------------------------------

QUOTA_KINDS = frozenset(_QUOTA_KINDS)
"""Blocker kinds a quota increase can clear (so a request is worth offering)."""


def compatible_machine_types(gpu_type: str, count: int, machine_types: Sequence[MachineType]) -> tuple[str, ...]:
    """Names in one zone's catalog that can carry `count` GPUs of a type (bundled types must match exactly)."""
    return tuple(mt.name for mt in machine_types if machine_type_compatible(gpu_type, count, mt.name, machine_types))


def choose_machine_type(gpu_type: str, count: int, machine_types: Sequence[MachineType] | None) -> str | None:
    """THE choice of the GPU pool's machine type for (zone, GPU type, count), shared by the GPU step and the plan.

    With the zone's catalogue: n1-standard-4 for attach-your-own GPUs, else GCE's table shape for the count, else
    the smallest compatible type (vCPUs, memory, name); None when nothing there carries them. Without a catalogue
    (None or empty): the same rules from the names alone.
    """
    shape = shape_machine(gpu_type, count)
    if not machine_types:
        if "n1-" in machine_prefixes(gpu_type):
            return "n1-standard-4"
        return shape
    names = set(compatible_machine_types(gpu_type, count, machine_types))
    if not names:
        return None
    for preferred in ("n1-standard-4", shape):
        if preferred in names:
            return preferred
    fits = sorted((mt for mt in machine_types if mt.name in names), key=lambda m: (m.guest_cpus, m.memory_mb, m.name))
    return fits[0].name


def default_machine_type(gpu_type: str, count: int, machine_types: Sequence[MachineType]) -> str | None:
    """The machine type a GPU pool would use in a zone with this catalogue (see choose_machine_type)."""
    return choose_machine_type(gpu_type, count, machine_types) if machine_types else None


def machine_choice_key(zone: str, gpu_type: str, count: int) -> str:
    """The answer name the GPU step records its machine type under, so the plan takes the same one for the same
    zone, type and count (and a stale record for another zone is never read)."""
    return f"gpu_machine:{zone}:{gpu_type}:{count}"


def machine_words(gpu_type: str, names: Sequence[str], limit: int = 3, bundled: Iterable[str] = ()) -> str:
    """Short words for a table cell: attach-your-own families as `n1-*`, types that bundle GPUs by name."""
    rule_prefixes = machine_prefixes(gpu_type)
    fixed = set(bundled)
    shown: list[str] = []
    for name in names:
        prefix = next((p for p in rule_prefixes if name.startswith(p)), None)
        if prefix is not None and prefix.count("-") == 1 and name not in fixed:
            label = prefix + "*"
        else:
            label = name
        if label not in shown:
            shown.append(label)
    if len(shown) > limit:
        return ", ".join(shown[:limit]) + f" (+{len(shown) - limit})"
    return ", ".join(shown)


@dataclass(frozen=True, slots=True)
class ZonePlan:
    """One row of the planner: a zone, what it offers, the regional quota and whether the plan fits today."""

    zone: str
    max_cards: int
    machine_types: tuple[str, ...]
    """Compatible machine types in the zone (empty when none fits or the catalog could not be read)."""
    machines_known: bool
    quota: QuotaValue | None
    """The regional quota counting this GPU; None when compute could not read the region's quotas."""
    feasibility: Feasibility
    bundled: tuple[str, ...] = ()
    """Those of `machine_types` that come with their GPUs (G2, A2, A3...): the count is fixed by the name."""

    @property
    def region(self) -> str:
        """The zone's region."""
        return region_of(self.zone)

    @property
    def words(self) -> str:
        """The compatible machine types as a short table cell."""
        return machine_words(self.feasibility.request.gpu_type, self.machine_types, bundled=self.bundled)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the plan in this zone."""
        return self.feasibility.ok

    @property
    def certain(self) -> bool:
        """False when the verdict rests on quotas compute could not read (feasible only as far as known)."""
        return self.quota is not None

    @property
    def machine_type(self) -> str | None:
        """The machine type the plan was judged with."""
        return self.feasibility.request.machine_type


def plan_zone(
    request: GpuRequest,
    global_quotas: Mapping[str, QuotaValue],
    region: RegionQuotas | None,
    offers: AcceleratorOffers,
    machine_types: Sequence[MachineType] | None,
) -> ZonePlan:
    """Judge a plan in one zone: assess() plus "no machine type in this zone carries that many GPUs"."""
    gpu, count = request.gpu_type, request.count
    known = machine_types is not None
    catalog = tuple(machine_types or ())
    names = compatible_machine_types(gpu, count, catalog) if known else ()
    if request.machine_type is None and names:
        request = replace(request, machine_type=default_machine_type(gpu, count, catalog))
    feasibility = assess(request, global_quotas, region, offers, catalog)
    offer = offers.in_zone(gpu, request.zone)
    if known and not names and offer is not None and request.machine_type is None:
        counts = sorted({n for mt in catalog for g, n in mt.accelerators if g == gpu})
        extra = Blocker(
            kind=BlockerKind.MACHINE_TYPE_INCOMPATIBLE,
            message=f"No machine type in {request.zone} carries {count} x {gpu}"
            + (f"; its machine types come with {', '.join(map(str, counts))} of them." if counts else "."),
            alternatives=tuple(str(n) for n in counts),
        )
        feasibility = Feasibility(request=request, blockers=(*feasibility.blockers, extra))
    quota: QuotaValue | None = None
    if region is not None and not region.unreadable:
        metric = resolve_metric(gpu, region.quotas.keys(), request.preemptible)
        quota = region.get(metric) or QuotaValue(metric=metric, limit=0.0)
    return ZonePlan(
        zone=request.zone,
        max_cards=offer.max_cards if offer else 0,
        machine_types=names,
        machines_known=known,
        quota=quota,
        feasibility=feasibility,
        bundled=tuple(mt.name for mt in catalog if mt.name in names and mt.accelerators),
    )


def plan_zones(
    gpu_type: str,
    count: int,
    max_nodes: int,
    global_quotas: Mapping[str, QuotaValue],
    regions: Mapping[str, RegionQuotas | None],
    offers: AcceleratorOffers,
    machine_types: Mapping[str, Sequence[MachineType]],
    *,
    machine_type: str | None = None,
    preemptible: bool = False,
) -> tuple[ZonePlan, ...]:
    """Every zone offering the type, feasible ones first (then by region and zone)."""
    rows = [
        plan_zone(
            GpuRequest(gpu_type, count, max_nodes, zone, machine_type, preemptible),
            global_quotas,
            regions.get(region_of(zone)),
            offers,
            machine_types.get(zone),
        )
        for zone in offers.zones_for(gpu_type)
    ]
    return tuple(sorted(rows, key=lambda r: (not r.ok, not r.certain, r.region, r.zone)))


INELIGIBILITY_WORDS = {
    "NO_VALID_BILLING_ACCOUNT": (
        "the project has no valid paid billing account (Free Trial accounts cannot get GPUs): "
        "upgrade or link a paid billing account first"
    ),
    "NOT_ENOUGH_USAGE_HISTORY": (
        "the project has too little usage history for Google to grant more yet: use it for a while, "
        "or ask from an older project"
    ),
    "NOT_SUPPORTED": "this quota cannot be raised through the Cloud Quotas API: ask in the Console or contact sales",
    "OTHER": "Google did not say why: the Console's Quotas page may tell more",
}


def ineligibility_words(reason: str | None) -> str:
    """Plain words for Cloud Quotas' `ineligibility_reason` (unknown reasons are shown as they are)."""
    if reason and reason in INELIGIBILITY_WORDS:
        return INELIGIBILITY_WORDS[reason]
    return f"Google refuses increases for this project ({reason or 'no reason given'})"
