"""The Kubernetes REST surface over the world: discovery, list, watch, get, tables for kubectl, pod logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from kftui.sandbox.faults import FaultPlan
from kftui.sandbox.kube import faults, fields, generic, proto, streams
from kftui.sandbox.kube import objects as o
from kftui.sandbox.kube import types as t_
from kftui.sandbox.kube.loggen import NS, LogRun
from kftui.sandbox.kube.types import ResourceType
from kftui.sandbox.kube.world import KubeWorld, LogStream, Refused, deep_merge

AGGREGATED = "as=APIGroupDiscoveryList"
AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
"""kubectl asks /api and /apis for aggregated discovery first and reads it only under this content type."""

FLOOD_CHUNK = 20_000
TRUE = ("true", "True", "1")

def status_error(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> web.Response:
    """A metav1.Status failure body, the shape every Kubernetes client parses."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = dict(details)
    return web.json_response(body, status=code)


def _not_found(rtype: ResourceType, name: str) -> web.Response:
    """The API's 404 for a missing object: `deployments.apps "x" not found`."""
    return status_error(404, "NotFound", f'{rtype.key} "{name}" not found',
                        {"name": name, "group": rtype.group, "kind": rtype.plural})


def _json(body: Any, status: int = 200) -> web.Response:
    """A JSON response, serialised once (large objects: no pretty printing)."""
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json")


def _apply_body(text: str) -> Any:
    """An apply patch: kubectl sends JSON (a subset of YAML, read much faster as JSON); people send YAML."""
    import yaml

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def as_version(obj: o.Obj, rtype: ResourceType, version: str | None) -> o.Obj:
    """An object read at a served version: the trivial conversion (apiVersion rewritten, fields kept)."""
    if version is not None and version != rtype.storage:
        obj = dict(obj)
        obj["apiVersion"] = rtype.api_version(version)
    return obj


def parse_time(text: str) -> int:
    """RFC3339 to epoch nanoseconds."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * NS + _frac_ns(text)


def _frac_ns(text: str) -> int:
    """The fractional-second part of an RFC3339 string, in nanoseconds."""
    if "." not in text:
        return 0
    frac = text.split(".", 1)[1].rstrip("Z").split("+")[0].split("-")[0]
    return int((frac + "000000000")[:9])


def human_age(ts: str | None, now: float | None = None) -> str:
    """kubectl's HumanDuration for an object's age."""
    if not ts:
        return "<unknown>"
    secs = int((now or time.time()) - parse_time(ts) / NS)
    if secs < 0:
        return "0s"
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d" if days < 730 else f"{days // 365}y"


def pod_status_text(pod: Mapping[str, Any]) -> tuple[str, str, int]:
    """(READY, STATUS, RESTARTS) computed as kubectl's printPod does."""
    st = pod.get("status") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    statuses = st.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or [])
    ready = restarts = 0
    running = False
    for cs in reversed(statuses):
        restarts += int(cs.get("restartCount", 0))
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            term = state["terminated"]
            reason = term.get("reason") or (
                f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}")
        elif cs.get("ready") and "running" in state:
            running = True
            ready += 1
    if reason == "Completed" and running:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        reason = "Running" if conds.get("Ready") == "True" else "NotReady"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return f"{ready}/{total}", str(reason), restarts


