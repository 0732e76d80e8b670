"""Typed settings and remembered answers, each stored as JSON in its XDG directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kftui import paths
from kftui.errors import ConfigError


class Settings(BaseModel):
    """User preferences; every field documents why someone would change it."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    log_max_lines: int = Field(100_000, ge=1_000, le=5_000_000)
    """Lines the log pane keeps; older ones are dropped so memory stays bounded."""
    log_timestamps: bool = False
    """Show the server's timestamp before each log line."""
    log_wrap: bool = False
    """Wrap long log lines instead of scrolling sideways."""
    theme: str = "textual-dark"
    """Textual theme name."""


class State(BaseModel):
    """Answers the user gave and what kftui learned, restored on the next start."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    setup_passed: bool = False
    """Once setup has fully passed, bare `kftui` opens watch mode instead."""
    answers: dict[str, Any] = Field(default_factory=dict)
    """Remembered answers keyed by name: configuration, project, zone, gpu ..."""
    quota_requests: list[dict[str, Any]] = Field(default_factory=list)
    """Quota preferences kftui filed, so their state can be followed across runs."""


def settings_path() -> Path:
    """Settings file location, honouring XDG_CONFIG_HOME."""
    return paths.config_dir() / "settings.json"


def state_path() -> Path:
    """State file location, honouring XDG_STATE_HOME."""
    return paths.state_dir() / "state.json"


M = TypeVar("M", bound=BaseModel)


def _load(model: type[M], path: Path) -> M:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return model()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return model.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path} is not valid kftui {model.__name__.lower()}: {first}") from exc


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing file means defaults."""
    return _load(Settings, path or settings_path())


def load_state(path: Path | None = None) -> State:
    """Read remembered state; a missing file means a first run."""
    return _load(State, path or state_path())


def save(model: BaseModel, path: Path) -> None:
    """Persist atomically so an interrupted write never loses earlier answers."""
    paths.atomic_write(path, model.model_dump_json(indent=2) + "\n")


def save_state(state: State, path: Path | None = None) -> None:
    """Persist the state file atomically."""
    save(state, path or state_path())
