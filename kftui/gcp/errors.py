"""One error type for every failed Google call, keeping the original text for the diagnosis engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kftui.errors import KftuiError

CALL_TIMEOUT = 30.0
"""Seconds any single Google call may take; a dead endpoint must not freeze the app for minutes."""

CALL_OPTIONS: dict[str, Any] = {"retry": None, "timeout": CALL_TIMEOUT}
"""Keyword arguments for every client method: no silent 60-600 s retry loops, a bounded wait."""


class GcpApiError(KftuiError):
    """A Google API (or credential) failure with Google's own status, reason and metadata kept."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        service: str | None = None,
        raw_text: str = "",
        kind: str = "api",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.service = service
        self.raw_text = raw_text or message
        self.kind = kind
        """One of: api, credentials, refresh, unreachable, timeout."""

    @property
    def message(self) -> str:
        """The human message (the first argument), for display."""
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        """Enough to tell errors apart in logs and test failures."""
        return f"GcpApiError(status={self.status}, reason={self.reason!r}, kind={self.kind!r})"


def _api_message(exc: Any) -> str:
    """Google's own error message without the `VERB URL:` prefix the REST transport adds."""
    text = str(getattr(exc, "message", "") or exc)
    head, sep, tail = text.partition(": ")
    if sep and head.split(" ", 1)[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        return tail
    return text


def to_gcp_error(exc: BaseException) -> GcpApiError:
    """Map google.api_core / google.auth / requests failures to GcpApiError (others become status 0)."""
    if isinstance(exc, GcpApiError):
        return exc
    from google.api_core import exceptions as core_exc
    from google.auth import exceptions as auth_exc

    raw = str(exc)
    if isinstance(exc, core_exc.RetryError):
        return GcpApiError(raw, status=504, raw_text=raw, kind="timeout")
    if isinstance(exc, core_exc.GoogleAPICallError):
        metadata = {str(k): str(v) for k, v in (exc.metadata or {}).items()}
        domain = exc.domain
        service = metadata.get("service") or (
            domain if domain and domain not in {"googleapis.com", "iam.googleapis.com"} else None
        )
        return GcpApiError(
            _api_message(exc),
            status=int(exc.code or 0),
            reason=exc.reason,
            metadata=metadata,
            service=service,
            raw_text=raw,
        )
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return GcpApiError(raw, status=401, raw_text=raw, kind="credentials")
    if isinstance(exc, auth_exc.RefreshError):
        return GcpApiError(
            f"Could not refresh the access token: {exc.args[0] if exc.args else raw}",
            status=401,
            raw_text=raw,
            kind="refresh",
        )
    if isinstance(exc, auth_exc.TransportError):
        return GcpApiError(raw, status=503, raw_text=raw, kind="unreachable")
    import requests  # type: ignore[import-untyped]

    if isinstance(exc, requests.Timeout):
        return GcpApiError(raw, status=504, raw_text=raw, kind="timeout")
    if isinstance(exc, requests.ConnectionError):
        request = getattr(exc, "request", None)
        where = getattr(request, "url", None) or "the Google API endpoint"
        return GcpApiError(f"Cannot reach {where}: {raw}", status=503, raw_text=raw, kind="unreachable")
    return GcpApiError(raw or type(exc).__name__, status=0, raw_text=raw, kind="unknown")


def _translatable(exc: BaseException) -> bool:
    """Whether an exception comes from the Google client stack (and should become a GcpApiError)."""
    module = type(exc).__module__
    return module.startswith(("google.", "requests", "urllib3"))


@contextmanager
def translated() -> Iterator[None]:
    """Run Google client calls and re-raise their failures as GcpApiError."""
    try:
        yield
    except GcpApiError:
        raise
    except Exception as exc:
        if _translatable(exc):
            raise to_gcp_error(exc) from exc
        raise
