"""Shared pieces of the fake Google APIs: the world's state, Google-shaped errors and operations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# HTTP status -> google.rpc.Code name, as Google puts it in `error.status`.
CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class Recorded:
    """One request as the sandbox saw it, so tests can assert what a client really sent."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class World:
    """The mutable state behind every fake GCP service, seeded from a scenario."""

    scenario: dict[str, Any]
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    operations: dict[str, Operation] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    """Access tokens issued by this sandbox's token endpoint -> the identity (email) they belong to."""
    checked: list[tuple[str, str]] = field(default_factory=list)
    """(project id, permission) for every IAM check an API call made, in order: what a real call needs."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        """Monotonic ids for operations and generated names."""
        return next(self._ids)

    def record(self, request: web.Request, body: Any) -> None:
        """Keep the request for tests that check what the client sent."""
        with self.lock:
            self.requests.append(Recorded(request.method, request.path, dict(request.query), body))

    def sent(self, method: str, path_contains: str) -> list[Recorded]:
        """Requests of one method whose path contains a fragment."""
        with self.lock:
            return [r for r in self.requests if r.method == method and path_contains in r.path]


@dataclass
class Operation:
    """A long-running operation that finishes after a number of polls (or at once when 0)."""

    name: str
    polls_left: int
    finish: Callable[[], Any]
    started: float = field(default_factory=time.time)
    done: bool = False
    result: Any = None
    error: dict[str, Any] | None = None

    def poll(self) -> bool:
        """Advance one poll; run the side effect exactly once when the operation completes."""
        if not self.done:
            if self.polls_left <= 0:
                self.result = self.finish()
                self.done = True
            else:
                self.polls_left -= 1
        return self.done


def error_body(
    status: int,
    message: str,
    reason: str | None = None,
    *,
    domain: str = "googleapis.com",
    metadata: dict[str, str] | None = None,
    extra_details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Google's JSON error envelope with an ErrorInfo detail, as real REST services send it."""
    details: list[dict[str, Any]] = []
    if reason:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": domain,
                "metadata": metadata or {},
            }
        )
    details.extend(extra_details or [])
    err: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": CANONICAL.get(status, "UNKNOWN"),
    }
    if details:
        err["details"] = details
    return {"error": err}


def error(status: int, message: str, reason: str | None = None, **kw: Any) -> web.Response:
    """An aiohttp response carrying a Google-shaped error."""
    return web.json_response(error_body(status, message, reason, **kw), status=status)


def ok(payload: Any) -> web.Response:
    """A JSON success response; proto3 JSON omits empty fields, so callers pass what they have."""
    return web.Response(text=json.dumps(payload), content_type="application/json")


async def read_json(request: web.Request, world: World) -> Any:
    """The request body as JSON (or None) and record the request."""
    body: Any = None
    if request.can_read_body:
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
    world.record(request, body)
    return body


# --------------------------------------------------------------------------------------------------
# Identity, projects and service state: the guards every fake service applies before answering.
# --------------------------------------------------------------------------------------------------

_TOKEN_KEY = b"kftui-sandbox-token-key"
"""Tokens are HMAC-signed so they stay valid across sandbox restarts (gcloud caches them on disk)."""

SERVICE_TITLES = {
    "compute.googleapis.com": "Compute Engine API",
    "container.googleapis.com": "Kubernetes Engine API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "cloudresourcemanager.googleapis.com": "Cloud Resource Manager API",
    "serviceusage.googleapis.com": "Service Usage API",
    "cloudbilling.googleapis.com": "Cloud Billing API",
    "cloudquotas.googleapis.com": "Cloud Quotas API",
    "iap.googleapis.com": "Cloud Identity-Aware Proxy API",
    "servicemanagement.googleapis.com": "Service Management API",
    "logging.googleapis.com": "Cloud Logging API",
    "monitoring.googleapis.com": "Cloud Monitoring API",
}
"""Display titles real services put in messages (`<title> has not been used in project ...`)."""

ALWAYS_ON = frozenset({"serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"})
"""Services a new project has enabled that the sandbox never refuses."""


def service_title(service: str) -> str:
    """The title a service calls itself in error messages."""
    return SERVICE_TITLES.get(service, f"{service.split('.', maxsplit=1)[0].capitalize()} API")


