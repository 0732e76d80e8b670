"""Typed settings and remembered answers, each stored as JSON in its XDG directory.

Plain dataclasses checked by hand: the app reads both before its first frame, and a validation library's
import alone cost more than everything else here (see bench/startup.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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


@dataclass
class State:
    """Answers the user gave and what kftui learned, restored on the next start."""

    setup_passed: bool = False
    """Once setup has fully passed, bare `kftui` opens watch mode instead."""
    answers: dict[str, Any] = field(default_factory=dict)
    """Remembered answers keyed by name: configuration, project, zone, gpu ..."""
    quota_requests: list[dict[str, Any]] = field(default_factory=list)
    """Quota preferences kftui filed, so their state can be followed across runs."""

    def __post_init__(self) -> None:
        """The shapes the rest of kftui relies on."""
        self.setup_passed = _bool("setup_passed", self.setup_passed)
        if not isinstance(self.answers, dict):
            raise ValueError(f"answers must be an object of name: value (got {type(self.answers).__name__})")
        if not isinstance(self.quota_requests, list) or not all(isinstance(r, dict) for r in self.quota_requests):
            raise ValueError("quota_requests must be a list of objects")


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


def _load(model: type[M], path: Path) -> M:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return model()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return _from(model, json.loads(raw))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid kftui {model.__name__.lower()}: {exc}") from exc


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
