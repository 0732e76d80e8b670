"""Fake Compute Engine v1 (read side): quotas, regions, zones, accelerator and machine types.

State lives per project under `projects.<id>.compute` in the scenario (see demo/gcp_compute.yaml for the
schema). It is copied once into a mutable per-world store, so a granted quota preference can raise a limit.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp.common import World, caller, guard, has_permission, ok, read_json
from kftui.sandbox.gcp.faulting import compute_forbidden

BASE = "https://www.googleapis.com/compute/v1"
SERVICE = "compute.googleapis.com"

# GCE's own catalog, trimmed to the families kftui reasons about: (cpus, memory MB, GPU type, GPUs, shared).
MACHINE_CATALOG: dict[str, tuple[int, int, str | None, int, bool]] = {
    "e2-medium": (2, 4096, None, 0, True),
    "e2-standard-4": (4, 16384, None, 0, False),
    "e2-standard-8": (8, 32768, None, 0, False),
    "n1-standard-4": (4, 15360, None, 0, False),
    "n1-standard-8": (8, 30720, None, 0, False),
    "n1-highmem-8": (8, 53248, None, 0, False),
    "g2-standard-4": (4, 16384, "nvidia-l4", 1, False),
    "g2-standard-8": (8, 32768, "nvidia-l4", 1, False),
    "g2-standard-24": (24, 98304, "nvidia-l4", 2, False),
    "a2-highgpu-1g": (12, 87040, "nvidia-tesla-a100", 1, False),
    "a2-ultragpu-1g": (12, 174080, "nvidia-a100-80gb", 1, False),
    "a3-highgpu-8g": (208, 1916928, "nvidia-h100-80gb", 8, False),
    "a3-edgegpu-8g": (208, 1916928, "nvidia-h100-80gb", 8, False),
}
_LISTED_ONLY = frozenset({"a3-edgegpu-8g"})
"""A3 Edge is offered in a few zones only: a zone has it when its scenario lists it (machineTypes)."""
# Machine types offered in every zone; the GPU-bundled ones only where their GPU is offered.
_EVERYWHERE = ("e2-medium", "e2-standard-4", "e2-standard-8", "n1-standard-4", "n1-standard-8", "n1-highmem-8")

_STATE_ATTR = "_kftui_compute_state"


def compute_error(status: int, message: str, reason: str, domain: str = "global") -> web.Response:
    """Compute's error JSON: the legacy `errors` list alongside code/message (and the rpc status name)."""
    names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 503: "UNAVAILABLE"}
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": names.get(status, "UNKNOWN"),
        }
    }
    return web.json_response(body, status=status)


def state(world: World) -> dict[str, dict[str, Any]]:
    """The mutable per-project compute state: each project's scenario block, deep-copied on first use."""
    with world.lock:
        store: dict[str, dict[str, Any]] | None = vars(world).get(_STATE_ATTR)
        if store is None:
            store = {}
            vars(world)[_STATE_ATTR] = store
        return store


def project_state(world: World, project: str) -> dict[str, Any] | None:
    """One project's compute state (empty for a known project without a `compute` block), else None."""
    with world.lock:
        store = state(world)
        if project not in store:
            projects = world.scenario.get("projects") or {}
            if project not in projects:
                return None
            block = (projects[project] or {}).get("compute")
            store[project] = copy.deepcopy(block) if isinstance(block, dict) else {}
        return store[project]


def _numeric_id(text: str) -> str:
    """A stable uint64-looking id (compute sends ids as decimal strings)."""
    return str(zlib.crc32(text.encode()) * 1000003 + 17)


def _quota_rows(quotas: dict[str, Any]) -> list[dict[str, Any]]:
    """Scenario `{METRIC: {limit, usage}}` (or a bare number) to compute's `quotas` list."""
    rows = []
    for metric, raw in quotas.items():
        spec = raw if isinstance(raw, dict) else {"limit": raw}
        rows.append({"metric": metric, "limit": float(spec.get("limit", 0)), "usage": float(spec.get("usage", 0))})
    return rows


def zones_of(proj: dict[str, Any]) -> dict[str, str]:
    """Zone name -> region name for every region of the project."""
    out: dict[str, str] = {}
    for region, spec in (proj.get("regions") or {}).items():
        for zone in spec.get("zones") or []:
            out[zone] = region
    return out


