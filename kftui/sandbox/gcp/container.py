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
from kftui.sandbox.gcp.common import Operation, World, caller, error, guard, has_permission, ok, read_json
from kftui.sandbox.gcp.faulting import FAIL_KEY, container_forbidden

_STATE_ATTR = "_kftui_container_clusters"
_ENDPOINT_ATTR = "_kftui_container_endpoint"
_CA_ATTR = "_kftui_container_ca"
API = "container.googleapis.com"
DEFAULT_POLLS = 2
_FAKE_CA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIBsandboxkftuiFAKECA\n-----END CERTIFICATE-----\n"
).decode()
BARE_ENDPOINT = "34.118.0.10"
"""What a running cluster reports when no kube sandbox is attached: GKE gives a bare IP (kubectl adds https://)."""


def connect_kube(world: World, url: str, ca: str | None = None) -> None:
    """Make every cluster's endpoint the kube sandbox: its bare host:port served over https with the CA `ca`
    (base64 PEM), as real GKE reports them, or a full http URL."""
    with world.lock:
        vars(world)[_ENDPOINT_ATTR] = url
        if ca:
            vars(world)[_CA_ATTR] = ca
        for cluster in clusters(world).values():
            if cluster.get("endpoint"):
                cluster["endpoint"] = url
                cluster.setdefault("masterAuth", {})["clusterCaCertificate"] = _ca(world)


def _ca(world: World) -> str:
    """The cluster CA a running cluster reports (the kube sandbox's own when it serves https)."""
    return str(vars(world).get(_CA_ATTR) or _FAKE_CA)


def _endpoint(world: World) -> str:
    """The endpoint a running cluster reports."""
    return str(vars(world).get(_ENDPOINT_ATTR) or BARE_ENDPOINT)


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
                    zones = _zones_for(world, pid, location, list(cluster.get("locations") or []))
                    cluster["locations"] = zones
                    pools = cluster.get("nodePools") or [{"name": "default-pool", "initialNodeCount": 3}]
                    cluster["nodePools"] = [_new_pool(pid, location, name, p, zones) for p in pools]
                    _set_running(cluster, _endpoint(world), _ca(world))
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


VERSION = "1.33.5-gke.1201000"
"""A REGULAR-channel GKE version of the 26.03 era, for master and nodes alike."""

_ENUMS: dict[str, tuple[str, ...]] = {
    "channel": ("UNSPECIFIED", "RAPID", "REGULAR", "STABLE", "EXTENDED"),
    "gpuDriverVersion": ("GPU_DRIVER_VERSION_UNSPECIFIED", "INSTALLATION_DISABLED", "DEFAULT", "LATEST"),
    "gpuSharingStrategy": ("GPU_SHARING_STRATEGY_UNSPECIFIED", "TIME_SHARING", "MPS"),
    "resourceType": (),
    "autoscalingProfile": ("PROFILE_UNSPECIFIED", "OPTIMIZE_UTILIZATION", "BALANCED"),
    "locationPolicy": ("LOCATION_POLICY_UNSPECIFIED", "BALANCED", "ANY"),
    "strategy": ("NODE_POOL_UPDATE_STRATEGY_UNSPECIFIED", "", "", "BLUE_GREEN", "SURGE"),
}
"""Enum fields a client may send as numbers (`$alt=json;enum-encoding=int`) and the names GKE stores and returns."""


