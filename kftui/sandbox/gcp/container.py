"""Fake GKE (Container v1): clusters and node pools whose creation is an operation finishing after polls.

Scenario, per project under `projects.<id>.container` (all optional):
  pollsToDone: 2                    GETs of an operation before it is DONE
  clusters: {<location>/<name>: {...}}   clusters that already exist (RUNNING), e.g. to show a 409
A node pool asking for a GPU type that a node zone does not offer is refused as GKE does (400).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp import compute
from kftui.sandbox.gcp.common import Operation, World, error, ok, project_access, read_json

_STATE_ATTR = "_kftui_container_clusters"
_ENDPOINT_ATTR = "_kftui_container_endpoint"
API = "container.googleapis.com"
DEFAULT_POLLS = 2
_FAKE_CA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIBsandboxkftuiFAKECA\n-----END CERTIFICATE-----\n"
).decode()


def connect_kube(world: World, url: str) -> None:
    """Make every cluster's endpoint the kube sandbox (a full http URL; real GKE gives a bare IP for https)."""
    with world.lock:
        vars(world)[_ENDPOINT_ATTR] = url
        for cluster in clusters(world).values():
            if cluster.get("endpoint"):
                cluster["endpoint"] = url


def _endpoint(world: World) -> str:
    """The endpoint a running cluster reports."""
    return str(vars(world).get(_ENDPOINT_ATTR) or "34.118.0.10")


def clusters(world: World) -> dict[str, dict[str, Any]]:
    """Every cluster in this world keyed by `projects/P/locations/L/clusters/C` (tests read it)."""
    with world.lock:
        store: dict[str, dict[str, Any]] | None = vars(world).get(_STATE_ATTR)
        if store is None:
            store = {}
            for pid, proj in (world.scenario.get("projects") or {}).items():
                block = proj.get("container") if isinstance(proj, dict) else None
                for key, spec in ((block or {}).get("clusters") or {}).items():
                    location, _, name = str(key).partition("/")
                    cluster = _new_cluster(pid, location, {**(spec or {}), "name": name})
                    _set_running(cluster, _endpoint(world))
                    store[cluster["_name"]] = cluster
            vars(world)[_STATE_ATTR] = store
        return store


def _now() -> str:
    """RFC 3339, as GKE writes times."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _polls(world: World, project: str) -> int:
    """Operation length from the scenario."""
    proj = (world.scenario.get("projects") or {}).get(project) or {}
    block = proj.get("container") if isinstance(proj, dict) else None
    return int((block or {}).get("pollsToDone", DEFAULT_POLLS))


def _zones_for(world: World, project: str, location: str, asked: list[str]) -> list[str]:
    """Node zones: those asked for, else the zones of a regional location (or the zone itself)."""
    if asked:
        return asked
    proj = compute.project_state(world, project) or {}
    zones = [z for z, r in sorted(compute.zones_of(proj).items()) if r == location]
    return zones or [location]


def _new_pool(project: str, location: str, cluster: str, spec: dict[str, Any], zones: list[str]) -> dict[str, Any]:
    """A NodePool resource (PROVISIONING) from the request's node pool."""
    pool = copy.deepcopy(spec)
    name = str(pool.get("name", "default-pool"))
    pool["name"] = name
    pool.setdefault("config", {}).setdefault("machineType", "e2-medium")
    pool["config"].setdefault("diskSizeGb", 100)
    pool.setdefault("initialNodeCount", 0)
    pool["locations"] = pool.get("locations") or zones
    pool["status"] = "PROVISIONING"
    pool["version"] = "1.33.5-gke.1201000"
    pool["selfLink"] = (
        f"https://container.googleapis.com/v1/projects/{project}/locations/{location}"
        f"/clusters/{cluster}/nodePools/{name}"
    )
    return pool


