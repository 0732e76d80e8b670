"""Fake Cloud Quotas API v1: quota infos derived from the compute world, quota preferences that reconcile.

Scenario, per project under `projects.<id>.quotas` (all optional):
  eligible: true | false            ineligibilityReason: NO_VALID_BILLING_ACCOUNT | NOT_SUPPORTED | ...
  decision: grant | deny            decisions: {<quotaId>: grant | deny}   (per quota id overrides)
  pollsBeforeDecision: 2            how many GETs a new preference stays `reconciling: true`
  denyDetail: "..."                 stateDetail text of a denied preference
A granted preference raises the matching compute quota limit (global or the region in its dimensions).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp import compute
from kftui.sandbox.gcp.common import World, error, ok, project_access, read_json

SERVICE = "compute.googleapis.com"
API = "cloudquotas.googleapis.com"
_PREFS_ATTR = "_kftui_quota_preferences"
DEFAULT_POLLS = 2


def quota_id_for(metric: str, regional: bool) -> str:
    """Compute metric name -> Cloud Quotas quota id (GPUS_ALL_REGIONS -> GPUS-ALL-REGIONS-per-project)."""
    return metric.replace("_", "-") + ("-per-project-region" if regional else "-per-project")


def preferences(world: World) -> dict[str, dict[str, Any]]:
    """Every quota preference filed in this world, keyed by full resource name (for tests too)."""
    with world.lock:
        store: dict[str, dict[str, Any]] | None = vars(world).get(_PREFS_ATTR)
        if store is None:
            store = {}
            vars(world)[_PREFS_ATTR] = store
        return store


def _settings(world: World, project: str) -> dict[str, Any]:
    """The project's `quotas` scenario block."""
    proj = (world.scenario.get("projects") or {}).get(project) or {}
    block = proj.get("quotas") if isinstance(proj, dict) else None
    return block if isinstance(block, dict) else {}


def _eligibility(world: World, project: str) -> dict[str, Any]:
    """QuotaIncreaseEligibility for the project."""
    block = _settings(world, project)
    if block.get("eligible", True):
        return {"isEligible": True}
    return {"isEligible": False, "ineligibilityReason": block.get("ineligibilityReason", "OTHER")}


def _infos(world: World, project: str) -> dict[str, dict[str, Any]]:
    """QuotaInfo resources keyed by quota id, built from the project's compute quotas."""
    proj = compute.project_state(world, project) or {}
    parent = f"projects/{project}/locations/global/services/{SERVICE}"
    eligibility = _eligibility(world, project)
    out: dict[str, dict[str, Any]] = {}

    def base(metric: str, regional: bool) -> dict[str, Any]:
        qid = quota_id_for(metric, regional)
        return {
            "name": f"{parent}/quotaInfos/{qid}",
            "quotaId": qid,
            "metric": f"{SERVICE}/{metric.lower()}",
            "service": SERVICE,
            "isPrecise": True,
            "containerType": "PROJECT",
            "dimensions": ["region"] if regional else [],
            "metricDisplayName": metric.replace("_", " ").title(),
            "quotaDisplayName": metric.replace("_", " ").title() + (" per region" if regional else ""),
            "metricUnit": "1/{project}/{region}" if regional else "1/{project}",
            "quotaIncreaseEligibility": eligibility,
            "isFixed": False,
            "isConcurrent": False,
            "dimensionsInfos": [],
        }

    for metric, spec in (proj.get("quotas") or {}).items():
        info = base(metric, regional=False)
        limit = spec.get("limit", 0) if isinstance(spec, dict) else spec
        info["dimensionsInfos"] = [{"details": {"value": str(int(limit))}, "applicableLocations": ["global"]}]
        out[info["quotaId"]] = info
    for region, rspec in sorted((proj.get("regions") or {}).items()):
        for metric, spec in (rspec.get("quotas") or {}).items():
            qid = quota_id_for(metric, regional=True)
            info = out.setdefault(qid, base(metric, regional=True))
            limit = spec.get("limit", 0) if isinstance(spec, dict) else spec
            info["dimensionsInfos"].append(
                {
                    "dimensions": {"region": region},
                    "details": {"value": str(int(limit))},
                    "applicableLocations": [region],
                }
            )
    return out