def issue_token(email: str) -> str:
    """A bearer token naming its holder, verifiable without server-side state."""
    who = base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
    nonce = secrets.token_hex(8)
    mac = hmac.new(_TOKEN_KEY, f"{who}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"ya29.sbx.{who}.{nonce}.{mac}"


def token_identity(token: str) -> str | None:
    """The email a sandbox-issued token belongs to, or None when it was not issued by us."""
    parts = token.split(".")
    if len(parts) != 5 or parts[:2] != ["ya29", "sbx"]:
        return None
    who, nonce, mac = parts[2], parts[3], parts[4]
    good = hmac.new(_TOKEN_KEY, f"{who}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(good, mac):
        return None
    try:
        return base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode()
    except ValueError:
        return None


def self_signed_identity(token: str) -> str | None:
    """The service account behind a self-signed JWT access token (google-auth sends these by default).

    Google accepts a JWT signed by the service account's own key (iss == sub == its email) as a bearer
    token; the sandbox trusts the claims without checking the signature but does honour `exp`.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or iss != sub or "@" not in iss:
        return None
    exp = claims.get("exp")
    if isinstance(exp, int | float) and exp < time.time():
        return None
    return iss


def caller(request: web.Request) -> str | None:
    """The identity behind `Authorization: Bearer`: a token we issued, or a self-signed service-account JWT."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    return token_identity(token) or self_signed_identity(token)


def unauthenticated(request: web.Request, service: str) -> web.Response:
    """401 with the text Google returns for a missing or unknown access token."""
    missing = "Authorization" not in request.headers
    return error(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project."
        if missing
        else "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "CREDENTIALS_MISSING" if missing else "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        metadata={"service": service, "method": f"{request.method} {request.path}"},
    )


def service_disabled(service: str, number: str) -> web.Response:
    """403 SERVICE_DISABLED exactly as a real API answers when it is off in the consumer project."""
    title = service_title(service)
    url = f"https://console.developers.google.com/apis/api/{service}/overview?project={number}"
    message = (
        f"{title} has not been used in project {number} before or it is disabled. Enable it by visiting "
        f"{url} then retry. If you enabled this API recently, wait a few minutes for the action to "
        "propagate to our systems and retry."
    )
    return error(
        403,
        message,
        "SERVICE_DISABLED",
        metadata={
            "service": service,
            "consumer": f"projects/{number}",
            "activationUrl": url,
            "containerInfo": number,
            "serviceTitle": title,
        },
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developers console API activation", "url": url}],
            },
        ],
    )


def permission_denied(permission: str, resource: str, service: str) -> web.Response:
    """403 IAM_PERMISSION_DENIED naming the permission, as IAM-checked methods answer."""
    return error(
        403,
        f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
        "IAM_PERMISSION_DENIED",
        metadata={"permission": permission, "resource": resource.removeprefix("//").split("/", 1)[-1]},
        domain=service if service.endswith(".googleapis.com") else "iam.googleapis.com",
    )


def consumer_invalid(project_key: str, service: str) -> web.Response:
    """403 CONSUMER_INVALID: how APIs answer for a project that does not exist or the caller cannot see."""
    return error(
        403,
        f"Permission denied on resource project {project_key}.",
        "CONSUMER_INVALID",
        metadata={"consumer": f"projects/{project_key}", "service": service},
    )


def not_found(message: str = "Requested entity was not found.") -> web.Response:
    """404 NOT_FOUND with Google's generic wording unless the caller has a better one."""
    return error(404, message)


def _project_entry(world: World, key: str) -> tuple[str, dict[str, Any]] | None:
    """Find a scenario project by id or number."""
    projects: dict[str, Any] = world.scenario.get("projects") or {}
    if key in projects:
        return key, projects[key]
    for pid, data in projects.items():
        if str((data or {}).get("number", "")) == key:
            return pid, data
    return None


def project_of(world: World, key: str) -> dict[str, Any] | None:
    """The scenario entry of a project the caller can see (by id or number), with `id` filled in."""
    found = _project_entry(world, key)
    if found is None:
        return None
    pid, data = found
    data = data if data is not None else {}
    world.scenario["projects"][pid] = data
    if data.get("visible", True) is False:
        return None
    data.setdefault("id", pid)
    data.setdefault("number", str(abs(hash(pid)) % 10**12))
    data["number"] = str(data["number"])
    return data