def _new_cluster(project: str, location: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Cluster resource (PROVISIONING) from the request's cluster."""
    cluster = copy.deepcopy(spec)
    name = str(cluster["name"])
    cluster["_name"] = f"projects/{project}/locations/{location}/clusters/{name}"
    cluster["location"] = location
    cluster["zone"] = location
    cluster["status"] = "PROVISIONING"
    cluster["createTime"] = _now()
    cluster["selfLink"] = f"https://container.googleapis.com/v1/{cluster['_name']}"
    cluster["currentMasterVersion"] = "1.33.5-gke.1201000"
    cluster["initialClusterVersion"] = "1.33.5-gke.1201000"
    return cluster


def _set_running(cluster: dict[str, Any], endpoint: str) -> None:
    """What a finished create leaves: endpoint, CA, RUNNING pools."""
    cluster["status"] = "RUNNING"
    cluster["endpoint"] = endpoint
    cluster.setdefault("masterAuth", {})["clusterCaCertificate"] = _FAKE_CA
    for pool in cluster.get("nodePools") or []:
        pool["status"] = "RUNNING"
    cluster["currentNodeCount"] = sum(int(p.get("initialNodeCount", 0)) for p in cluster.get("nodePools") or [])


def _work_on(world: World, cluster_key: str) -> None:
    """GKE goes on with a cluster's operations while nobody polls them: reading the cluster moves them one step."""
    for op in list(world.operations.values()):
        target = str((op.result or {}).get("targetLink", "")) if isinstance(op.result, dict) else ""
        if not op.done and (target.endswith(cluster_key) or f"{cluster_key}/nodePools/" in target):
            op.poll()


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """A resource without the sandbox's private keys."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def _offered_check(world: World, project: str, pool: dict[str, Any]) -> str | None:
    """Why GKE would refuse this pool's GPUs in its zones (None when it would not)."""
    proj = compute.project_state(world, project)
    if proj is None:
        return None
    for acc in (pool.get("config") or {}).get("accelerators") or []:
        gpu = str(acc.get("acceleratorType", ""))
        for zone in pool.get("locations") or []:
            if gpu not in compute.accelerators_in_zone(proj, zone):
                return f'Accelerator type "{gpu}" does not exist in zone {zone}.'
    return None


def _access(request: web.Request, world: World, permission: str) -> str | web.Response:
    """This service's guard: the shared checks with its own API name."""
    return project_access(request, world, API, permission)


def add_routes(app: web.Application, world: World) -> None:
    """Register the Container v1 routes kftui uses (location-based paths)."""
    base = "/v1/projects/{project}/locations/{location}"

    def start_op(project: str, location: str, kind: str, target: str, finish: Callable[[], None]) -> dict[str, Any]:
        """Create an operation in the world and return its JSON."""
        op_id = f"operation-{world.next_id()}-{abs(hash(target)) % 10**8:08d}"
        name = f"projects/{project}/locations/{location}/operations/{op_id}"
        meta = {"operationType": kind, "targetLink": target}

        def done() -> dict[str, str]:
            finish()
            return meta

        with world.lock:
            world.operations[name] = Operation(name=name, polls_left=_polls(world, project), finish=done)
            world.operations[name].result = meta
        return _op_json(name)

    def _op_json(name: str) -> dict[str, Any]:
        """An Operation resource as GKE returns it (short name, full selfLink)."""
        op = world.operations[name]
        meta = op.result if isinstance(op.result, dict) else {}
        location, op_id = name.split("/")[3], name.split("/")[5]
        out: dict[str, Any] = {
            "name": op_id,
            "zone": location,
            "location": location,
            "operationType": meta.get("operationType", "TYPE_UNSPECIFIED"),
            "status": "DONE" if op.done else "RUNNING",
            "selfLink": f"https://container.googleapis.com/v1/{name}",
            "targetLink": meta.get("targetLink", ""),
            "startTime": dt.datetime.fromtimestamp(op.started, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if op.done:
            out["endTime"] = _now()
        if op.error:
            out["error"] = op.error
            out["statusMessage"] = op.error.get("message", "")
        return out

    async def create_cluster(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        project, location = request.match_info["project"], request.match_info["location"]
        spec = body.get("cluster") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("name"):
            return error(400, "Cluster.name must be specified.")
        with world.lock:
            denied = _access(request, world, "container.clusters.create")
            if isinstance(denied, web.Response):
                return denied
            denied = _access(request, world, "iam.serviceAccounts.actAs")  # GKE: nodes run as the node SA
            if isinstance(denied, web.Response):
                return denied
            store = clusters(world)
            cluster = _new_cluster(project, location, spec)
            key = cluster["_name"]
            if key in store:
                return error(409, f"Already exists: {key}.", "ALREADY_EXISTS")
            zones = _zones_for(world, project, location, list(spec.get("locations") or []))
            cluster["locations"] = zones
            pools = spec.get("nodePools") or []
            if not pools:
                pools = [
                    {
                        "name": "default-pool",
                        "initialNodeCount": spec.get("initialNodeCount", 3),
                        "config": spec.get("nodeConfig") or {},
                    }
                ]
            cluster["nodePools"] = [_new_pool(project, location, spec["name"], p, zones) for p in pools]
            for pool in cluster["nodePools"]:
                refusal = _offered_check(world, project, pool)
                if refusal:
                    return error(400, refusal)
            store[key] = cluster

            def finish() -> None:
                _set_running(cluster, _endpoint(world))

            target = f"https://container.googleapis.com/v1/{key}"
            return ok(start_op(project, location, "CREATE_CLUSTER", target, finish))

    async def get_cluster(request: web.Request) -> web.Response:
        await read_json(request, world)
        key = request.path.removeprefix("/v1/")
        with world.lock:
            denied = _access(request, world, "container.clusters.get")
            if isinstance(denied, web.Response):
                return denied
            cluster = clusters(world).get(key)
            if cluster is None:
                return error(404, f"Not found: {key}.")
            _work_on(world, key)
            return ok(_public(cluster))

    async def list_clusters(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, location = request.match_info["project"], request.match_info["location"]
        with world.lock:
            denied = _access(request, world, "container.clusters.list")
            if isinstance(denied, web.Response):
                return denied
            items = [
                _public(c)
                for c in clusters(world).values()
                if c["_name"].split("/")[1] == project and location in ("-", c["location"])
            ]
        return ok({"clusters": items})

    async def delete_cluster(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, location = request.match_info["project"], request.match_info["location"]
        key = request.path.removeprefix("/v1/")
        with world.lock:
            denied = _access(request, world, "container.clusters.delete")
            if isinstance(denied, web.Response):
                return denied
            store = clusters(world)
            cluster = store.get(key)
            if cluster is None:
                return error(404, f"Not found: {key}.")
            cluster["status"] = "STOPPING"

            def finish() -> None:
                store.pop(key, None)

            target = f"https://container.googleapis.com/v1/{key}"
            return ok(start_op(project, location, "DELETE_CLUSTER", target, finish))

    async def create_pool(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        project, location = request.match_info["project"], request.match_info["location"]
        cluster_name = request.match_info["cluster"]
        spec = body.get("nodePool") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("name"):
            return error(400, "NodePool.name must be specified.")
        key = f"projects/{project}/locations/{location}/clusters/{cluster_name}"
        with world.lock:
            denied = _access(request, world, "container.clusters.update")
            if isinstance(denied, web.Response):
                return denied
            denied = _access(request, world, "iam.serviceAccounts.actAs")  # GKE: nodes run as the node SA
            if isinstance(denied, web.Response):
                return denied
            cluster = clusters(world).get(key)
            if cluster is None:
                return error(404, f"Not found: {key}.")
            if cluster["status"] != "RUNNING":
                return error(
                    400,
                    f"Cluster is running incompatible operation (status {cluster['status']}).",
                    "CLUSTER_NOT_RUNNING",
                )
            if any(p["name"] == spec["name"] for p in cluster.get("nodePools") or []):
                return error(409, f"Already exists: {key}/nodePools/{spec['name']}.", "ALREADY_EXISTS")
            pool = _new_pool(project, location, cluster_name, spec, list(cluster.get("locations") or []))
            refusal = _offered_check(world, project, pool)
            if refusal:
                return error(400, refusal)
            cluster.setdefault("nodePools", []).append(pool)
            cluster["status"] = "RECONCILING"

            def finish() -> None:
                pool["status"] = "RUNNING"
                cluster["status"] = "RUNNING"

            target = f"https://container.googleapis.com/v1/{key}/nodePools/{spec['name']}"
            return ok(start_op(project, location, "CREATE_NODE_POOL", target, finish))

    async def get_pool(request: web.Request) -> web.Response:
        await read_json(request, world)
        key = request.path.removeprefix("/v1/")
        cluster_key, _, pool_name = key.rpartition("/nodePools/")
        with world.lock:
            denied = _access(request, world, "container.clusters.get")
            if isinstance(denied, web.Response):
                return denied
            cluster = clusters(world).get(cluster_key)
            for pool in (cluster or {}).get("nodePools") or []:
                if pool["name"] == pool_name:
                    return ok(_public(pool))
        return error(404, f"Not found: {key}.")

    async def list_pools(request: web.Request) -> web.Response:
        await read_json(request, world)
        cluster_key = request.path.removeprefix("/v1/").removesuffix("/nodePools")
        with world.lock:
            denied = _access(request, world, "container.clusters.get")
            if isinstance(denied, web.Response):
                return denied
            cluster = clusters(world).get(cluster_key)
            if cluster is None:
                return error(404, f"Not found: {cluster_key}.")
            return ok({"nodePools": [_public(p) for p in cluster.get("nodePools") or []]})

    async def get_operation(request: web.Request) -> web.Response:
        await read_json(request, world)
        name = request.path.removeprefix("/v1/")
        with world.lock:
            denied = _access(request, world, "container.operations.get")
            if isinstance(denied, web.Response):
                return denied
            op = world.operations.get(name)
            if op is None:
                return error(404, f"Not found: {name}.")
            op.poll()
            return ok(_op_json(name))

    app.router.add_post(base + "/clusters", create_cluster)
    app.router.add_get(base + "/clusters", list_clusters)
    app.router.add_get(base + "/clusters/{cluster}", get_cluster)
    app.router.add_delete(base + "/clusters/{cluster}", delete_cluster)
    app.router.add_post(base + "/clusters/{cluster}/nodePools", create_pool)
    app.router.add_get(base + "/clusters/{cluster}/nodePools", list_pools)
    app.router.add_get(base + "/clusters/{cluster}/nodePools/{pool}", get_pool)
    app.router.add_get(base + "/operations/{operation}", get_operation)
