"""Fake Cloud Billing v1: a project's billingInfo and the billing account it points at."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kftui.sandbox.gcp.common import (
    World,
    caller,
    guard,
    not_found,
    ok,
    project_of,
    read_json,
    unauthenticated,
)

SERVICE = "cloudbilling.googleapis.com"


def billing_info(project: dict[str, Any]) -> dict[str, Any]:
    """ProjectBillingInfo in proto3 JSON (an unbilled project has an empty account name).

    A project whose account was closed (`open: false`) stays linked: Google keeps `billingAccountName` and answers
    `billingEnabled: false` (proto3 JSON then omits the field).
    """
    billing = project.get("billing") or {}
    enabled = bool(billing.get("enabled", False))
    is_open = bool(billing.get("open", True))
    out: dict[str, Any] = {"name": f"projects/{project['id']}/billingInfo", "projectId": project["id"]}
    account = str(billing.get("account") or "")
    if account and (enabled or not is_open):
        out["billingAccountName"] = account
    if account and enabled and is_open:
        out["billingEnabled"] = True
    return out


def add_routes(app: web.Application, world: World) -> None:
    """Register Cloud Billing v1 routes."""

    async def get_info(request: web.Request) -> web.Response:
        await read_json(request, world)
        # getBillingInfo: "the caller must have resourcemanager.projects.get on the project" (Cloud Billing API)
        project, err = guard(request, world, request.match_info["project"], SERVICE, "resourcemanager.projects.get")
        if err is not None:
            return err
        assert project is not None
        return ok(billing_info(project))

    async def get_account(request: web.Request) -> web.Response:
        await read_json(request, world)
        if caller(request) is None:
            return unauthenticated(request, SERVICE)
        name = "billingAccounts/" + request.match_info["account"]
        for pid in world.scenario.get("projects") or {}:
            project = project_of(world, pid)
            billing = (project or {}).get("billing") or {}
            if billing.get("account") == name:
                return ok(
                    {
                        "name": name,
                        "open": bool(billing.get("open", True)),
                        "displayName": str(billing.get("display_name", "My Billing Account")),
                        "masterBillingAccount": "",
                    }
                )
        return not_found()

    app.router.add_get("/v1/projects/{project:[^/]+}/billingInfo", get_info)
    app.router.add_get("/v1/billingAccounts/{account:[^/:]+}", get_account)
