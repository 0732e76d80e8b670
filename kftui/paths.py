"""Where kftui keeps its files (XDG via platformdirs) and how it writes them safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

APP = "kftui"


def _dirs() -> object:
    from platformdirs import PlatformDirs

    return PlatformDirs(APP, appauthor=False, ensure_exists=False)


def config_dir() -> Path:
    """User settings (edited rarely, by hand or from the app)."""
    return Path(_dirs().user_config_dir)  # type: ignore[attr-defined]


def state_dir() -> Path:
    """Remembered answers and progress (written by the app as the user goes)."""
    return Path(_dirs().user_state_dir)  # type: ignore[attr-defined]


def data_dir() -> Path:
    """Files the user asked kftui to keep (saved logs), never written into the working directory."""
    return Path(_dirs().user_data_dir)  # type: ignore[attr-defined]


def cache_dir() -> Path:
    """Disposable files such as the demo sandbox's generated credentials."""
    return Path(_dirs().user_cache_dir)  # type: ignore[attr-defined]


def atomic_write(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write so a crash leaves either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
