"""Typed settings and remembered answers, each stored as JSON in its XDG directory.

Plain dataclasses checked by hand: the app reads both before its first frame, and a validation library's
import alone cost more than everything else here (see bench/startup.py).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from kftui import paths
from kftui.errors import ConfigError

LOG_LINES_RANGE = (1_000, 5_000_000)


def _bool(name: str, value: object) -> bool:
    """A JSON boolean, or the message naming the field."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false (got {json.dumps(value)})")
    return value


@dataclass
class Settings:
    """User preferences (~/.config/kftui/settings.json); every field documents why someone would change it."""

    log_max_lines: int = 100_000
    """Lines the log pane keeps; older ones are dropped so memory stays bounded."""
    log_timestamps: bool = False
    """Show the server's timestamp before each log line."""
    log_wrap: bool = False
    """Wrap long log lines instead of scrolling sideways."""
    theme: str = "textual-dark"
    """Textual theme name."""

    def __post_init__(self) -> None:
        """Each value keeps its rule, so a hand-edited file fails with the field named."""
        low, high = LOG_LINES_RANGE
        n = self.log_max_lines
        if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= high:
            raise ValueError(f"log_max_lines must be a whole number from {low} to {high} (got {json.dumps(n)})")
        self.log_timestamps = _bool("log_timestamps", self.log_timestamps)
        self.log_wrap = _bool("log_wrap", self.log_wrap)
        if not isinstance(self.theme, str) or not self.theme.strip():
            raise ValueError(f"theme must be the name of a Textual theme (got {json.dumps(self.theme)})")


MAX_RECORD_DEPTH = 8
"""A request record is two levels deep (its dimensions); far deeper is damage that would break every later write."""