def named_enums(node: Any) -> Any:
    """The request with every numeric enum turned into its name, as GKE stores it (gcloud reads names only)."""
    if isinstance(node, list):
        return [named_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        names = _ENUMS.get(key)
        if names and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
            out[key] = names[value] or str(value)
        else:
            out[key] = named_enums(value)
    return out


def _region(location: str) -> str:
    """us-central1-a -> us-central1 (a region stays itself)."""
    parts = location.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else location


def _new_pool(project: str, location: str, cluster: str, spec: dict[str, Any], zones: list[str]) -> dict[str, Any]:
    """A NodePool resource (PROVISIONING) from the request's node pool, with the fields GKE fills in."""
    pool: dict[str, Any] = named_enums(copy.deepcopy(spec))
    name = str(pool.get("name", "default-pool"))
    pool["name"] = name
    config = pool.setdefault("config", {})
    config.setdefault("machineType", "e2-medium")
    config.setdefault("diskSizeGb", 100)
    config.setdefault("diskType", "pd-balanced")
    config.setdefault("imageType", "COS_CONTAINERD")
    config.setdefault("serviceAccount", "default")
    config.setdefault("oauthScopes", ["https://www.googleapis.com/auth/cloud-platform"])
    config.setdefault("metadata", {"disable-legacy-endpoints": "true"})
    config.setdefault("shieldedInstanceConfig", {"enableIntegrityMonitoring": True})
    config.setdefault("windowsNodeConfig", {})
    config.setdefault("workloadMetadataConfig", {"mode": "GKE_METADATA"})
    config.setdefault("loggingConfig", {"variantConfig": {"variant": "DEFAULT"}})
    config.setdefault("resourceLabels", {"goog-gke-node-pool-provisioning-model": "on-demand"})
    pool.setdefault("initialNodeCount", 0)
    pool["locations"] = pool.get("locations") or zones
    pool["status"] = "PROVISIONING"
    pool["version"] = VERSION
    pool.setdefault("management", {"autoUpgrade": True, "autoRepair": True})
    pool.setdefault("maxPodsConstraint", {"maxPodsPerNode": "110"})
    pool["podIpv4CidrSize"] = 24
    pool["upgradeSettings"] = {"maxSurge": 1, "strategy": "SURGE"}
    pool["networkConfig"] = {"podRange": "gke-pods", "podIpv4CidrBlock": "10.4.0.0/14"}
    pool["etag"] = f"{abs(hash((project, cluster, name))) % 10**8:08x}-pool"
    pool["selfLink"] = (
        f"https://container.googleapis.com/v1/projects/{project}/locations/{location}"
        f"/clusters/{cluster}/nodePools/{name}"
    )
    pool["instanceGroupUrls"] = [
        f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}/instanceGroupManagers/"
        f"gke-{cluster}-{name}-{abs(hash((cluster, name, zone))) % 16**8:08x}-grp"
        for zone in pool["locations"]
    ]
    return pool


