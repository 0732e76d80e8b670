"""The first pod list of `kftui watch`, read by a forked child on the other core while this process loads the UI.

A fresh watch spends about 0.25 s importing Textual and building its screen, and as long again importing the
kubernetes client before it can ask for a single pod; then it decodes the list. The child is forked before either
import, so the client's import, the request and the decoding run beside the UI's start-up instead of after it.
Its first message says what is wrong with the kubeconfig, if anything, and which context and cluster it names (so
this process needs no YAML parser before its first frame); for `-n NS` the next says whether the namespace exists.
Then it sends the rows in batches, each with the cells the pods table files it under, and the list's
resourceVersion; a reader thread here takes each batch as it comes. The watch then goes on from that version in
this process, exactly as after its own list. Anything the child could not do (no fork on this system, a refused
or unreachable API, a kubeconfig it cannot use) only means this process lists as it always did, and says why
there, with its usual retries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib.machinery
import importlib.util
import marshal
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from kftui.core.kube import PodRow, pod_row

FIELDS = tuple(f.name for f in dataclasses.fields(PodRow))
"""A row crosses the pipe as a tuple of plain values in this order (marshal: it can build nothing but values)."""
TIMES = tuple(i for i, name in enumerate(FIELDS) if name in ("created", "last_restart"))
"""The datetime fields, sent as POSIX timestamps."""
BATCH = 500
"""Rows per message: the parent files one batch while the child makes the next."""
PIPE_SIZE = 1 << 20
"""What the pipe may hold where the system lets it grow (Linux's default ceiling for anyone)."""
DISABLE_ENV = "KFTUI_PREFETCH"
"""`KFTUI_PREFETCH=0` turns the child off (this process then lists itself, as on a system without fork)."""


Cells = tuple[str, tuple[str, ...], str]
"""A row as a table files it, minus the row itself: its key, its inert cells, its lower-cased search text."""
CellsFactory = Callable[[], Callable[[PodRow], Cells]]
"""Called in the child (so whatever it imports is imported there, beside the UI): how the pods table files a row.
The first frame then files what the child computed instead of computing it again."""


@dataclass(frozen=True)
class Snapshot:
    """What the child listed: every pod it could read, and where a watch resumes."""

    rows: tuple[PodRow, ...]
    resource_version: str
    prepared: tuple[tuple[str, PodRow, tuple[str, ...], str], ...] | None = None
    """Each row as the table files it (key, row, cells, search text), when the child was told how."""


class PodPrefetch:
    """The running child, and the thread that reads its answer as it comes: take() the snapshot once, or discard()
    it (the child is killed if still running).

    The reader thread drains the pipe from the fork on, so the child never waits on this process, and files each
    batch of rows as it comes: between the UI's own steps while it starts, and at once while the first frame waits
    for the last batch."""

    def __init__(self, pid: int, fd: int, context: str | None, namespace: str | None) -> None:
        """Hold the child's pid and the read end of its pipe, the scope it lists, and start reading."""
        self.pid = pid
        self.context = context
        self.namespace = namespace
        self.error = ""
        """Why the child brought nothing (for tests and the bench; the UI lists again and says its own why)."""
        self.scope: tuple[str, str] | None = None
        """The context the kubeconfig names for this scope (the --context, else its current one) and that context's
        cluster, as the child read them: the header can name them in the first frame."""
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._verdict: str | None = None
        self._rows: list[PodRow] = []
        self._prepared: list[tuple[str, PodRow, tuple[str, ...], str]] | None = None
        self._snapshot: Snapshot | None = None
        self._checked = threading.Event()
        """Set once the kubeconfig message came (or never will)."""
        self._answered = threading.Event()
        """Set once the namespace verdict came (or never will)."""
        self._done = threading.Event()
        """Set once the child's last message came, or it ended, failed or was discarded."""
        self._reader = threading.Thread(target=self._read, args=(fd,), name="pod-prefetch", daemon=True)
        self._reader.start()

    def kubeconfig_problem(self, timeout: float = 5.0) -> str | None:
        """The child's first word: what is wrong with the kubeconfig's content, "" for nothing; None when it did
        not say (it failed, or took longer than `timeout`): the caller then reads the file itself."""
        self._checked.wait(timeout)
        return self._problem

    def named_scope(self) -> tuple[str, str] | None:
        """The scope, if the child's first word was read already (launch waits for it before the UI starts)."""
        return self.scope if self._checked.is_set() and self._problem == "" else None

    def namespace_verdict(self, timeout: float = 5.0) -> str:
        """For a namespace given on the command line: "missing" when the cluster said 404, else "ok" or
        "unknown" (refused, unreachable, slow: the watch then says so with its retries)."""
        if self.namespace is None:
            return "unknown"
        self._answered.wait(timeout)
        return self._verdict or "unknown"

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the whole list is in (waiting at most `timeout` s for it), so that take() returns at once."""
        self._done.wait(timeout)
        with self._lock:
            return self._snapshot is not None

    def take(self, timeout: float = 30.0) -> Snapshot | None:
        """The child's snapshot (waits for its last rows, at most `timeout` s); None if it failed, took too long,
        or was taken already."""
        if not self._done.wait(timeout):
            self.error = f"no answer within {timeout:g} s"
            self.discard()
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
            if snapshot is None and not self.error:
                self.error = "taken already"
            return snapshot

    def discard(self) -> None:
        """Not needed after all (another scope, the app closing): end the child and forget what it sent."""
        with self._lock:
            self._snapshot = None
            self.error = self.error or "discarded"
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        self._done.set()

    def collected(self, timeout: float = 5.0) -> bool:
        """Whether the child has ended and been waited for (at most `timeout` s): it exits right after its last
        message, and the reader thread collects it then."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def _read(self, fd: int) -> None:
        """The reader thread: every message the child writes (a length, then marshal bytes), filed as it comes;
        then the pipe is closed and the child collected, so it never lingers as a zombie."""
        buf = bytearray()
        try:
            while not self._done.is_set():
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._fail("the child ended without an answer")
                    break
                buf += chunk
                while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                    size = int.from_bytes(buf[:4], "big")
                    payload = bytes(buf[4:4 + size])
                    del buf[:4 + size]
                    # our own child's bytes, through a pipe made before the fork; marshal builds values, and
                    # nothing here would run a code object even if one came
                    self._file(marshal.loads(payload))  # noqa: S302
        except Exception as exc:  # cut short or not our shape: the watch lists as usual
            self._fail(f"unreadable answer ({type(exc).__name__})")
        finally:
            os.close(fd)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(self.pid, 0)
            self._checked.set()
            self._answered.set()
            self._done.set()

    def _file(self, message: Any) -> None:
        """One message from the child."""
        kind = message[0]
        if kind == "kubeconfig":
            self._problem = str(message[1])
            if message[2] is not None:
                self.scope = (str(message[2]), str(message[3]))
            self._checked.set()
            if self._problem:
                self._fail(f"the kubeconfig: {self._problem}")
        elif kind == "namespace":
            self._verdict = str(message[1])
            self._answered.set()
        elif kind == "rows":
            rows = [PodRow(*_values(plain)) for plain in message[1]]
            self._rows += rows
            if message[2] is not None:
                if self._prepared is None:
                    self._prepared = []
                self._prepared += [(key, row, cells, hay)
                                   for row, (key, cells, hay) in zip(rows, message[2], strict=True)]
        elif kind == "ok":
            prepared = self._prepared
            if prepared is not None and len(prepared) != len(self._rows):
                prepared = None  # some batches came without cells: the table files the rows itself
            with self._lock:
                if not self._done.is_set():
                    self._snapshot = Snapshot(tuple(self._rows), str(message[1]),
                                              None if prepared is None else tuple(prepared))
            self._answered.set()
            self._done.set()
        else:
            self._fail(str(message[1]))

    def _fail(self, why: str) -> None:
        """The child brought no list: say why, and wake whoever waits."""
        with self._lock:
            self.error = self.error or why
        self._checked.set()
        self._answered.set()
        self._done.set()


def start_pod_prefetch(context: str | None, namespace: str | None, kubeconfig: str | None,
                       cells: CellsFactory | None = None, batch: int = BATCH) -> PodPrefetch | None:
    """Fork the child that lists pods (sending `batch` rows a message); None where there is no fork (Windows) or
    it is turned off."""
    if os.environ.get(DISABLE_ENV, "1") == "0" or not hasattr(os, "fork") or sys.platform == "win32":
        return None
    read, write = os.pipe()
    with contextlib.suppress(ImportError, AttributeError, OSError):  # Linux: a pipe may hold up to 1 MB
        import fcntl

        # the child writes ahead while this process's reader waits for its turn at the interpreter (the UI's
        # imports hold it): with the default 64 KB it would stall on every batch
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: never returns
        os.close(read)
        _child(write, context, namespace, kubeconfig, cells, batch)
    os.close(write)
    return PodPrefetch(pid, read, context, namespace)


def _child(fd: int, context: str | None, namespace: str | None, kubeconfig: str | None,
           cells: CellsFactory | None = None, batch: int = BATCH) -> None:
    """List, write its messages (a length, then marshal bytes, each), exit without running the parent's exit
    handlers or touching its terminal."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the UI belongs to the UI
        null = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):  # nothing the client logs may land on the screen Textual draws
            os.dup2(null, std)
        for message in _messages(context, namespace, kubeconfig, cells, batch):
            payload = marshal.dumps(message)
            view = memoryview(len(payload).to_bytes(4, "big") + payload)
            while view:
                view = view[os.write(fd, view):]
    except BaseException:  # a closed pipe (the app went away) or anything else: the parent lists itself
        code = 1
    finally:
        os._exit(code)


def _messages(context: str | None, namespace: str | None, kubeconfig: str | None,
              cells: CellsFactory | None = None, batch: int = BATCH) -> Iterator[tuple[Any, ...]]:
    """First ("kubeconfig", what is wrong with its content or "", the context and its cluster or None, None), and
    nothing more if something is wrong; for a given namespace then ("namespace", "ok" | "missing" | "unknown");
    then ("rows", plain rows, their Cells or None) for each `batch` of rows, and ("ok", resourceVersion) after the
    last; or ("error", why) where the parent's watch would have failed to list."""
    try:
        from kftui.cluster.kubeconfig import check_kubeconfig, current_context
        from kftui.errors import ConfigError

        gc.disable()  # a short-lived process decoding one big acyclic tree: collections would only cost
        try:
            check_kubeconfig(kubeconfig)
        except ConfigError as exc:
            yield "kubeconfig", str(exc) or "unusable", None, None
            return
        chosen = None
        with contextlib.suppress(Exception):  # only the header's words: the loader below says what is wrong
            chosen = current_context(kubeconfig, context)
        yield "kubeconfig", "", chosen and chosen.name, chosen and chosen.cluster
        from kftui.cluster._http import ClusterApiError, get_json
        from kftui.cluster.kubeconfig import api_client

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
        prepare = cells() if cells is not None else None
        rows: list[tuple[Any, ...]] = []
        filed: list[Cells] = []
        for item in data.get("items") or []:
            try:
                row = pod_row(item)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue  # as the watch does: one unreadable pod must not hide the others
            rows.append(_plain(row))
            if prepare is not None:
                filed.append(prepare(row))
            if len(rows) >= batch:
                yield "rows", rows, filed if prepare is not None else None
                rows, filed = [], []
        if rows:
            yield "rows", rows, filed if prepare is not None else None
        yield "ok", str((data.get("metadata") or {}).get("resourceVersion", ""))
    except Exception as exc:
        yield "error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


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


DEFERRED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("google.auth.transport.requests", ()),  # refreshing a Google token (the old gcp auth-provider)
    ("oauthlib.oauth2", ()),  # refreshing an OIDC token
    ("requests_oauthlib", ("OAuth2Session",)),  # the same
    ("requests", ()),
    ("requests.utils", ("should_bypass_proxies",)),  # only asked when the kubeconfig names a proxy
    ("dateutil.parser", ("parse",)),  # the client's model deserializer (the GET reads plain JSON)
    ("multiprocessing.pool", ("ThreadPool",)),  # async_req calls
)
"""What the client and its kubeconfig loader import at the top for paths one plain GET never takes (about 75 ms of
the child's 0.15 s of imports), with the names they import from each. In the child each module loads when it is
first used (a name read from it, or one of those names called), so a kubeconfig with a plain token or certificate
never pays for them, and one that needs them gets the real thing."""


