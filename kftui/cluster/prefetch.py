"""The first pod list of `kftui watch`, read by a forked child on the other core while this process loads the UI.

A fresh watch spends about 0.3 s importing Textual and drawing, and as long again importing the kubernetes client
before it can ask for a single pod; then it decodes the list. The child is forked before either import, so the
client's import, the request and the decoding run beside the UI's start-up instead of after it. It sends back
plain rows and the list's resourceVersion through a pipe and exits; the watch then goes on from that version in
this process, exactly as after its own list. For `-n NS` its first message says whether the namespace exists, so
that check too runs beside the UI's imports. Anything the child could not do (no fork on this system, a refused
or unreachable API, a kubeconfig it cannot use) only means this process lists as it always did, and says why
there, with its usual retries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib.util
import marshal
import os
import select
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kftui.core.kube import PodRow, pod_row

FIELDS = tuple(f.name for f in dataclasses.fields(PodRow))
"""A row crosses the pipe as a tuple of plain values in this order (marshal: it can build nothing but values)."""
TIMES = tuple(i for i, name in enumerate(FIELDS) if name in ("created", "last_restart"))
"""The datetime fields, sent as POSIX timestamps."""
DISABLE_ENV = "KFTUI_PREFETCH"
"""`KFTUI_PREFETCH=0` turns the child off (this process then lists itself, as on a system without fork)."""


@dataclass(frozen=True)
class Snapshot:
    """What the child listed: every pod it could read, and where a watch resumes."""

    rows: tuple[PodRow, ...]
    resource_version: str


class PodPrefetch:
    """The running child; take() its snapshot once, or discard() it (the child is killed if still running)."""

    def __init__(self, pid: int, fd: int, context: str | None, namespace: str | None) -> None:
        """Hold the child's pid and the read end of its pipe, and the scope it lists."""
        self.pid = pid
        self.context = context
        self.namespace = namespace
        self.error = ""
        """Why the child brought nothing (for tests and the bench; the UI lists again and says its own why)."""
        self._fd: int | None = fd
        self._buf = b""
        self._verdict: str | None = None
        self._lock = threading.Lock()

    def namespace_verdict(self, timeout: float = 5.0) -> str:
        """For a namespace given on the command line: "missing" when the cluster said 404, else "ok" or
        "unknown" (refused, unreachable, slow: the watch then says so with its retries)."""
        if self.namespace is None:
            return "unknown"
        with self._lock:
            if self._verdict is None:
                frame = self._frame(timeout)
                self._verdict = "unknown"
                if frame is not None and frame[0] == "namespace":
                    self._verdict = str(frame[1])
            return self._verdict

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the list is coming through the pipe now (waiting at most `timeout` s), so take() is quick."""
        with self._lock:
            fd = self._fd
            if fd is None or (self.namespace is not None and self._verdict is None):
                return False
            return bool(self._buf) or bool(select.select([fd], [], [], timeout)[0])

    def take(self, timeout: float = 30.0) -> Snapshot | None:
        """The child's snapshot (blocks until it is written, at most `timeout` s); None if it failed or was taken."""
        if self.namespace is not None:
            self.namespace_verdict(timeout)
        with self._lock:
            try:
                frame = self._frame(timeout)
            finally:
                self._close()
        return None if frame is None else self._snapshot(frame)

    def _frame(self, timeout: float) -> Any:
        """The child's next message (a length, then marshal bytes), or None: it ended, failed or took too long."""
        fd = self._fd
        if fd is None:
            return None
        end = time.monotonic() + timeout
        while len(self._buf) < 4 or len(self._buf) < 4 + int.from_bytes(self._buf[:4], "big"):
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.error = f"no answer within {timeout:g} s"
                self._close(kill=True)
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.error = self.error or "the child ended without an answer"
                self._close()
                return None
            self._buf += chunk
        size = int.from_bytes(self._buf[:4], "big")
        payload, self._buf = bytes(self._buf[4:4 + size]), self._buf[4 + size:]
        try:
            # our own child's bytes, through a pipe made before the fork; marshal builds values, and nothing here
            # would run a code object even if one came
            return marshal.loads(payload)  # noqa: S302
        except Exception as exc:  # cut short (the child was killed): list as usual
            self.error = f"unreadable answer ({type(exc).__name__})"
            return None

    def _close(self, kill: bool = False) -> None:
        """Done with the pipe; a child given up on is ended first, and every child is collected."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if kill:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        os.close(fd)
        self._reap()

    def _snapshot(self, frame: Any) -> Snapshot | None:
        paused = gc.isenabled()
        gc.disable()  # 5,000 rows of tuples and dicts: no collection may walk them while they are built
        try:
            kind, first, second = frame
            if kind != "ok":
                self.error = str(first)
                return None
            return Snapshot(tuple(PodRow(*_values(plain)) for plain in second), str(first))
        except Exception as exc:  # not our shape: list as usual
            self.error = f"unreadable answer ({type(exc).__name__})"
            return None
        finally:
            if paused:
                gc.enable()

    def discard(self) -> None:
        """Not needed after all (another scope, the app closing): end the child and forget it."""
        with self._lock:
            self._close(kill=True)

    def _reap(self) -> None:
        """Collect the child's exit so it never lingers as a zombie (it exits right after writing)."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(self.pid, 0)


