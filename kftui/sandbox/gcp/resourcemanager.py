"""Fake Cloud Resource Manager v3: projects get/search/list/create, operations, IAM policy questions."""

from __future__ import annotations

import fnmatch
import re
import shlex
import time
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp.common import (
    World,
    caller,
    error,
    guard,
    has_permission,
    not_found,
    ok,
    operation_json,
    project_of,
    read_json,
    start_operation,
    unauthenticated,
)

SERVICE = "cloudresourcemanager.googleapis.com"
PROJECT_TYPE = "type.googleapis.com/google.cloud.resourcemanager.v3.Project"
CREATE_META_TYPE = "type.googleapis.com/google.cloud.resourcemanager.v3.CreateProjectMetadata"
NEW_PROJECT_SERVICES = (
    "bigquery.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
)
"""APIs Google enables in a freshly created project (compute and container are not among them)."""

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def project_json(project: dict[str, Any]) -> dict[str, Any]:
    """A scenario project as a v3 Project message in proto3 JSON."""
    out: dict[str, Any] = {
        "name": f"projects/{project['number']}",
        "projectId": project["id"],
        "state": str(project.get("state", "ACTIVE")),
        "displayName": str(project.get("display_name", project["id"])),
        "createTime": str(project.get("create_time", "2024-01-15T10:00:00.000Z")),
        "updateTime": str(project.get("create_time", "2024-01-15T10:00:00.000Z")),
        "etag": f'W/"{project["number"]}"',
    }
    if project.get("parent"):
        out["parent"] = str(project["parent"])
    if project.get("labels"):
        out["labels"] = {str(k): str(v) for k, v in project["labels"].items()}
    return out


def project_json_v1(project: dict[str, Any]) -> dict[str, Any]:
    """The same project as Resource Manager v1 spells it (what `gcloud projects describe` reads)."""
    v3 = project_json(project)
    out: dict[str, Any] = {
        "projectNumber": str(project["number"]),
        "projectId": v3["projectId"],
        "lifecycleState": v3["state"],
        "name": v3["displayName"],
        "createTime": v3["createTime"],
    }
    if "parent" in v3:
        kind, _, ident = v3["parent"].partition("/")
        out["parent"] = {"type": kind.rstrip("s"), "id": ident}
    if "labels" in v3:
        out["labels"] = v3["labels"]
    return out


def _field_value(project: dict[str, Any], name: str) -> list[str]:
    """The values a search query term may match for one field name."""
    pj = project_json(project)
    if name in {"id", "projectid"}:
        return [pj["projectId"]]
    if name in {"name", "displayname"}:
        return [pj["displayName"]]
    if name == "parent":
        parent = pj.get("parent", "")
        return [parent, parent.split("/")[-1]] if parent else []
    if name == "state":
        return [pj["state"]]
    if name.startswith("labels."):
        value = (pj.get("labels") or {}).get(name[7:])
        return [value] if value is not None else []
    return []


def matches(project: dict[str, Any], query: str) -> bool:
    """The basics of projects.search's query: `field:value` terms (AND), `*` wildcards, bare words."""
    try:
        terms = shlex.split(query)
    except ValueError:
        terms = query.split()
    for term in terms:
        if term.upper() in {"AND"}:
            continue
        field_name, sep, value = term.partition(":")
        if not sep:
            field_name, sep, value = term.partition("=")
        value = value.strip("\"'").lower()
        if sep:
            values = [v.lower() for v in _field_value(project, field_name.lower())]
            if not any(fnmatch.fnmatchcase(v, value) for v in values):
                return False
        else:
            word = term.lower().strip("\"'")
            hay = [project["id"].lower(), str(project.get("display_name", "")).lower()]
            if not any(word.strip("*") in h for h in hay):
                return False
    return True


def _visible(world: World) -> list[dict[str, Any]]:
    """Every project the caller can see, in id order."""
    out = []
    for pid in sorted(world.scenario.get("projects") or {}):
        project = project_of(world, pid)
        if project is not None:
            out.append(project)
    return out


def _page(request: web.Request, items: list[dict[str, Any]], key: str) -> web.Response:
    """Apply pageSize/pageToken the way list methods do."""
    size = int(request.query.get("pageSize") or 0) or 500
    start = int(request.query.get("pageToken") or 0)
    body: dict[str, Any] = {}
    if items[start : start + size]:
        body[key] = items[start : start + size]
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return ok(body)