class _Deferred(types.ModuleType):
    """Stands in sys.modules for a module until something uses it; then every placeholder gives way to its real
    module at once (as if none had been put there) and the use goes to the real one."""

    def __getattr__(self, attr: str) -> Any:
        """Only names this placeholder lacks land here (the forwarders it was given, and a package's __path__, are
        its own; a plain module has no __path__, and saying so loads nothing)."""
        if attr == "__path__":
            raise AttributeError(attr)
        return getattr(self._load(), attr)

    def _load(self) -> types.ModuleType:
        if "_real" not in self.__dict__:
            _load_deferred()
        real: types.ModuleType = self.__dict__["_real"]
        return real


def _load_deferred() -> None:
    """Replace every placeholder with its real module (in DEFERRED's order, a package before its modules)."""
    waiting = {n: m for n, m in list(sys.modules.items()) if isinstance(m, _Deferred)}
    for name in waiting:
        del sys.modules[name]
    for name, _names in DEFERRED:
        real = importlib.import_module(name)
        if name in waiting:
            waiting[name].__dict__["_real"] = real


def _forwarder(module: _Deferred, name: str) -> Callable[..., Any]:
    """What `from <module> import <name>` gets: a callable that loads the real modules on its first call."""
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(module._load(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _locate(name: str) -> ModuleSpec | None:
    """Where `name` would be imported from, found without importing it or any placeholder's real module."""
    parts = name.split(".")
    spec = importlib.machinery.PathFinder.find_spec(parts[0])
    for depth in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth + 1]),
                                                        list(spec.submodule_search_locations))
    return spec