def start_pod_prefetch(context: str | None, namespace: str | None,
                       kubeconfig: str | None) -> PodPrefetch | None:
    """Fork the child that lists pods; None where there is no fork (Windows) or it is turned off."""
    if os.environ.get(DISABLE_ENV, "1") == "0" or not hasattr(os, "fork") or sys.platform == "win32":
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: never returns
        os.close(read)
        _child(write, context, namespace, kubeconfig)
    os.close(write)
    return PodPrefetch(pid, read, context, namespace)


def _child(fd: int, context: str | None, namespace: str | None, kubeconfig: str | None) -> None:
    """List, write its messages (a length, then marshal bytes, each), exit without running the parent's exit
    handlers or touching its terminal."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the UI belongs to the UI
        null = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):  # nothing the client logs may land on the screen Textual draws
            os.dup2(null, std)
        for message in _messages(context, namespace, kubeconfig):
            payload = marshal.dumps(message)
            view = memoryview(len(payload).to_bytes(4, "big") + payload)
            while view:
                view = view[os.write(fd, view):]
    except BaseException:  # a closed pipe (the app went away) or anything else: the parent lists itself
        code = 1
    finally:
        os._exit(code)


def _messages(context: str | None, namespace: str | None,
              kubeconfig: str | None) -> Iterator[tuple[Any, ...]]:
    """For a given namespace first ("namespace", "ok" | "missing" | "unknown"); then ("ok", resourceVersion,
    plain rows) or ("error", why, None), as the parent's watch would list."""
    try:
        from kftui.cluster._http import ClusterApiError, get_json
        from kftui.cluster.kubeconfig import api_client

        gc.disable()  # a short-lived process decoding one big acyclic tree: collections would only cost
        _light_client()
        client = api_client(context=context, path=kubeconfig)
        if namespace:
            try:
                get_json(client, f"/api/v1/namespaces/{namespace}", timeout=3)
                yield "namespace", "ok"
            except ClusterApiError as exc:
                yield "namespace", "missing" if exc.status == 404 else "unknown"
                if exc.status == 404:
                    return
            except Exception:  # unreachable, timed out: the watch says so with its retries
                yield "namespace", "unknown"
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        data = get_json(client, path)
        rows = []
        for item in data.get("items") or []:
            try:
                row = pod_row(item)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # as the watch does: one unreadable pod must not hide the others
            rows.append(_plain(row))
        yield "ok", str((data.get("metadata") or {}).get("resourceVersion", "")), rows
    except Exception as exc:
        yield "error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", None


def _plain(row: PodRow) -> tuple[Any, ...]:
    """A row as marshal can carry it: its fields in order, datetimes as timestamps."""
    values = [getattr(row, name) for name in FIELDS]
    for i in TIMES:
        if values[i] is not None:
            values[i] = values[i].timestamp()
    return tuple(values)


def _values(plain: tuple[Any, ...]) -> list[Any]:
    """_plain() undone: the fields for PodRow(*values)."""
    values = list(plain)
    for i in TIMES:
        if values[i] is not None:
            values[i] = datetime.fromtimestamp(values[i], UTC)
    return values


def _light_client() -> None:
    """In the child only: load the parts of the kubernetes package one GET uses (its Configuration, ApiClient,
    REST client and kubeconfig loader), not the ~700 API and model modules its `__init__` imports: about 0.1 s
    instead of 0.27 s, on the path the first rows wait for. The same classes run the same code; the packages
    above them are left empty. Should this layout not load (another client version), every trace of it is
    dropped and the whole package is imported as usual."""
    spec = importlib.util.find_spec("kubernetes")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    if not roots or "kubernetes" in sys.modules:
        return  # not installed (the import below says so), or loaded already
    try:
        packages = {}
        for name, sub in (("kubernetes", ()), ("kubernetes.client", ("client",)),
                          ("kubernetes.client.models", ("client", "models"))):
            module = types.ModuleType(name)
            module.__path__ = [str(Path(roots[0], *sub))]
            module.__package__ = name
            sys.modules[name] = packages[name] = module
        packages["kubernetes"].client = packages["kubernetes.client"]  # type: ignore[attr-defined]
        from kubernetes.client import api_client, configuration, exceptions

        client = packages["kubernetes.client"]
        client.ApiClient = api_client.ApiClient  # type: ignore[attr-defined]
        client.Configuration = configuration.Configuration  # type: ignore[attr-defined]
        client.exceptions = exceptions  # type: ignore[attr-defined]
        import kubernetes.config  # noqa: F401  (the kubeconfig loader, against the classes above)
    except Exception:
        for name in [n for n in sys.modules if n == "kubernetes" or n.startswith("kubernetes.")]:
            del sys.modules[name]