def policy_etag(project: dict[str, Any]) -> str:
    """A new etag after every change, as IAM's optimistic concurrency needs (base64, like Google's)."""
    import base64

    version = int((project.get("iam") or {}).get("policy_version", 0))
    return base64.b64encode(f"{project['number']}:{version}".encode()).decode()


def policy_json(project: dict[str, Any]) -> dict[str, Any]:
    """google.iam.v1.Policy in proto3 JSON: version 1, the bindings, the current etag."""
    bindings = [
        {"role": str(b["role"]), "members": [str(m) for m in b.get("members") or []]}
        for b in (project.get("iam") or {}).get("bindings") or []
    ]
    policy: dict[str, Any] = {"version": 1, "etag": policy_etag(project)}
    if bindings:
        policy["bindings"] = bindings
    return policy


_MEMBER = re.compile(
    r"^(?:(?:user|serviceAccount|group|domain|deleted:user|principal|principalSet):\S+|allUsers|allAuthenticatedUsers)$"
)
"""IAM member shapes (a `user:` prefix, a service account, a group ...)."""


def policy_problem(policy: object) -> str | None:
    """What IAM refuses in a policy to set (INVALID_ARGUMENT), or None."""
    if not isinstance(policy, dict):
        return "Request contains an invalid argument."
    for binding in policy.get("bindings") or []:
        if not isinstance(binding, dict) or not str(binding.get("role", "")).startswith(("roles/", "projects/")):
            return "Request contains an invalid argument."
        for member in binding.get("members") or []:
            if not _MEMBER.match(str(member)):
                return f"Invalid member type: {member}"
    return None