def _defer(name: str, names: tuple[str, ...]) -> None:
    """Put a placeholder for `name` in sys.modules and on its package, if the real module is there to load later."""
    parent, _, leaf = name.rpartition(".")
    spec = None if name in sys.modules else _locate(name)
    if spec is None:
        return  # loaded already, or not installed (the loader's own import then says so)
    if parent and parent not in sys.modules:
        importlib.import_module(parent)  # a package the import statement expects to find loaded
    module = _Deferred(name)
    if spec.submodule_search_locations is not None:
        # a package's path, so that `from <it> import <name>` takes the forwarder instead of asking for the path
        module.__dict__["__path__"] = list(spec.submodule_search_locations)
    for attr in names:
        module.__dict__[attr] = _forwarder(module, attr)
    sys.modules[name] = module
    if parent:
        sys.modules[parent].__dict__[leaf] = module


def _light_client() -> None:
    """In the child only: load the parts of the kubernetes package one GET uses (its Configuration, ApiClient,
    REST client and kubeconfig loader), not the ~700 API and model modules its `__init__` imports, and with the
    DEFERRED modules left for first use: about 65 ms instead of 0.27 s, on the path the first rows wait for. The
    same classes run the same code; the packages above them are left empty. Should this layout not load (another
    client version), every trace of it is dropped and the whole package is imported as usual."""
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
        for name, names in DEFERRED:
            _defer(name, names)
        from kubernetes.client import api_client, configuration, exceptions

        client = packages["kubernetes.client"]
        client.ApiClient = api_client.ApiClient  # type: ignore[attr-defined]
        client.Configuration = configuration.Configuration  # type: ignore[attr-defined]
        client.exceptions = exceptions  # type: ignore[attr-defined]
        import kubernetes.config  # noqa: F401  (the kubeconfig loader, against the classes above)
    except Exception:
        for name in [n for n, m in sys.modules.items()
                     if n == "kubernetes" or n.startswith("kubernetes.") or isinstance(m, _Deferred)]:
            del sys.modules[name]