def _now() -> str:
    """RFC 3339 timestamp as proto3 JSON writes it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _grant(world: World, project: str, pref: dict[str, Any]) -> None:
    """Apply a granted preference to the compute world, so compute reads see the new limit."""
    proj = compute.project_state(world, project)
    if proj is None:
        return
    qid: str = pref["quotaId"]
    value = float(pref["quotaConfig"]["preferredValue"])
    region = (pref.get("dimensions") or {}).get("region")
    if qid.endswith("-per-project-region") and region:
        metric = qid.removesuffix("-per-project-region").replace("-", "_")
        quotas = proj.setdefault("regions", {}).setdefault(region, {}).setdefault("quotas", {})
    else:
        metric = qid.removesuffix("-per-project").replace("-", "_")
        quotas = proj.setdefault("quotas", {})
    current = quotas.get(metric)
    if isinstance(current, dict):
        current["limit"] = value
    else:
        quotas[metric] = {"limit": value, "usage": 0}


def _advance(world: World, project: str, pref: dict[str, Any]) -> None:
    """One poll of a reconciling preference: count down, then grant or deny per scenario."""
    meta = pref["_sandbox"]
    if not pref.get("reconciling"):
        return
    if meta["polls_left"] > 0:
        meta["polls_left"] -= 1
        return
    block = _settings(world, project)
    decision = (block.get("decisions") or {}).get(pref["quotaId"], block.get("decision", "grant"))
    pref["reconciling"] = False
    pref["updateTime"] = _now()
    config = pref["quotaConfig"]
    if decision == "grant":
        config["grantedValue"] = config["preferredValue"]
        config["stateDetail"] = "Your quota request has been approved."
        _grant(world, project, pref)
    else:
        config["grantedValue"] = str(meta["current"])
        config["stateDetail"] = block.get(
            "denyDetail",
            "Your quota request was denied. Based on your project's usage history, we are unable to "
            "grant additional quota at this time.",
        )


def _public(pref: dict[str, Any]) -> dict[str, Any]:
    """A preference without the sandbox's private bookkeeping."""
    return {k: copy.deepcopy(v) for k, v in pref.items() if k != "_sandbox"}


