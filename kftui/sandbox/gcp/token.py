"""Fake OAuth token endpoint: trades the JWT-bearer grant of service-account keys for access tokens."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from aiohttp import web

from kftui.sandbox.gcp.common import World, issue_token

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3600


def _b64url(data: bytes) -> str:
    """JWT's base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt_claims(assertion: str) -> dict[str, Any]:
    """The claims of a JWT without checking its signature (the sandbox trusts every key)."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    claims = json.loads(base64.urlsafe_b64decode(payload))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


def make_id_token(email: str, audience: str, issuer: str = "https://accounts.google.com") -> str:
    """An OpenID Connect ID token shaped like Google's (signature is random: nobody verifies it here)."""
    now = int(time.time())
    header = {"alg": "RS256", "kid": "sandbox", "typ": "JWT"}
    claims = {
        "iss": issuer,
        "aud": audience,
        "azp": email,
        "sub": str(abs(hash(email)) % 10**21),
        "email": email,
        "email_verified": True,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
    }
    return ".".join(
        [
            _b64url(json.dumps(header).encode()),
            _b64url(json.dumps(claims).encode()),
            _b64url(secrets.token_bytes(256)),
        ]
    )


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    """OAuth 2.0 error response (RFC 6749 section 5.2), as Google's token endpoint sends it."""
    return web.json_response({"error": error, "error_description": description}, status=status)


async def token(request: web.Request, world: World) -> web.Response:
    """POST /token: JWT-bearer (service accounts) and refresh_token (user ADC) grants."""
    form = await request.post()
    world.record(request, {k: str(v) for k, v in form.items()})
    grant = str(form.get("grant_type", ""))
    if grant == JWT_BEARER:
        try:
            claims = jwt_claims(str(form.get("assertion", "")))
        except ValueError:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        email = str(claims.get("iss") or claims.get("sub") or "")
        if not email:
            return _oauth_error("invalid_grant", "Invalid JWT: no issuer.")
        revoked = world.scenario.get("revoked_keys") or []
        if email in revoked:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        audience = str(claims.get("target_audience") or "")
        if audience:
            return web.json_response({"id_token": make_id_token(email, audience)})
    elif grant == "refresh_token":
        email = str(world.scenario.get("identity") or "")
        if not email or not form.get("refresh_token"):
            return _oauth_error("invalid_grant", "Bad Request")
    else:
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
    access = issue_token(email)
    with world.lock:
        world.tokens[access] = email
    return web.json_response(
        {
            "access_token": access,
            "expires_in": TOKEN_LIFETIME,
            "token_type": "Bearer",
            "id_token": make_id_token(email, "32555940559.apps.googleusercontent.com"),
        }
    )


def add_routes(app: web.Application, world: World) -> None:
    """Serve the token endpoint at /token (the `token_uri` written into sandbox key files)."""

    async def handler(request: web.Request) -> web.Response:
        return await token(request, world)

    app.router.add_post("/token", handler)