def _zone_json(project: str, zone: str, region: str) -> dict[str, Any]:
    """A Zone resource."""
    return {
        "kind": "compute#zone",
        "id": _numeric_id(zone),
        "name": zone,
        "description": zone,
        "status": "UP",
        "region": f"{BASE}/projects/{project}/regions/{region}",
        "selfLink": f"{BASE}/projects/{project}/zones/{zone}",
        "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
        "supportsPzs": False,
    }


def _region_json(project: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Region resource with its quotas, or a quotaStatusWarning and no quotas when unreadable."""
    out: dict[str, Any] = {
        "kind": "compute#region",
        "id": _numeric_id(region),
        "name": region,
        "description": region,
        "status": "UP",
        "zones": [f"{BASE}/projects/{project}/zones/{z}" for z in spec.get("zones") or []],
        "selfLink": f"{BASE}/projects/{project}/regions/{region}",
        "supportsPzs": False,
    }
    warning = spec.get("quotaStatusWarning")
    if warning:
        w = warning if isinstance(warning, dict) else {}
        out["quotaStatusWarning"] = {
            "code": w.get("code", "UNREACHABLE"),
            "message": w.get("message", f"Quota information for region '{region}' is temporarily unavailable."),
            "data": [{"key": "region", "value": region}],
        }
        partial = spec.get("quotas") if w.get("partial") else None
        if partial:
            out["quotas"] = _quota_rows(partial)
    else:
        out["quotas"] = _quota_rows(spec.get("quotas") or {})
    return out


def _accelerator_json(project: str, zone: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An AcceleratorType resource in one zone."""
    return {
        "kind": "compute#acceleratorType",
        "id": _numeric_id(f"{zone}/{name}"),
        "name": name,
        "description": spec.get("description", name),
        "maximumCardsPerInstance": int(spec.get("maxCards", 8)),
        "zone": f"{BASE}/projects/{project}/zones/{zone}",
        "selfLink": f"{BASE}/projects/{project}/zones/{zone}/acceleratorTypes/{name}",
    }


def accelerators_in_zone(proj: dict[str, Any], zone: str) -> list[str]:
    """GPU type names the scenario offers in a zone."""
    return [n for n, s in (proj.get("accelerators") or {}).items() if zone in (s.get("zones") or [])]


def _machine_names(proj: dict[str, Any], zone: str) -> list[str]:
    """Machine types offered in a zone: the scenario's explicit list, else the catalog rule."""
    explicit = (proj.get("machineTypes") or {}).get(zone)
    if explicit is not None:
        return [str(n) for n in explicit]
    offered = set(accelerators_in_zone(proj, zone))
    names = list(_EVERYWHERE)
    names += [n for n, spec in MACHINE_CATALOG.items()
              if spec[2] is not None and spec[2] in offered and n not in _LISTED_ONLY]
    return names


def _shape_from_name(name: str) -> tuple[int, int, str | None, int, bool]:
    """A predefined type the catalog lacks, sized from its name as GCE names them (e2-standard-8: 8 vCPU, 32 GB)."""
    parts = name.split("-")
    per_cpu_gb = {"standard": 4, "highmem": 8, "highcpu": 1}.get(parts[1] if len(parts) > 1 else "", 4)
    cpus = int(parts[-1]) if parts[-1].isdigit() else 2
    return cpus, cpus * per_cpu_gb * 1024, None, 0, False


def _machine_json(project: str, zone: str, name: str) -> dict[str, Any]:
    """A MachineType resource; GPU-bundled families list their `accelerators` as GCE does."""
    cpus, memory, gpu, count, shared = MACHINE_CATALOG.get(name) or _shape_from_name(name)
    out: dict[str, Any] = {
        "kind": "compute#machineType",
        "id": _numeric_id(name),
        "name": name,
        "description": f"{cpus} vCPUs, {memory / 1024:g} GB RAM",
        "guestCpus": cpus,
        "memoryMb": memory,
        "maximumPersistentDisks": 128,
        "maximumPersistentDisksSizeGb": "263168",
        "zone": zone,
        "isSharedCpu": shared,
        "architecture": "X86_64",
        "selfLink": f"{BASE}/projects/{project}/zones/{zone}/machineTypes/{name}",
    }
    if gpu:
        out["accelerators"] = [{"guestAcceleratorType": gpu, "guestAcceleratorCount": count}]
    return out


def _no_results(scope: str) -> dict[str, Any]:
    """The warning compute puts on an aggregated scope with nothing in it."""
    return {
        "warning": {
            "code": "NO_RESULTS_ON_PAGE",
            "message": f"There are no results for scope '{scope}' on this page.",
            "data": [{"key": "scope", "value": scope}],
        }
    }


def _unreachable(scope: str) -> dict[str, Any]:
    """The warning compute puts on an aggregated scope it could not reach (without partial success)."""
    return {
        "warning": {
            "code": "UNREACHABLE",
            "message": f"Scope '{scope}' is unreachable.",
            "data": [{"key": "scope", "value": scope}],
        }
    }


def _access(request: web.Request, world: World, permission: str) -> tuple[str, dict[str, Any]] | web.Response:
    """Auth, project visibility, API enablement and IAM as Google applies them; then the project state."""
    project, refusal = guard(request, world, request.match_info["project"], SERVICE)
    if refusal is not None:
        return refusal
    assert project is not None
    pid = str(project["id"])
    if not has_permission(project, permission, world, caller(request)):  # compute's own words, not IAM's ErrorInfo
        scope = "/".join(request.path.removeprefix("/compute/v1/").split("/")[:2])
        return compute_forbidden(permission, scope)
    return pid, project_state(world, pid) or {}


def _list_body(kind: str, path: str, items: Any) -> dict[str, Any]:
    """Compute's list envelope: the kind, the collection path as id and selfLink, the items."""
    return {"kind": kind, "id": path, "items": items, "selfLink": f"{BASE}/{path}"}


def _not_found(path: str) -> web.Response:
    """Compute's 404 for a resource path, in its own words."""
    return compute_error(404, f"The resource '{path}' was not found", "notFound")


def add_routes(app: web.Application, world: World) -> None:
    """Register the Compute v1 read routes kftui uses."""
    prefix = "/compute/v1/projects/{project}"

    async def get_project(request: web.Request) -> web.Response:
        await read_json(request, world)
        with world.lock:
            found = _access(request, world, "compute.projects.get")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            return ok(
                {
                    "kind": "compute#project",
                    "id": _numeric_id(project),
                    "name": project,
                    "quotas": _quota_rows(proj.get("quotas") or {}),
                    "selfLink": f"{BASE}/projects/{project}",
                    "defaultNetworkTier": "PREMIUM",
                    "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
                }
            )

    async def list_regions(request: web.Request) -> web.Response:
        await read_json(request, world)
        with world.lock:
            found = _access(request, world, "compute.regions.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            items = [_region_json(project, r, s) for r, s in sorted((proj.get("regions") or {}).items())]
        return ok(_list_body("compute#regionList", f"projects/{project}/regions", items))

    async def get_region(request: web.Request) -> web.Response:
        await read_json(request, world)
        region = request.match_info["region"]
        with world.lock:
            found = _access(request, world, "compute.regions.get")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            spec = (proj.get("regions") or {}).get(region)
            if spec is None:
                return _not_found(f"projects/{project}/regions/{region}")
            return ok(_region_json(project, region, spec))

    async def list_zones(request: web.Request) -> web.Response:
        await read_json(request, world)
        with world.lock:
            found = _access(request, world, "compute.zones.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            items = [_zone_json(project, z, r) for z, r in sorted(zones_of(proj).items())]
        return ok(_list_body("compute#zoneList", f"projects/{project}/zones", items))

    async def get_zone(request: web.Request) -> web.Response:
        await read_json(request, world)
        zone = request.match_info["zone"]
        with world.lock:
            found = _access(request, world, "compute.zones.get")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            region = zones_of(proj).get(zone)
            if region is None:
                return _not_found(f"projects/{project}/zones/{zone}")
            return ok(_zone_json(project, zone, region))

    async def aggregated_accelerators(request: web.Request) -> web.Response:
        await read_json(request, world)
        partial = request.query.get("returnPartialSuccess", "").lower() == "true"
        with world.lock:
            found = _access(request, world, "compute.acceleratorTypes.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            unreachable = [str(z) for z in proj.get("unreachableZones") or []]
            items: dict[str, Any] = {}
            for zone in sorted(zones_of(proj)):
                scope = f"zones/{zone}"
                if zone in unreachable:
                    if not partial:
                        items[scope] = _unreachable(scope)
                    continue
                names = accelerators_in_zone(proj, zone)
                specs = proj.get("accelerators") or {}
                if names:
                    items[scope] = {"acceleratorTypes": [_accelerator_json(project, zone, n, specs[n]) for n in names]}
                else:
                    items[scope] = _no_results(scope)
        body: dict[str, Any] = {
            "kind": "compute#acceleratorTypeAggregatedList",
            "id": f"projects/{project}/aggregated/acceleratorTypes",
            "items": items,
            "selfLink": f"{BASE}/projects/{project}/aggregated/acceleratorTypes",
        }
        if unreachable and partial:
            body["unreachables"] = [f"zones/{z}" for z in unreachable]
        return ok(body)

    async def list_accelerators(request: web.Request) -> web.Response:
        await read_json(request, world)
        zone = request.match_info["zone"]
        with world.lock:
            found = _access(request, world, "compute.acceleratorTypes.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            if zone not in zones_of(proj):
                return _not_found(f"projects/{project}/zones/{zone}")
            specs = proj.get("accelerators") or {}
            items = [_accelerator_json(project, zone, n, specs[n]) for n in accelerators_in_zone(proj, zone)]
        return ok(_list_body("compute#acceleratorTypeList", f"projects/{project}/zones/{zone}/acceleratorTypes", items))

    async def get_accelerator(request: web.Request) -> web.Response:
        await read_json(request, world)
        zone = request.match_info["zone"]
        name = request.match_info["accelerator"]
        with world.lock:
            found = _access(request, world, "compute.acceleratorTypes.get")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            if name not in accelerators_in_zone(proj, zone):
                return _not_found(f"projects/{project}/zones/{zone}/acceleratorTypes/{name}")
            return ok(_accelerator_json(project, zone, name, proj["accelerators"][name]))

    async def list_machine_types(request: web.Request) -> web.Response:
        await read_json(request, world)
        zone = request.match_info["zone"]
        with world.lock:
            found = _access(request, world, "compute.machineTypes.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            if zone not in zones_of(proj):
                return _not_found(f"projects/{project}/zones/{zone}")
            items = [_machine_json(project, zone, n) for n in _machine_names(proj, zone)]
        return ok(_list_body("compute#machineTypeList", f"projects/{project}/zones/{zone}/machineTypes", items))

    async def get_machine_type(request: web.Request) -> web.Response:
        await read_json(request, world)
        zone = request.match_info["zone"]
        name = request.match_info["machine"]
        with world.lock:
            found = _access(request, world, "compute.machineTypes.get")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            if zone not in zones_of(proj) or name not in _machine_names(proj, zone):
                return _not_found(f"projects/{project}/zones/{zone}/machineTypes/{name}")
            return ok(_machine_json(project, zone, name))

    async def aggregated_machine_types(request: web.Request) -> web.Response:
        await read_json(request, world)
        with world.lock:
            found = _access(request, world, "compute.machineTypes.list")
            if isinstance(found, web.Response):
                return found
            project, proj = found
            items: dict[str, Any] = {}
            for zone in sorted(zones_of(proj)):
                items[f"zones/{zone}"] = {
                    "machineTypes": [_machine_json(project, zone, n) for n in _machine_names(proj, zone)]
                }
        return ok(_list_body("compute#machineTypeAggregatedList", f"projects/{project}/aggregated/machineTypes", items))

    app.router.add_get(prefix, get_project)
    app.router.add_get(prefix + "/regions", list_regions)
    app.router.add_get(prefix + "/regions/{region}", get_region)
    app.router.add_get(prefix + "/zones", list_zones)
    app.router.add_get(prefix + "/zones/{zone}", get_zone)
    app.router.add_get(prefix + "/aggregated/acceleratorTypes", aggregated_accelerators)
    app.router.add_get(prefix + "/zones/{zone}/acceleratorTypes", list_accelerators)
    app.router.add_get(prefix + "/zones/{zone}/acceleratorTypes/{accelerator}", get_accelerator)
    app.router.add_get(prefix + "/zones/{zone}/machineTypes", list_machine_types)
    app.router.add_get(prefix + "/zones/{zone}/machineTypes/{machine}", get_machine_type)
    app.router.add_get(prefix + "/aggregated/machineTypes", aggregated_machine_types)
