"""One error type for every failed Google call, keeping the original text for the diagnosis engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kftui.errors import KftuiError

CALL_TIMEOUT = 30.0
"""Seconds one Google call may take, all its retries included (kftui.gcp.calls): a dead endpoint must not freeze
a command."""


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
        """One of: api, credentials, refresh, unknown, or a transport failure (TRANSPORT_KINDS)."""

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


TRANSPORT_KINDS = ("refused", "dns", "tls", "proxy", "reset", "timeout", "garbage")
"""How a call can fail before Google's JSON answer arrives; each has its own words in the diagnosis."""

_WORDS = {
    "refused": "the connection was refused (nothing listens there)",
    "dns": "its host name could not be resolved",
    "tls": "the TLS handshake failed (certificate or protocol)",
    "proxy": "the proxy in between refused or failed",
    "reset": "the connection was reset before the answer was complete",
    "timeout": "it did not answer in time",
    "garbage": "it answered with something that is not the API's JSON (an HTML page, or a cut, empty or "
    "differently shaped body)",
}


def _api_names(exc: BaseException) -> tuple[str | None, str | None]:
    """The API and URL a failed call was reaching, as the retry policy tagged them, else from the request."""
    api = getattr(exc, "kftui_api", None)
    url = getattr(exc, "kftui_url", None)
    request = getattr(exc, "request", None)
    sent = getattr(request, "url", None)
    if isinstance(sent, str) and sent:
        url = sent.split("?", 1)[0]
    return (api if isinstance(api, str) else None), (url if isinstance(url, str) else None)


def transport_kind(exc: BaseException) -> str | None:
    """Which transport failure an exception is (see TRANSPORT_KINDS), from its type and text; None if none."""
    import requests  # type: ignore[import-untyped]

    text = " ".join(str(e) for e in (exc, exc.__cause__, exc.__context__) if e is not None).lower()
    if isinstance(exc, requests.exceptions.ProxyError) or "proxyerror" in text:
        return "proxy"
    if isinstance(exc, requests.exceptions.SSLError) or "sslerror" in text or "certificate verify failed" in text:
        return "tls"
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return "timeout"
    if "name or service not known" in text or "nameresolutionerror" in text or "failed to resolve" in text:
        return "dns"
    if "name resolution" in text or "nodename nor servname" in text or "getaddrinfo failed" in text:
        return "dns"
    if "connection refused" in text or "errno 111" in text:
        return "refused"
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return "reset"
    if type(exc).__name__ in ("ParseError", "JSONDecodeError", "DecodeError") or "failed to load json" in text:
        return "garbage"
    return None


def transport_error(exc: BaseException, kind: str) -> GcpApiError:
    """A transport failure in words naming the API and the URL it was reaching."""
    from kftui.gcp.calls import api_title

    api, url = _api_names(exc)
    raw = str(exc)
    title = f"the {api_title(api)}" if api else "a Google API"
    where = f" at {url}" if url else ""
    verb = "answered" if kind == "garbage" else "could not be reached"
    message = f"{title[0].upper()}{title[1:]}{where} {verb}: {_WORDS[kind]}."
    metadata = {k: v for k, v in (("api", api), ("url", url), ("transport", kind)) if v}
    status = {"timeout": 504, "garbage": 502}.get(kind, 503)
    service = f"{api}.googleapis.com" if api and api != "oauth2" else None
    return GcpApiError(
        message, status=status, metadata=metadata, service=service, raw_text=f"{message}\n{raw}", kind=kind
    )


def _json_body(response: Any) -> bool:
    """Whether an error answer carried a JSON body (no response object at all counts as JSON: nothing to judge)."""
    if response is None:
        return True
    import json

    try:
        json.loads(getattr(response, "content", b"") or b"{}")
    except (ValueError, TypeError):
        return False
    return True


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
        response = getattr(exc, "response", None)
        ctype = str(getattr(response, "headers", {}).get("Content-Type", "")) if response is not None else ""
        if (ctype and "json" not in ctype.lower()) or not _json_body(response):
            tagged = transport_error(exc, "garbage")
            tagged.status = int(exc.code or 0) or tagged.status
            return tagged
        metadata = {str(k): str(v) for k, v in (exc.metadata or {}).items()}
        api, url = _api_names(exc)
        for key, value in (("api", api), ("url", url)):
            if value:
                metadata.setdefault(key, value)
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
    kind = transport_kind(exc)
    if kind is not None:
        if isinstance(exc, auth_exc.TransportError) and not hasattr(exc, "kftui_api"):
            exc.kftui_api = "oauth2"  # type: ignore[attr-defined]
        return transport_error(exc, kind)
    if isinstance(exc, auth_exc.TransportError):
        return GcpApiError(raw, status=503, raw_text=raw, kind="reset")
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