def _new_cluster(project: str, location: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Cluster resource (PROVISIONING) from the request's cluster, with every field GKE answers with."""
    cluster: dict[str, Any] = named_enums(copy.deepcopy(spec))
    name = str(cluster["name"])
    region = _region(location)
    cluster["_name"] = f"projects/{project}/locations/{location}/clusters/{name}"
    cluster["location"] = location
    cluster["zone"] = location
    cluster["status"] = "PROVISIONING"
    cluster["createTime"] = _now()
    cluster["selfLink"] = f"https://container.googleapis.com/v1/{cluster['_name']}"
    cluster["id"] = f"{abs(hash(cluster['_name'])) % 16**32:032x}"
    cluster["etag"] = f"{abs(hash(cluster['_name'])) % 10**8:08x}"
    cluster["initialClusterVersion"] = VERSION
    cluster["currentMasterVersion"] = VERSION
    cluster["currentNodeVersion"] = VERSION
    cluster.setdefault("releaseChannel", {"channel": "REGULAR"})
    cluster.setdefault("loggingService", "logging.googleapis.com/kubernetes")
    cluster.setdefault("monitoringService", "monitoring.googleapis.com/kubernetes")
    cluster.setdefault("network", "default")
    cluster.setdefault("subnetwork", "default")
    cluster["clusterIpv4Cidr"] = "10.4.0.0/14"
    cluster["servicesIpv4Cidr"] = "34.118.224.0/20"
    cluster.setdefault("addonsConfig", {
        "httpLoadBalancing": {}, "horizontalPodAutoscaling": {}, "networkPolicyConfig": {"disabled": True},
        "gcePersistentDiskCsiDriverConfig": {"enabled": True}, "gcsFuseCsiDriverConfig": {},
    })  # fmt: skip
    cluster.setdefault("legacyAbac", {})
    cluster.setdefault("networkPolicy", {})
    cluster["ipAllocationPolicy"] = {
        "useIpAliases": True, "clusterIpv4Cidr": "10.4.0.0/14", "servicesIpv4Cidr": "34.118.224.0/20",
        "clusterSecondaryRangeName": "gke-pods", "clusterIpv4CidrBlock": "10.4.0.0/14",
        "servicesIpv4CidrBlock": "34.118.224.0/20", "stackType": "IPV4",
    }  # fmt: skip
    cluster.setdefault("masterAuthorizedNetworksConfig", {})
    cluster.setdefault("maintenancePolicy", {"resourceVersion": "e3b0c442"})
    cluster.setdefault("autoscaling", {})
    cluster["autoscaling"].setdefault("autoscalingProfile", "BALANCED")
    cluster["networkConfig"] = {
        "network": f"projects/{project}/global/networks/default",
        "subnetwork": f"projects/{project}/regions/{region}/subnetworks/default",
        "defaultSnatStatus": {}, "serviceExternalIpsConfig": {}, "datapathProvider": "LEGACY_DATAPATH",
    }  # fmt: skip
    cluster["defaultMaxPodsConstraint"] = {"maxPodsPerNode": "110"}
    cluster.setdefault("authenticatorGroupsConfig", {})
    cluster["databaseEncryption"] = {"state": "DECRYPTED"}
    cluster["shieldedNodes"] = {"enabled": True}
    cluster["notificationConfig"] = {"pubsub": {}}
    cluster["loggingConfig"] = {"componentConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]}}
    cluster["monitoringConfig"] = {
        "componentConfig": {"enableComponents": ["SYSTEM_COMPONENTS"]},
        "managedPrometheusConfig": {"enabled": True},
    }
    cluster["nodePoolDefaults"] = {"nodeConfigDefaults": {"loggingConfig": {"variantConfig": {"variant": "DEFAULT"}}}}
    cluster["securityPostureConfig"] = {"mode": "BASIC", "vulnerabilityMode": "VULNERABILITY_MODE_UNSPECIFIED"}
    cluster["privateClusterConfig"] = {"privateEndpoint": "10.128.0.2", "publicEndpoint": "34.118.0.10"}
    cluster["masterAuth"] = {"clusterCaCertificate": _FAKE_CA}
    cluster["satisfiesPzs"] = False
    cluster["satisfiesPzi"] = False
    return cluster


def _set_running(cluster: dict[str, Any], endpoint: str, ca: str = _FAKE_CA) -> None:
    """What a finished create leaves: endpoint, CA, RUNNING pools, node counts."""
    cluster["status"] = "RUNNING"
    cluster["endpoint"] = endpoint
    cluster.setdefault("masterAuth", {})["clusterCaCertificate"] = ca
    for pool in cluster.get("nodePools") or []:
        pool["status"] = "RUNNING"
    cluster["currentNodeCount"] = sum(
        int(p.get("initialNodeCount", 0)) * max(1, len(p.get("locations") or []))
        for p in cluster.get("nodePools") or []
    )


def _set_failed(cluster: dict[str, Any], message: str, pool: dict[str, Any] | None = None) -> None:
    """What a failed operation leaves: the cluster (or the pool) in ERROR, with GKE's words."""
    target = pool if pool is not None else cluster
    target["status"] = "ERROR"
    target["statusMessage"] = message
    stockout = "resources" in message
    target["conditions"] = [
        {
            "code": "GCE_STOCKOUT" if stockout else "UNKNOWN",
            "message": message,
            "canonicalCode": "RESOURCE_EXHAUSTED" if stockout else "UNKNOWN",
        }
    ]
    if pool is not None:
        cluster["status"] = "RUNNING"


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
    """This service's guard: the shared checks with its own API name, and GKE's own words for a missing permission."""
    project, refusal = guard(request, world, request.match_info["project"], API)
    if refusal is not None:
        return refusal
    assert project is not None
    if not has_permission(project, permission, world, caller(request)):
        name = request.path.removeprefix("/v1/")
        parent = "/".join(name.split("/")[:2])
        resource = name if permission in ("container.clusters.get", "container.clusters.delete") else parent
        return container_forbidden(permission, resource.split("/nodePools")[0])
    return str(project["id"])


def add_routes(app: web.Application, world: World) -> None:
    """Register the Container v1 routes kftui uses (location-based paths)."""
    base = "/v1/projects/{project}/locations/{location}"

    def start_op(
        project: str,
        location: str,
        kind: str,
        target: str,
        finish: Callable[[], None],
        fail: dict[str, Any] | None = None,
        on_fail: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Create an operation in the world and return its JSON; with `fail`, it ends DONE with that error."""
        op_id = f"operation-{world.next_id()}-{abs(hash(target)) % 10**8:08d}"
        name = f"projects/{project}/locations/{location}/operations/{op_id}"
        meta = {"operationType": kind, "targetLink": target}

        def done() -> dict[str, str]:
            if fail is not None:
                world.operations[name].error = {"code": int(fail["code"]), "message": str(fail["message"])}
                if on_fail is not None:
                    on_fail(str(fail["message"]))
                return meta
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
                _set_running(cluster, _endpoint(world), _ca(world))

            def failed(message: str) -> None:
                _set_failed(cluster, message)

            target = f"https://container.googleapis.com/v1/{key}"
            return ok(start_op(project, location, "CREATE_CLUSTER", target, finish, request.get(FAIL_KEY), failed))

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

            def failed(message: str) -> None:
                _set_failed(cluster, message, pool)

            target = f"https://container.googleapis.com/v1/{key}/nodePools/{spec['name']}"
            return ok(start_op(project, location, "CREATE_NODE_POOL", target, finish, request.get(FAIL_KEY), failed))

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
