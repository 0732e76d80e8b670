"""Shared plumbing: raw JSON calls, stoppable streaming responses, API errors as kftui errors."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from kftui.errors import KftuiError

CONNECT_TIMEOUT = 10
"""Seconds to connect. Every `_request_timeout` is an int or a 2-tuple: the client ignores a bare float."""
READ_TIMEOUT = 30
"""Seconds a plain GET may take to answer (and between two reads of its body)."""


def request_timeout(read: float | None) -> tuple[int, int | None]:
    """(connect, read) as whole seconds, the shape kubernetes' and kfp_server_api's REST clients apply."""
    return CONNECT_TIMEOUT, None if read is None else max(1, int(read))


class ClusterApiError(KftuiError):
    """The Kubernetes API refused a request; `status` and `reason` come from its Status body."""

    def __init__(self, message: str, status: int = 0, reason: str = "") -> None:
        """Keep the HTTP status and the API's reason next to the message."""
        super().__init__(message)
        self.status = status
        self.reason = reason


def api_error(exc: BaseException) -> ClusterApiError:
    """An ApiException (or transport error) as a ClusterApiError carrying the API's own message."""
    status = int(getattr(exc, "status", 0) or 0)
    body = getattr(exc, "body", None)
    message = str(getattr(exc, "reason", "") or exc)
    reason = ""
    if body:
        try:
            data = json.loads(body)
            message = str(data.get("message") or message)
            reason = str(data.get("reason") or "")
        except (ValueError, AttributeError):
            message = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return ClusterApiError(message, status, reason)


def get_json(client: Any, path: str, query: list[tuple[str, Any]] | None = None,
             timeout: float = READ_TIMEOUT) -> Any:
    """GET a path with the client's auth and return the decoded JSON (raises ClusterApiError)."""
    from kubernetes.client.exceptions import ApiException

    try:
        resp = client.call_api(path, "GET", query_params=query or [], header_params={"Accept": "application/json"},
                               auth_settings=["BearerToken"], _preload_content=False,
                               _request_timeout=request_timeout(timeout), _return_http_data_only=True)
    except ApiException as exc:
        raise api_error(exc) from exc
    return decode_object(resp.data, path)


def decode_object(data: bytes, path: str) -> dict[str, Any]:
    """A JSON object from the API server; anything else (HTML, cut JSON, a list, nothing) is said, not crashed on."""
    try:
        value = json.loads(data)
    except ValueError as exc:
        head = data[:60].decode("utf-8", "replace").strip().splitlines()[0] if data.strip() else ""
        why = getattr(exc, "msg", exc)
        what = "an empty answer" if not head else (
            "an HTML page" if head.lstrip().startswith("<") else f"something that is not JSON ({why})")
        raise ClusterApiError(f"the Kubernetes API answered GET {path} with {what}", 0, "BadResponse") from exc
    if not isinstance(value, dict):
        raise ClusterApiError(f"the Kubernetes API answered GET {path} with JSON of another shape "
                              f"({type(value).__name__}, not an object)", 0, "BadResponse")
    return value


def open_stream(client: Any, path: str, query: list[tuple[str, Any]], read_timeout: float | None) -> Any:
    """Open a streaming GET (watch or log follow) and return the urllib3 response, unread."""
    return client.call_api(path, "GET", query_params=query, header_params={"Accept": "*/*"},
                           auth_settings=["BearerToken"], _preload_content=False,
                           _request_timeout=request_timeout(read_timeout), _return_http_data_only=True)


class Stoppable:
    """Holds the response being read so another thread can end the read at once."""

    def __init__(self) -> None:
        """Nothing open yet."""
        self._lock = threading.Lock()
        self._responses: set[Any] = set()
        self.stopped = threading.Event()

    def track(self, resp: Any) -> Any:
        """Remember an open response (shut it at once if stop() already happened)."""
        with self._lock:
            self._responses.add(resp)
        if self.stopped.is_set():
            shutdown(resp)
        return resp

    def release(self, resp: Any) -> None:
        """Forget and close a response that has been read to the end."""
        with self._lock:
            self._responses.discard(resp)
        with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to do
            resp.release_conn()

    def stop(self) -> None:
        """Unblock every reader now: `shutdown()` wakes a thread blocked in a read, `close()` does not."""
        self.stopped.set()
        with self._lock:
            responses = list(self._responses)
        for resp in responses:
            shutdown(resp)


def shutdown(resp: Any) -> None:
    """Shut a urllib3 response's socket down (works from any thread)."""
    with contextlib.suppress(Exception):  # already closed
        resp.shutdown()
    with contextlib.suppress(Exception):  # already closed
        resp.close()


def iter_lines(resp: Any, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """Complete lines (without the newline) from a streaming response, in arrival order."""
    buf = b""
    for chunk in resp.stream(chunk_size, decode_content=False):
        if not chunk:
            continue
        data = buf + chunk if buf else chunk
        parts = data.split(b"\n")
        buf = parts.pop()
        yield from parts
    if buf:
        yield buf


def secs(seconds: float) -> str:
    """A delay as people read it: `4 s`, `0.4 s`."""
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"


def retry_words(attempt: int, delay: float) -> str:
    """What a reconnect says: `reconnecting (attempt 3, in 4 s)`."""
    return f"reconnecting (attempt {attempt}, {'now' if delay <= 0 else 'in ' + secs(delay)})"


def short_error(exc: BaseException) -> str:
    """A transport error in one line, without urllib3's object reprs (`connection reset by peer`, `read timed out`)."""
    text = str(exc) or type(exc).__name__
    for marker in ("Read timed out", "Connection refused", "Connection reset by peer", "IncompleteRead",
                   "InvalidChunkLength", "Response ended prematurely", "Connection aborted"):
        if marker in text:
            return "connection broken (the answer was cut off)" if marker in (
                "IncompleteRead", "InvalidChunkLength", "Response ended prematurely") else marker.lower()
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__