def add_routes(app: web.Application, world: World) -> None:
    """Register Resource Manager v3 routes."""

    async def get_project(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE, "resourcemanager.projects.get")
        if err is not None:
            return err
        assert project is not None
        v1 = request.path.startswith("/v1/")
        return ok(project_json_v1(project) if v1 else project_json(project))

    async def search(request: web.Request) -> web.Response:
        await read_json(request, world)
        if caller(request) is None:
            return unauthenticated(request, SERVICE)
        query = request.query.get("query", "")
        found = [project_json(p) for p in _visible(world) if matches(p, query)]
        return _page(request, found, "projects")

    async def list_projects(request: web.Request) -> web.Response:
        await read_json(request, world)
        if caller(request) is None:
            return unauthenticated(request, SERVICE)
        parent = request.query.get("parent", "")
        if not parent:
            return error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        found = [project_json(p) for p in _visible(world) if str(p.get("parent") or "") == parent]
        return _page(request, found, "projects")

    async def create(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        who = caller(request)
        if who is None:
            return unauthenticated(request, SERVICE)
        pid = str(body.get("projectId", ""))
        if not _PROJECT_ID.match(pid):
            return error(
                400,
                f"field [project.project_id] has issue [project_id contains invalid characters]: {pid}",
                "INVALID_ARGUMENT",
            )
        if world.scenario.get("can_create_projects", True) is False:
            return error(
                403,
                "Permission 'resourcemanager.projects.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/{body.get('parent') or 'projects'}' "
                "(or it may not exist).",
                "IAM_PERMISSION_DENIED",
                domain=SERVICE,
                metadata={"permission": "resourcemanager.projects.create"},
            )
        projects = world.scenario.setdefault("projects", {})
        if pid in projects:
            return error(409, "Requested entity already exists", "ALREADY_EXISTS")
        number = str(900000000000 + world.next_id())
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        entry: dict[str, Any] = {
            "id": pid,
            "number": number,
            "display_name": str(body.get("displayName") or pid),
            "parent": body.get("parent") or None,
            "state": "ACTIVE",
            "create_time": now,
            "labels": body.get("labels") or {},
            "billing": {"enabled": False},
            "services": dict.fromkeys(NEW_PROJECT_SERVICES, "ENABLED"),
            "iam": {
                "bindings": [{"role": "roles/owner", "members": [f"user:{who}"]}],
                "granted": ["*"],
            },
        }

        def finish() -> dict[str, Any]:
            with world.lock:
                projects[pid] = entry
            return {"@type": PROJECT_TYPE, **project_json(entry)}

        op = start_operation(world, "operations/cp.", finish)
        meta = {"@type": CREATE_META_TYPE, "createTime": now, "gettable": False, "ready": False}
        return ok(operation_json(op, meta))

    async def get_operation(request: web.Request) -> web.Response:
        await read_json(request, world)
        if caller(request) is None:
            return unauthenticated(request, SERVICE)
        name = "operations/" + request.match_info["op"]
        op = world.operations.get(name)
        if op is None:
            return not_found()
        with world.lock:
            op.poll()
        meta = {"@type": CREATE_META_TYPE, "gettable": op.done, "ready": op.done}
        return ok(operation_json(op, meta))

    async def test_permissions(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        project, err = guard(request, world, request.match_info["project"], SERVICE)
        if err is not None:
            return err
        assert project is not None
        who = caller(request)
        wanted = [str(p) for p in body.get("permissions") or []]
        granted = [p for p in wanted if has_permission(project, p, world, who, record=False)]
        return ok({"permissions": granted} if granted else {})

    def refused(project: dict[str, Any], permission: str) -> web.Response:
        return error(
            403,
            f"Permission '{permission}' denied on resource "
            f"'//cloudresourcemanager.googleapis.com/projects/{project['id']}' (or it may not exist).",
            "IAM_PERMISSION_DENIED",
            domain=SERVICE,
            metadata={"permission": permission},
        )

    async def get_policy(request: web.Request) -> web.Response:
        await read_json(request, world)
        project, err = guard(request, world, request.match_info["project"], SERVICE)
        if err is not None:
            return err
        assert project is not None
        with world.lock:
            if not has_permission(project, "resourcemanager.projects.getIamPolicy", world, caller(request)):
                return refused(project, "resourcemanager.projects.getIamPolicy")
            return ok(policy_json(project))

    async def set_policy(request: web.Request) -> web.Response:
        body = await read_json(request, world) or {}
        project, err = guard(request, world, request.match_info["project"], SERVICE)
        if err is not None:
            return err
        assert project is not None
        with world.lock:
            if not has_permission(project, "resourcemanager.projects.setIamPolicy", world, caller(request)):
                return refused(project, "resourcemanager.projects.setIamPolicy")
            policy = body.get("policy") if isinstance(body, dict) else None
            problem = policy_problem(policy)
            if problem:
                return error(400, problem, "INVALID_ARGUMENT")
            assert isinstance(policy, dict)
            current = policy_etag(project)
            if policy.get("etag") and policy["etag"] != current:
                message = ("There were concurrent policy changes. Please retry the whole read-modify-write with "
                           "exponential backoff.")  # HTTP 409 with status ABORTED, as IAM answers a stale etag
                return web.json_response({"error": {"code": 409, "message": message, "status": "ABORTED"}},
                                         status=409)
            iam = project.setdefault("iam", {})
            iam["bindings"] = [
                {"role": str(b["role"]), "members": sorted({str(m) for m in b.get("members") or []})}
                for b in policy.get("bindings") or []
                if b.get("members")
            ]
            iam["policy_version"] = int(iam.get("policy_version", 0)) + 1
            return ok(policy_json(project))

    pid = "{project:[^/:]+}"
    app.router.add_get("/v3/projects:search", search)
    app.router.add_get("/v3/projects", list_projects)
    app.router.add_post("/v3/projects", create)
    app.router.add_get(f"/v3/projects/{pid}", get_project)
    app.router.add_post(f"/v3/projects/{pid}:testIamPermissions", test_permissions)
    app.router.add_post(f"/v3/projects/{pid}:getIamPolicy", get_policy)
    app.router.add_post(f"/v3/projects/{pid}:setIamPolicy", set_policy)
    app.router.add_get("/v3/operations/{op:.+}", get_operation)
    # v1, which gcloud's `projects describe|get-iam-policy` still speak.
    app.router.add_get(f"/v1/projects/{pid}", get_project)
    app.router.add_post(f"/v1/projects/{pid}:testIamPermissions", test_permissions)
    app.router.add_post(f"/v1/projects/{pid}:getIamPolicy", get_policy)
    app.router.add_post(f"/v1/projects/{pid}:setIamPolicy", set_policy)