def _too_deep(value: object, limit: int) -> bool:
    """Depth check without recursion, so a hostile file cannot exhaust the stack here either."""
    todo: list[tuple[object, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        todo.extend((child, depth + 1) for child in children)
    return False


ANSWER_TYPES = (str, int, float, bool, type(None))
"""Answers are scalars (the forms type text; checks learn names), so a nested value is a damaged file."""


@dataclass
class State:
    """Answers the user gave and what kftui learned, restored on the next start."""

    setup_passed: bool = False
    """Once setup has fully passed, bare `kftui` opens watch mode instead."""
    answers: dict[str, Any] = field(default_factory=dict)
    """Remembered answers keyed by name: configuration, project, zone, gpu ..."""
    quota_requests: list[dict[str, Any]] = field(default_factory=list)
    """Quota preferences kftui filed, so their state can be followed across runs."""

    @property
    def opening_mode(self) -> str:
        """What bare `kftui` opens: setup until it has passed once, then watch mode."""
        return "watch" if self.setup_passed else "setup"

    def __post_init__(self) -> None:
        """The shapes the rest of kftui relies on, so a damaged file fails here and not deep inside a command."""
        self.setup_passed = _bool("setup_passed", self.setup_passed)
        if not isinstance(self.answers, dict):
            raise ValueError(f"answers must be an object of name: value (got {type(self.answers).__name__})")
        for key, value in self.answers.items():
            if not isinstance(value, ANSWER_TYPES):
                raise ValueError(f"answers.{key} must be text, a number or true/false (got {type(value).__name__})")
        if not isinstance(self.quota_requests, list) or not all(isinstance(r, dict) for r in self.quota_requests):
            raise ValueError("quota_requests must be a list of objects")
        for i, record in enumerate(self.quota_requests):
            if not isinstance(record.get("name"), str) or not isinstance(record.get("project", ""), str):
                raise ValueError(f"quota_requests[{i}] must name its request and project as text")
            if _too_deep(record, MAX_RECORD_DEPTH):
                raise ValueError(f"quota_requests[{i}] is nested deeper than {MAX_RECORD_DEPTH} levels")

    def copy(self) -> State:
        """A deep copy, so a caller's edits reach the file only through the store."""
        return State(
            setup_passed=self.setup_passed,
            answers=dict(self.answers),
            quota_requests=[json.loads(json.dumps(r)) for r in self.quota_requests],
        )


M = TypeVar("M", Settings, State)


def settings_path() -> Path:
    """Settings file location, honouring XDG_CONFIG_HOME."""
    return paths.config_dir() / "settings.json"


def state_path() -> Path:
    """State file location, honouring XDG_STATE_HOME."""
    return paths.state_dir() / "state.json"


def _from(model: type[M], data: object) -> M:
    """Build from parsed JSON, ignoring keys a newer or older kftui wrote."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(model)}
    return model(**{k: v for k, v in data.items() if k in known})


MAX_FILE_BYTES = 16 * 1024 * 1024
"""Far above any real state or settings file; a bigger one is damage, not answers."""


class UnreadableFileError(ConfigError):
    """The file is there but its content cannot be used (bytes, JSON, shape): safe to set aside."""


def _load(model: type[M], path: Path) -> M:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return model()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFileError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    except RecursionError as exc:
        raise UnreadableFileError(f"{path} is nested too deeply to be kftui {model.__name__.lower()}") from exc
    try:
        return _from(model, parsed)
    except (TypeError, ValueError) as exc:
        raise UnreadableFileError(f"{path} is not valid kftui {model.__name__.lower()}: {exc}") from exc


def set_aside(path: Path) -> Path | None:
    """Rename an unreadable file to `<name>.bad-<time>` so a later save cannot destroy what it held."""
    import time

    target = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        path.rename(target)
    except OSError:
        return None
    return target


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing file means defaults."""
    return _load(Settings, path or settings_path())


def load_state(path: Path | None = None) -> State:
    """Read remembered state; a missing file means a first run."""
    return _load(State, path or state_path())


def save(model: Settings | State, path: Path) -> None:
    """Persist atomically so an interrupted write never loses earlier answers."""
    paths.atomic_write(path, json.dumps(asdict(model), indent=2) + "\n")


def save_state(state: State, path: Path | None = None) -> None:
    """Persist the state file atomically."""
    save(state, path or state_path())


# --------------------------------------------------------------------------------------------------
# The state store: the one owner of state.json
# --------------------------------------------------------------------------------------------------

_THREAD_LOCKS: dict[str, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.RLock:
    """One lock per file for the whole process, however many stores name it."""
    key = str(path.absolute())
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.RLock())


class LockError(ConfigError):
    """The lock file cannot be made (a read-only state directory): reads go on unlocked, writes would fail."""


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An advisory lock on a sidecar file (the state file itself is replaced on every write, so it cannot hold one)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the thread lock still orders this process's writers
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockError(f"cannot lock {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


class StateStore:
    """Reads, changes and writes state.json under a thread and a file lock, so no writer's stale copy wins.

    Every reader and writer in a process (the app, the steps, the commands) goes through one store; another
    kftui process is ordered by the file lock and each change re-reads the file before applying itself.
    A file that cannot be parsed is set aside (renamed, never overwritten) and said once in `problems`.
    """

    def __init__(self, path: Path | None, initial: State | None = None) -> None:
        self.path = path
        """None keeps the state in memory only (tests and throwaway sessions)."""
        self._current = (initial or State()).copy()
        self._lock = _thread_lock(path) if path is not None else threading.RLock()
        self.problems: list[str] = []
        """One line per file set aside or not readable, for the caller to say."""

    @property
    def current(self) -> State:
        """The last state read or written, without touching the disk (for the UI thread)."""
        with self._lock:
            return self._current.copy()

    def read(self) -> State:
        """The state on disk now; an unparsable file is set aside and an unreadable one said, never raised."""
        with self._lock:
            if self.path is None:
                return self._current.copy()
            try:
                with _file_lock(self.path):
                    self._current = self._read_locked()
            except LockError:  # a read-only directory: nobody can write there either, so read unlocked
                try:
                    self._current = self._read_locked()
                except ConfigError as exc:
                    self._say(str(exc))
            except ConfigError as exc:  # unreadable and not movable (permissions): keep what we knew
                self._say(str(exc))
            return self._current.copy()

    @contextmanager
    def change(self) -> Iterator[State]:
        """Re-read, let the caller change, write atomically: raises ConfigError when it cannot be recorded."""
        with self._lock:
            if self.path is None:
                state = self._current.copy()
                yield state
                self._current = State(state.setup_passed, state.answers, state.quota_requests).copy()
                return
            with _file_lock(self.path):
                state = self._read_locked()
                yield state
                checked = State(state.setup_passed, state.answers, state.quota_requests)
                try:
                    save(checked, self.path)
                except OSError as exc:
                    raise ConfigError(f"cannot write {self.path}: {exc.strerror}") from exc
                self._current = checked.copy()

    def remember(self, **answers: Any) -> State:
        """Store some answers (and only those), keeping everything another writer stored meanwhile."""
        with self.change() as state:
            state.answers.update(answers)
        return self.current

    def _read_locked(self) -> State:
        """Parse the file; one that is damaged is renamed aside first, so the next write cannot destroy it."""
        assert self.path is not None
        try:
            return load_state(self.path)
        except UnreadableFileError as exc:
            kept = set_aside(self.path)
            if kept is None:
                raise ConfigError(f"{exc}; it could not be set aside, so kftui leaves it as it is") from exc
            self._say(f"{exc}. Kept it as {kept}; starting with fresh answers.")
            return State()

    def take_problems(self) -> list[str]:
        """The lines not yet said, once: each caller says them where its user looks (stderr, a notification)."""
        with self._lock:
            out, self.problems = self.problems, []
        return out

    def _say(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)


_STORES: dict[str, StateStore] = {}
_STORES_GUARD = threading.Lock()


def default_store() -> StateStore:
    """The process's store for the state file where XDG_STATE_HOME says it is now."""
    path = state_path()
    key = str(path.absolute())
    with _STORES_GUARD:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = StateStore(path)
        return store
