"""Where each Google client connects: gcloud's endpoint overrides if set, else Google's default."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from kftui.gcp.errors import translated

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
"""OAuth scope every kftui client asks for."""

_VERSION_SUFFIX = re.compile(r"/(?:[a-z]+/)?(?:v\d+(?:(?:alpha|beta)\d*)?|alpha|beta)/?$")
"""A trailing `compute/v1/`-style path gcloud overrides carry but google-cloud clients add themselves."""

_creds_lock = threading.Lock()
_creds_cache: dict[tuple[str | None, ...], Any] = {}


def env_name(api: str) -> str:
    """The gcloud environment variable that overrides an API's endpoint."""
    return f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"


def api_endpoint(api: str) -> str:
    """The endpoint a google-cloud client for `api` should use, as gcloud would resolve it."""
    override = os.environ.get(env_name(api), "").strip()
    if not override:
        return f"https://{api}.googleapis.com"
    base = _VERSION_SUFFIX.sub("", override.rstrip("/") + "/")
    return base.rstrip("/")


def credentials() -> Any:
    """Application Default Credentials, cached per ADC environment so tokens are reused."""
    key = (
        os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"),
        os.environ.get("CLOUDSDK_CONFIG"),
        os.environ.get("GOOGLE_CLOUD_QUOTA_PROJECT"),
    )
    with _creds_lock:
        if key not in _creds_cache:
            import google.auth

            with translated():
                creds, _project = google.auth.default(scopes=list(SCOPES))
            _creds_cache[key] = creds
        return _creds_cache[key]


def client_kwargs(api: str) -> dict[str, Any]:
    """Constructor arguments for any google-cloud client of `api`: REST transport, endpoint, ADC."""
    from google.api_core.client_options import ClientOptions

    return {
        "transport": "rest",
        "client_options": ClientOptions(api_endpoint=api_endpoint(api)),
        "credentials": credentials(),
    }
