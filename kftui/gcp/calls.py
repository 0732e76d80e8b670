"""The one retry policy and the one call timeout for every Google call, and the calls still waiting for an answer.

Google asks clients to retry 429 and 503 with exponential backoff and jitter, waiting at least `Retry-After` when it
is sent. Every client method gets `call_options(api)`: the policy below as `retry` (google.api_core applies it to
each page of a pager too) and a total `timeout` that bounds all attempts together. The policy also records which
call is in flight from which thread, so a command that gives up (doctor's deadline) can name each API that did not
answer and the URL it was reaching, and it tags failures with that API and URL for the diagnosis.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from kftui.gcp.endpoints import api_endpoint
from kftui.gcp.errors import CALL_TIMEOUT

T = TypeVar("T")

FIRST_WAIT = 0.5
"""Seconds before the first retry; each next wait doubles, up to MAX_WAIT, with full jitter."""
MAX_WAIT = 8.0
MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 30.0
"""A `Retry-After` longer than this (or than the time left) ends the retries: better to say so than to sit."""

RETRY_STATUSES = frozenset({429, 503})
"""429 RESOURCE_EXHAUSTED (per-minute rate limits) and 503 UNAVAILABLE: Google's own "try again" answers."""

API_TITLES = {
    "compute": "Compute Engine API",
    "container": "Kubernetes Engine API",
    "serviceusage": "Service Usage API",
    "cloudresourcemanager": "Cloud Resource Manager API",
    "cloudbilling": "Cloud Billing API",
    "cloudquotas": "Cloud Quotas API",
    "oauth2": "Google OAuth 2.0 token endpoint",
}


TIMEOUT_ENV = "KFTUI_GCP_TIMEOUT"
"""Seconds per Google call (retries included) for slow links; 1-300, else the default."""


def call_timeout() -> float:
    """The call timeout: $KFTUI_GCP_TIMEOUT when it is a sane number of seconds, else CALL_TIMEOUT."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else CALL_TIMEOUT
    except ValueError:
        return CALL_TIMEOUT
    return value if 1.0 <= value <= 300.0 else CALL_TIMEOUT


SILENT_TIMEOUT = 10.0
"""Seconds a call may wait on an API that already let a call time out in this process (within SILENT_MEMORY):
a command with several calls to a dead endpoint says so after one full timeout, not after one per call."""
SILENT_MEMORY = 120.0

_silent: dict[str, float] = {}
_command_deadline: list[float] = []


def set_command_deadline(at: float | None) -> None:
    """Every later Google call in this process ends by `at` (time.monotonic()); None lifts the deadline."""
    with _lock:
        _command_deadline[:] = [at] if at is not None else []


def budget(api: str, wanted: float) -> float:
    """The timeout a new call to `api` gets: the wanted one, shortened for a silent API and by the command deadline."""
    now = time.monotonic()
    with _lock:
        silent_since = _silent.get(api)
        ends = _command_deadline[0] if _command_deadline else None
    total = wanted
    if silent_since is not None and now - silent_since < SILENT_MEMORY:
        total = min(total, SILENT_TIMEOUT)
    if ends is not None:
        total = min(total, max(0.5, ends - now))
    return total


def api_title(api: str) -> str:
    """The API's display name for messages."""
    return API_TITLES.get(api, f"{api} API")


@dataclass(frozen=True)
class InFlight:
    """One Google call that has not answered yet."""

    api: str
    url: str
    method: str
    started: float
    owner: str | None


_lock = threading.Lock()
_inflight: dict[int, InFlight] = {}
_keys = itertools.count()
_owner = threading.local()


@contextmanager
def owned_by(owner: str) -> Iterator[None]:
    """Calls made by this thread inside the block belong to `owner` (a doctor step), so it can be named."""
    previous = getattr(_owner, "name", None)
    _owner.name = owner
    try:
        yield
    finally:
        _owner.name = previous