def _col(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    """One Table column definition."""
    return {"name": name, "type": kind, "format": fmt, "description": "", "priority": priority}


def to_table(resource: str, items: list[o.Obj], rv: int, include: str | None) -> dict[str, Any]:
    """The meta.k8s.io/v1 Table kubectl asks for, so `kubectl get` prints real columns."""
    now = time.time()
    cols: list[dict[str, Any]]
    rows: list[dict[str, Any]] = []
    if resource == "pods":
        cols = [_col("Name", fmt="name"), _col("Ready"), _col("Status"), _col("Restarts", "integer"), _col("Age"),
                _col("IP", priority=1), _col("Node", priority=1)]
    elif resource == "events":
        cols = [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Message")]
    elif resource == "namespaces":
        cols = [_col("Name", fmt="name"), _col("Status"), _col("Age")]
    elif resource == "nodes":
        cols = [_col("Name", fmt="name"), _col("Status"), _col("Roles"), _col("Age"), _col("Version")]
    else:
        cols = [_col("Name", fmt="name"), _col("Age")]
    for it in items:
        meta = it.get("metadata") or {}
        age = human_age(meta.get("creationTimestamp"), now)
        if resource == "pods":
            ready, status, restarts = pod_status_text(it)
            cells: list[Any] = [meta["name"], ready, status, restarts, age, it.get("status", {}).get("podIP", "<none>"),
                                it.get("spec", {}).get("nodeName", "<none>")]
        elif resource == "events":
            inv = it.get("involvedObject") or {}
            cells = [human_age(it.get("lastTimestamp"), now), it.get("type", ""), it.get("reason", ""),
                     f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", it.get("message", "")]
        elif resource == "namespaces":
            cells = [meta["name"], it.get("status", {}).get("phase", "Active"), age]
        elif resource == "nodes":
            cells = [meta["name"], "Ready", "<none>", age, "v1.33.5-gke.1000"]
        else:
            cells = [meta["name"], age]
        obj: Any = it if include == "Object" else {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        if include == "None":
            obj = None
        rows.append({"cells": cells, "object": obj})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": cols, "rows": rows}


class KubeApi:
    """aiohttp handlers bound to one world."""

    def __init__(self, world: KubeWorld, plan: FaultPlan | None = None) -> None:
        """Remember the world these handlers serve and the fault plan they act out."""
        self.world = world
        self.plan = plan if plan is not None else FaultPlan()

    def app(self) -> web.Application:
        """The aiohttp application: one catch-all route, dispatched by path shape."""
        app = web.Application(middlewares=[faults.middleware(self.plan)], client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        return app

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route a request the way the API server's path grammar does."""
        path = request.path.rstrip("/") or "/"
        self.world.requests.append((request.method, str(request.rel_url)))
        if (stream := streams.stream_kind(path)) is not None:
            ns, pod, kind = stream
            serve = streams.serve_exec if kind == "exec" else streams.serve_portforward
            return await serve(request, self.world.get("pods", ns, pod), ns, pod)
        if path == "/version":
            return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.5-gke.1000",
                                      "platform": "linux/amd64", "goVersion": "go1.24.6", "compiler": "gc"})
        types = list(self.world.types.values())
        groups = t_.group_versions(types)
        if path in ("/api", "/apis"):
            core = path == "/api"
            if AGGREGATED in request.headers.get("Accept", ""):
                return web.json_response(t_.aggregated(types, core), content_type=AGGREGATED_TYPE)
            if core:
                return web.json_response({"kind": "APIVersions", "versions": ["v1"],
                                          "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                          "serverAddress": request.host}]})
            listed = [t_.api_group(g, v) for g, v in sorted(groups.items()) if g]
            return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": listed})
        if path in ("/", "/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/openapi/v2":
            # An empty protobuf Document: kubectl's client-side validation then knows no kind and skips, as a
            # real server's does for a custom resource whose CRD is not there yet, so the first apply of a CRD with
            # its resources fails the way it does on GKE ("no matches for kind ... ensure CRDs are installed first").
            return web.Response(body=b"", content_type="application/octet-stream")
        if path == "/openapi/v3":
            return web.json_response(t_.openapi_root(types))
        if path.startswith("/openapi/v3/"):
            key = path.removeprefix("/openapi/v3/")
            group, version = ("", "v1") if key == "api/v1" else generic.split_api(key.removeprefix("apis/"))
            return web.json_response(t_.openapi_doc(types, group, version))
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2 and parts[1] in groups:
            return web.json_response({"kind": "APIGroup", "apiVersion": "v1",
                                      **t_.api_group(parts[1], groups[parts[1]])})
        if path == "/api/v1" or (parts[0] == "apis" and len(parts) == 3 and parts[2] in groups.get(parts[1], [])):
            group, version = ("", "v1") if path == "/api/v1" else (parts[1], parts[2])
            gv = f"{group}/{version}" if group else version
            return web.json_response({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                      "resources": t_.resource_list(types, group, version)})
        if parts[0] == "api" and len(parts) > 2 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) > 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return status_error(404, "NotFound", "the server could not find the requested resource")
        return await self._resource(request, group, version, rest)

    async def _resource(self, request: web.Request, group: str, version: str,
                        parts: list[str]) -> web.StreamResponse:
        """Resource paths: [namespaces/NS/]RESOURCE[/NAME[/SUB]] of one served group/version."""
        ns: str | None = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            ns, parts = parts[1], parts[2:]
        plural = parts[0]
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        rtype = self.world.find_type(group, version, plural)
        if rtype is None:
            return status_error(404, "NotFound", "the server could not find the requested resource")
        resource = rtype.key
        if sub == "log" and resource == "pods" and ns is not None and name is not None:
            return await self.pod_log(request, ns, name)
        if sub is not None and (sub not in rtype.subresources or sub == "log"):
            return status_error(404, "NotFound", "the server could not find the requested resource")
        scope_ns = ns if rtype.namespaced else None
        if rtype.namespaced and name is not None and ns is None:
            return status_error(404, "NotFound", "the server could not find the requested resource")
        if request.method == "GET" and name is None:
            if request.query.get("watch") in TRUE:
                return await self.watch(request, resource, scope_ns, version)
            return self.list_response(request, resource, scope_ns, version)
        if request.method == "GET" and name is not None:
            return self.single_response(request, rtype, scope_ns, name, version)
        if request.method == "DELETE" and name is not None:
            if resource == "pods":
                gone = self.world.delete_pod(str(ns), name)
            else:
                gone = self.world.delete(resource, scope_ns, name)
            return _json(as_version(gone, rtype, version)) if gone is not None else _not_found(rtype, name)
        if request.method in ("PATCH", "PUT", "POST") and (name is not None or request.method == "POST"):
            return await self.write(request, rtype, version, scope_ns, name, sub)
        return status_error(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    async def write(self, request: web.Request, rtype: ResourceType, version: str, ns: str | None,
                    name: str | None, sub: str | None) -> web.Response:
        """POST, PUT, PATCH (merge, strategic, apply) through admission, with field managers and conflicts."""
        import yaml

        q = request.query
        decoded: dict[str, Any] | None = None
        if "protobuf" in request.content_type:
            try:
                decoded = proto.decode(await request.read())
            except (ValueError, IndexError):
                # a real server reads every kind's protobuf; this one knows a few, and answers others as one without
                return status_error(415, "UnsupportedMediaType",
                                    "the body of the request was in an unknown format - accepted media types "
                                    f"include: application/json, application/yaml, {generic.APPLY_PATCH}")
        text = "" if decoded is not None else await request.text()
        apply = request.method == "PATCH" and request.content_type == generic.APPLY_PATCH
        try:
            body = decoded if decoded is not None else _apply_body(text) if apply else json.loads(text or "{}")
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            return status_error(400, "BadRequest", f"error decoding {'YAML' if apply else 'JSON'}: {exc}")
        if not isinstance(body, dict):
            return status_error(400, "BadRequest", "the body of the request was in an unknown format")
        agent = fields.default_manager(request.headers.get("User-Agent", ""))
        manager_name = q.get("fieldManager") or agent
        old = self.world.get(rtype.key, ns, name) if name is not None else None
        if apply:
            if not q.get("fieldManager"):
                return status_error(400, "BadRequest", "PATCH, fieldManager: Required value: is required for apply "
                                                       "patch")
            if body.get("kind") != rtype.kind or body.get("apiVersion") != rtype.api_version(version):
                return status_error(400, "BadRequest", f"apply patch for {rtype.key} must be "
                                                       f"{rtype.api_version(version)} {rtype.kind}")
            new: dict[str, Any] = body
            manager = fields.Manager(manager_name, "Apply", rtype.api_version(version))
        elif request.method == "PATCH":
            if old is None:
                return _not_found(rtype, str(name))
            if request.content_type == "application/json-patch+json":
                return status_error(415, "UnsupportedMediaType", "json patches are not supported by the sandbox")
            new = deep_merge(old, body)
            manager = fields.Manager(manager_name, "Update", rtype.api_version(version))
        else:
            if request.method == "POST":
                name = str((body.get("metadata") or {}).get("name") or "")
                if not name:
                    return status_error(422, "Invalid", f"{rtype.kind} \"\" is invalid: metadata.name: Required "
                                                        "value: name or generateName is required")
                old = self.world.get(rtype.key, ns, name)
                if old is not None:
                    return status_error(409, "AlreadyExists", f'{rtype.key} "{name}" already exists',
                                        {"name": name, "group": rtype.group, "kind": rtype.plural})
            elif old is None:
                return _not_found(rtype, str(name))
            else:
                sent_rv = str((body.get("metadata") or {}).get("resourceVersion") or "")
                if sent_rv and sent_rv != str(old["metadata"].get("resourceVersion")):
                    return status_error(409, "Conflict", f'Operation cannot be fulfilled on {rtype.key} "{name}": '
                                                         "the object has been modified; please apply your changes "
                                                         "to the latest version and try again",
                                        {"name": name, "group": rtype.group, "kind": rtype.plural})
            new = body
            manager = fields.Manager(manager_name, "Update", rtype.api_version(version))
        assert name is not None
        if sub == "status" and old is not None:
            new = {**old, "status": new.get("status", old.get("status"))}
        keep_status = sub != "status" and "status" in rtype.subresources and rtype.key != "pods"
        try:
            obj, created = self.world.store(rtype.key, ns, name, new, operation=request.method, manager=manager,
                                            force=q.get("force") in TRUE, apply=apply, keep_status=keep_status)
        except Refused as exc:
            r = exc.refusal
            return status_error(r.code, r.reason, r.message, r.details)
        return _json(as_version(obj, rtype, version), status=201 if created else 200)

    def single_response(self, request: web.Request, rtype: ResourceType, ns: str | None, name: str,
                        version: str | None) -> web.Response:
        """One object as JSON, or as the same Table a list gets when kubectl asks for one (`kubectl get pod NAME`
        prints the pod columns, not NAME/AGE)."""
        obj = self.world.get(rtype.key, ns, name)
        if obj is None:
            return _not_found(rtype, name)
        obj = as_version(obj, rtype, version)
        if "as=Table" in request.headers.get("Accept", ""):
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
            return _json(to_table(rtype.plural, [obj], int(rv) if rv.isdigit() else 0,
                                  request.query.get("includeObject")))
        return _json(obj)

    def list_response(self, request: web.Request, resource: str, ns: str | None,
                      version: str | None = None) -> web.StreamResponse:
        """A list, filtered by selectors, as JSON or as a Table when kubectl asks for one."""
        rtype = self.world.types[resource]
        labels = o.parse_selector(request.query.get("labelSelector"))
        fields_ = o.parse_selector(request.query.get("fieldSelector"))
        items, rv = self.world.list_objects(resource, ns, keep=lambda it: o.matches(it, labels, fields_))
        items = [as_version(it, rtype, version) for it in items]
        if "as=Table" in request.headers.get("Accept", ""):
            return _json(to_table(rtype.plural, items, rv, request.query.get("includeObject")))
        return _json({"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version(version),
                      "metadata": {"resourceVersion": str(rv)}, "items": items})

    async def watch(self, request: web.Request, resource: str, ns: str | None,
                    version: str | None = None) -> web.StreamResponse:
        """A watch stream: initial ADDEDs or history after resourceVersion, live changes, 410, timeoutSeconds."""
        labels = o.parse_selector(request.query.get("labelSelector"))
        fields = o.parse_selector(request.query.get("fieldSelector"))
        rv_text = request.query.get("resourceVersion", "")
        timeout = float(request.query.get("timeoutSeconds", "0") or 0)
        bookmarks = request.query.get("allowWatchBookmarks") in TRUE
        deadline = time.monotonic() + timeout if timeout > 0 else None
        if rv_text not in ("", "0") and not rv_text.isdigit():
            return status_error(400, "BadRequest", f"invalid resource version: {rv_text}")
        resp = faults.stream_response(request, {"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        wake = asyncio.Event()
        self.world.add_waker(wake)
        rtype = self.world.types[resource]
        api, kind = rtype.api_version(version), rtype.kind

        async def send(kind_: str, obj: Mapping[str, Any]) -> None:
            obj = as_version(dict(obj), rtype, version) if kind_ != "BOOKMARK" else obj
            await resp.write(json.dumps({"type": kind_, "object": obj}).encode() + b"\n")

        def in_scope(obj: Mapping[str, Any] | None) -> bool:
            if obj is None:
                return False
            if ns is not None and (obj.get("metadata") or {}).get("namespace") != ns:
                return False
            return o.matches(obj, labels, fields)

        try:
            if rv_text in ("", "0"):
                items, last = self.world.list_objects(resource, ns, keep=in_scope)
                for it in items:
                    if in_scope(it):
                        await send("ADDED", it)
            else:
                last = int(rv_text)
            expirations = self.world.expirations
            while True:
                wake.clear()
                changes = self.world.changes_after(last)
                if changes is None or self.world.expirations != expirations:
                    await send("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                         "message": f"too old resource version: {last} ({self.world.oldest_rv})",
                                         "reason": "Expired", "code": 410})
                    break
                for c in changes:
                    last = c.rv
                    if c.resource != resource:
                        continue
                    new_ok = c.type != "DELETED" and in_scope(c.obj)
                    old_ok = in_scope(c.old)
                    if c.type == "DELETED":
                        if old_ok:
                            await send("DELETED", c.obj)
                    elif new_ok:
                        await send("MODIFIED" if old_ok else "ADDED", c.obj)
                    elif old_ok:
                        await send("DELETED", c.obj)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if bookmarks:
                        await send("BOOKMARK", {"kind": kind, "apiVersion": api,
                                                "metadata": {"resourceVersion": str(last)}})
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), remaining)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.world.remove_waker(wake)
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    async def pod_log(self, request: web.Request, ns: str, name: str) -> web.StreamResponse:
        """GET pods/NAME/log with follow, container, previous, timestamps, since*, tailLines, limitBytes."""
        q = request.query
        pod = self.world.get("pods", ns, name)
        if pod is None:
            return _not_found(self.world.types["pods"], name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = q.get("container")
        if not container:
            if len(names) != 1:
                return status_error(400, "BadRequest", f"a container name must be specified for pod {name}, "
                                                       f"choose one of: [{' '.join(names)}]")
            container = names[0]
        elif container not in names:
            return status_error(400, "BadRequest", f"container {container} is not valid for pod {name}")
        if not pod["spec"].get("nodeName"):
            return web.Response(body=b"", content_type="text/plain")  # unscheduled: the API streams nothing
        statuses = pod["status"].get("containerStatuses") or []
        status: dict[str, Any] = next((s for s in statuses if s["name"] == container), {})
        runs = self.world.log_runs(ns, name, container)
        previous = q.get("previous") in TRUE
        follow = q.get("follow") in TRUE
        if previous:
            if len(runs) < 2:
                return status_error(400, "BadRequest",
                                    f'previous terminated container "{container}" in pod "{name}" not found')
            run = runs[-2]
            follow = False
        else:
            waiting = (status.get("state") or {}).get("waiting")
            if waiting is not None or not runs:
                reason = (waiting or {}).get("reason", "ContainerCreating")
                why = "trying and failing to pull image" if reason in (
                    "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName") else reason
                return status_error(400, "BadRequest",
                                    f'container "{container}" in pod "{name}" is waiting to start: {why}')
            run = runs[-1]
        try:
            timestamps = q.get("timestamps") in TRUE
            since_ns: int | None = None
            if q.get("sinceTime"):
                since_ns = parse_time(q["sinceTime"]) // NS * NS  # the API keeps whole seconds only
            elif q.get("sinceSeconds"):
                since_ns = time.time_ns() - int(q["sinceSeconds"]) * NS
            tail = int(q["tailLines"]) if q.get("tailLines") else None
            limit = int(q["limitBytes"]) if q.get("limitBytes") else None
        except ValueError as exc:
            return status_error(400, "BadRequest", f"invalid log options: {exc}")
        avail = run.available()
        start = run.first_at_or_after(since_ns, avail) if since_ns is not None else 0
        if tail is not None:
            start = max(start, avail - tail)
        resp = faults.stream_response(request, {"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        stream = LogStream(ns, name, container)
        if follow:
            self.world.log_streams.add(stream)
        try:
            await self._stream_log(resp, run, runs, stream, start, timestamps, limit, follow)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.world.log_streams.discard(stream)
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    async def _stream_log(self, resp: web.StreamResponse, run: LogRun, runs: list[LogRun], stream: LogStream,
                          idx: int, timestamps: bool, limit: int | None, follow: bool) -> None:
        """Write lines from idx on; when following, keep going as lines appear until ended or dropped."""
        sent_bytes = 0
        sent_lines = 0
        close_lines = run.close_after_lines if follow else None
        close_at = time.monotonic() + run.close_after_seconds if follow and run.close_after_seconds else None
        while True:
            stream.wake.clear()
            if stream.dropped:
                return
            avail = run.available()
            if idx < avail:
                end = min(avail, idx + FLOOD_CHUNK)
                if close_lines is not None:
                    end = min(end, idx + close_lines - sent_lines)
                data = run.chunk(idx, end, timestamps)
                if limit is not None and sent_bytes + len(data) >= limit:
                    await resp.write(data[: limit - sent_bytes])
                    return
                await resp.write(data)
                sent_bytes += len(data)
                sent_lines += end - idx
                idx = end
                if close_lines is not None and sent_lines >= close_lines:
                    return
                continue
            if not follow or run.ended_at is not None:
                return
            now = time.time_ns()
            nxt = run.next_time(idx)
            wait = None if nxt is None else max(0.0, (nxt - now) / NS)
            if close_at is not None:
                left = close_at - time.monotonic()
                if left <= 0:
                    return
                wait = left if wait is None else min(wait, left)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream.wake.wait(), wait)