def _contact_refusal(
    pref_in: dict[str, Any], info: dict[str, Any], dims: dict[str, str], config: dict[str, Any]
) -> web.Response | None:
    """QuotaPreference.contact_email, as documented: required when asking for more than the current value, and the
    Google account of a person with quota update permission, so a service account (which reads no mail) is refused.
    400 INVALID_ARGUMENT with a BadRequest field violation (the words are the documented rule's; no verbatim
    refusal text was found in public docs or issues)."""
    try:
        asked = int(config.get("preferredValue", 0))
    except (TypeError, ValueError):
        asked = 0
    if asked <= _current_value(info, dims):
        return None  # a decrease needs no contact
    email = str(pref_in.get("contactEmail") or "").strip()
    if not email:
        why = "contact_email is required when requesting a quota increase."
    elif email.endswith(".gserviceaccount.com"):
        why = (f"contact_email {email} is a service account; a quota increase needs the email address of a person "
               "with quota update permission on the project.")
    else:
        return None
    violation = {"field": "quota_preference.contact_email", "description": why}
    detail = {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
    return error(400, why, extra_details=[detail])


def _current_value(info: dict[str, Any], dimensions: dict[str, str]) -> int:
    """The quota's current value for the given dimensions (0 when none matches)."""
    for d in info.get("dimensionsInfos") or []:
        if (d.get("dimensions") or {}) == dimensions:
            return int(d["details"]["value"])
    return 0


def _access(request: web.Request, world: World, permission: str) -> str | web.Response:
    """This service's guard: the shared checks with its own API name."""
    return project_access(request, world, API, permission)


def add_routes(app: web.Application, world: World) -> None:
    """Register the Cloud Quotas v1 routes (projects only)."""
    infos_prefix = "/v1/projects/{project}/locations/{location}/services/{service}/quotaInfos"
    prefs_prefix = "/v1/projects/{project}/locations/{location}/quotaPreferences"

    async def list_infos(request: web.Request) -> web.Response:
        await read_json(request, world)
        service = request.match_info["service"]
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.get")
            if isinstance(project, web.Response):
                return project
            infos = list(_infos(world, project).values()) if service == SERVICE else []
        size = int(request.query.get("pageSize") or 0) or len(infos) or 1
        start = int(request.query.get("pageToken") or 0)
        body: dict[str, Any] = {"quotaInfos": infos[start : start + size]}
        if start + size < len(infos):
            body["nextPageToken"] = str(start + size)
        return ok(body)

    async def get_info(request: web.Request) -> web.Response:
        await read_json(request, world)
        qid = request.match_info["quota"]
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.get")
            if isinstance(project, web.Response):
                return project
            info = _infos(world, project).get(qid) if request.match_info["service"] == SERVICE else None
            if info is None:
                return error(404, f"QuotaInfo {request.path.removeprefix('/v1/')} not found.")
            return ok(info)

    async def create_pref(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        location = request.match_info["location"]
        pref_in: dict[str, Any] = body if isinstance(body, dict) else {}
        qid = str(pref_in.get("quotaId", ""))
        service = str(pref_in.get("service", ""))
        dims = {str(k): str(v) for k, v in (pref_in.get("dimensions") or {}).items()}
        config = pref_in.get("quotaConfig") or {}
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.update")
            if isinstance(project, web.Response):
                return project
            infos = _infos(world, project) if service == SERVICE else {}
            info = infos.get(qid)
            if info is None:
                return error(400, f"Quota id {qid!r} is not valid for service {service!r}.", "INVALID_QUOTA_ID")
            if sorted(dims) != sorted(info["dimensions"]):
                return error(
                    400,
                    f"Dimensions {sorted(dims)} do not match the quota's dimensions {info['dimensions']}.",
                    "INVALID_DIMENSIONS",
                )
            eligibility = _eligibility(world, project)
            if not eligibility["isEligible"]:
                reason = eligibility["ineligibilityReason"]
                return error(
                    400,
                    f"The project {project} is not eligible for a quota increase: {reason}.",
                    "QUOTA_INCREASE_INELIGIBLE",
                    metadata={"ineligibilityReason": reason, "quotaId": qid},
                )
            refused = _contact_refusal(pref_in, info, dims, config)
            if refused is not None:
                return refused
            pid = request.query.get("quotaPreferenceId") or f"auto-{world.next_id()}"
            name = f"projects/{request.match_info['project']}/locations/{location}/quotaPreferences/{pid}"
            store = preferences(world)
            if name in store:
                return error(409, f"Resource '{name}' already exists", "ALREADY_EXISTS")
            now = _now()
            pref: dict[str, Any] = {
                "name": name,
                "dimensions": dims,
                "quotaConfig": {
                    "preferredValue": str(int(config.get("preferredValue", 0))),
                    "traceId": hashlib.sha256(name.encode()).hexdigest()[:24],
                    "requestOrigin": "ORIGIN_UNSPECIFIED",
                },
                "etag": hashlib.sha256(f"{name}{now}".encode()).hexdigest()[:16],
                "createTime": now,
                "updateTime": now,
                "service": service,
                "quotaId": qid,
                "reconciling": True,
                "justification": str(pref_in.get("justification", "")),
                "contactEmail": str(pref_in.get("contactEmail", "")),
                "_sandbox": {
                    "polls_left": int(_settings(world, project).get("pollsBeforeDecision", DEFAULT_POLLS)),
                    "current": _current_value(info, dims),
                },
            }
            store[name] = pref
            return ok(_public(pref))

    async def get_pref(request: web.Request) -> web.Response:
        await read_json(request, world)
        name = request.path.removeprefix("/v1/")
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.get")
            if isinstance(project, web.Response):
                return project
            pref = preferences(world).get(name)
            if pref is None:
                return error(404, f"QuotaPreference {name} not found.")
            _advance(world, project, pref)
            return ok(_public(pref))

    async def list_prefs(request: web.Request) -> web.Response:
        await read_json(request, world)
        parent = request.path.removeprefix("/v1/").removesuffix("/quotaPreferences")
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.get")
            if isinstance(project, web.Response):
                return project
            items = [_public(p) for n, p in preferences(world).items() if n.startswith(parent + "/")]
        return ok({"quotaPreferences": items})

    async def patch_pref(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        name = request.path.removeprefix("/v1/")
        with world.lock:
            project = _access(request, world, "cloudquotas.quotas.update")
            if isinstance(project, web.Response):
                return project
            pref = preferences(world).get(name)
            if pref is None:
                return error(404, f"QuotaPreference {name} not found.")
            config = (body.get("quotaConfig") or {}) if isinstance(body, dict) else {}
            if "preferredValue" in config:
                pref["quotaConfig"]["preferredValue"] = str(int(config["preferredValue"]))
                pref["quotaConfig"].pop("grantedValue", None)
                pref["reconciling"] = True
                pref["_sandbox"]["polls_left"] = int(
                    _settings(world, project).get("pollsBeforeDecision", DEFAULT_POLLS)
                )
            for key in ("justification", "contactEmail"):
                if isinstance(body, dict) and key in body:
                    pref[key] = str(body[key])
            pref["updateTime"] = _now()
            return ok(_public(pref))

    app.router.add_get(infos_prefix, list_infos)
    app.router.add_get(infos_prefix + "/{quota}", get_info)
    app.router.add_post(prefs_prefix, create_pref)
    app.router.add_get(prefs_prefix, list_prefs)
    app.router.add_get(prefs_prefix + "/{pref}", get_pref)
    app.router.add_patch(prefs_prefix + "/{pref}", patch_pref)