def inflight(owner: str | None = None) -> list[InFlight]:
    """The calls still waiting, oldest first (only `owner`'s when given)."""
    with _lock:
        calls = list(_inflight.values())
    return sorted((c for c in calls if owner is None or c.owner == owner), key=lambda c: c.started)


def _status(exc: BaseException) -> int:
    """The HTTP status a client exception carries (0 for transport failures)."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (`Retry-After` in seconds), if it said."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        raw = headers.get("Retry-After")
    except Exception:  # a response object of another kind: no header to honour
        return None
    if raw is None:
        return None
    try:
        return max(0.0, float(str(raw).strip()))
    except ValueError:
        return None  # an HTTP-date: Google sends seconds; a date falls back to the backoff


def retryable(exc: BaseException, idempotent: bool) -> bool:
    """429 is always safe to retry (the call was refused unprocessed); 503 only for calls that may run twice."""
    status = _status(exc)
    if status == 429:
        return True
    return idempotent and status in RETRY_STATUSES


def tag(exc: BaseException, api: str, url: str) -> None:
    """Remember on the exception which API and endpoint failed, for the error mapper and the diagnosis."""
    try:
        exc.kftui_api = api  # type: ignore[attr-defined]
        exc.kftui_url = url  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__: it stays untagged
        pass


class RetryPolicy:
    """A google.api_core `retry` object: exponential backoff with full jitter, Retry-After honoured, bounded."""

    def __init__(
        self,
        api: str,
        *,
        idempotent: bool = True,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.api = api
        self.idempotent = idempotent
        self.timeout = timeout if timeout is not None else budget(api, call_timeout())
        self.attempts = attempts
        self._sleep = sleep

    def wait_for(self, attempt: int, exc: BaseException, left: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if attempt >= self.attempts or not retryable(exc, self.idempotent):
            return None
        backoff = random.uniform(0.0, min(MAX_WAIT, FIRST_WAIT * 2**attempt))  # noqa: S311 - jitter, not secrets
        asked = retry_after(exc)
        wait = max(backoff, asked or 0.0)
        if (asked is not None and asked > MAX_RETRY_AFTER) or wait >= left:
            return None
        return wait

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        """Wrap one client method (what google.api_core does with a `retry` argument)."""

        @functools.wraps(func)
        def attempt_call(*args: Any, **kwargs: Any) -> T:
            url = api_endpoint(self.api)
            deadline = time.monotonic() + self.timeout
            name = getattr(func, "__name__", "call")
            key = next(_keys)
            entry = InFlight(self.api, url, name, time.monotonic(), getattr(_owner, "name", None))
            with _lock:
                _inflight[key] = entry
            try:
                attempt = 0
                while True:
                    attempt += 1
                    try:
                        answer = func(*args, **kwargs)
                    except Exception as exc:
                        if _timed_out(exc):
                            with _lock:
                                _silent[self.api] = time.monotonic()
                        wait = self.wait_for(attempt, exc, deadline - time.monotonic())
                        if wait is None:
                            tag(exc, self.api, url)
                            raise
                        self._sleep(wait)
                        continue
                    with _lock:
                        _silent.pop(self.api, None)  # it answers again: full timeouts from now on
                    return answer
            finally:
                with _lock:
                    _inflight.pop(key, None)

        return attempt_call


def _timed_out(exc: BaseException) -> bool:
    """Whether a call failed because the endpoint did not answer in time."""
    from kftui.gcp.errors import transport_kind

    return transport_kind(exc) == "timeout"


def call_options(api: str, *, idempotent: bool = True, timeout: float | None = None) -> dict[str, Any]:
    """Keyword arguments for every client method of `api`: the retry policy and the total timeout."""
    total = budget(api, timeout if timeout is not None else call_timeout())
    return {"retry": RetryPolicy(api, idempotent=idempotent, timeout=total), "timeout": total}