def service_state(project: dict[str, Any], service: str) -> str:
    """ENABLED or DISABLED for a service in a project entry (always-on services are ENABLED)."""
    if service in ALWAYS_ON:
        return "ENABLED"
    raw = (project.get("services") or {}).get(service, "DISABLED")
    return "ENABLED" if raw is True or str(raw).upper() == "ENABLED" else "DISABLED"


def set_service_state(project: dict[str, Any], service: str, state: str) -> None:
    """Flip a service so later calls (and re-checks) see the new state."""
    project.setdefault("services", {})[service] = state


def guard(
    request: web.Request,
    world: World,
    project_key: str,
    service: str,
    permission: str | None = None,
) -> tuple[dict[str, Any] | None, web.Response | None]:
    """Apply auth, project visibility and API enablement in Google's order; returns (project, error)."""
    who = caller(request)
    if who is None:
        return None, unauthenticated(request, service)
    project = project_of(world, project_key)
    if project is None:
        if service == "cloudresourcemanager.googleapis.com":
            return None, permission_denied(
                "resourcemanager.projects.get", f"//{service}/projects/{project_key}", service
            )
        return None, consumer_invalid(project_key, service)
    if service_state(project, service) != "ENABLED":
        return None, service_disabled(service, project["number"])
    if permission is not None and not has_permission(project, permission, world, who):
        return None, permission_denied(permission, f"//{service}/projects/{project['id']}", service)
    return project, None


def has_permission(
    project: dict[str, Any], permission: str, world: World | None = None, who: str | None = None, record: bool = True
) -> bool:
    """Whether the caller holds a permission on a project, as IAM decides it; a check for a call is recorded.

    Granted are the `granted` list (`*` = all) and, for the caller `who`, the permissions of every role bound
    to them in the project's policy (`roles:` in the scenario lists each role's permissions, from Google's role
    table; roles/owner is everything), minus `denied`. A check for an API call (`record`; testIamPermissions is a
    question, not a call) is recorded, so tests can compare what the calls needed with what kftui checks up front.
    """
    from kftui.sandbox.kube.iam import kube_permissions_of  # the roles' Kubernetes-side part (GKE's authorizer)

    if world is not None and record:
        with world.lock:
            world.checked.append((str(project.get("id", "")), permission))
    iam = project.get("iam") or {}
    if permission in set(iam.get("denied") or []):
        return False
    granted = set(iam.get("granted") or [])
    if who is not None and world is not None:
        roles = world.scenario.get("roles") or {}
        members = {f"user:{who}", f"serviceAccount:{who}"}
        for binding in iam.get("bindings") or []:
            if members & {str(m) for m in binding.get("members") or []}:
                role = str(binding.get("role"))
                granted |= {"*"} if role == "roles/owner" else {str(p) for p in roles.get(role) or []}
                granted |= kube_permissions_of(role)
    return "*" in granted or permission in granted


def start_operation(world: World, prefix: str, finish: Callable[[], Any], polls: int | None = None) -> Operation:
    """Register an LRO named `<prefix><id>` finishing after `polls` polls (scenario `operation_polls`)."""
    if polls is None:
        polls = int(world.scenario.get("operation_polls", 1))
    with world.lock:
        op = Operation(name=f"{prefix}{world.next_id()}", polls_left=polls, finish=finish)
        world.operations[op.name] = op
    return op


def operation_json(op: Operation, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """google.longrunning.Operation in proto3 JSON; `op.result` must carry its own `@type`."""
    out: dict[str, Any] = {"name": op.name}
    if metadata:
        out["metadata"] = metadata
    if op.done:
        out["done"] = True
        if op.error is not None:
            out["error"] = op.error
        elif op.result is not None:
            out["response"] = op.result
    return out


def project_access(request: web.Request, world: World, api: str, permission: str) -> str | web.Response:
    """Auth, project visibility, API enablement and IAM as Google applies them; the project id, or the refusal."""
    project, refusal = guard(request, world, request.match_info["project"], api, permission)
    if refusal is not None:
        return refusal
    assert project is not None
    return str(project["id"])
