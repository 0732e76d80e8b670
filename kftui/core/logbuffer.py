"""A bounded buffer that keeps the newest log lines (the sanitizer lives in core.sanitize)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from kftui.core.sanitize import ESC_SHOWN, sanitize, strip_ansi

__all__ = ["ESC_SHOWN", "LineBuffer", "sanitize", "strip_ansi"]

class LineBuffer:
    """The newest `max_lines` lines; appending past the limit drops the oldest (counts them too)."""

    def __init__(self, max_lines: int = 100_000) -> None:
        """A buffer holding at most max_lines (must be positive)."""
        if max_lines <= 0:
            raise ValueError("max_lines must be positive")
        self.max_lines = max_lines
        self._lines: deque[str] = deque(maxlen=max_lines)
        self.dropped = 0
        self.total = 0

    def extend(self, lines: Iterable[str]) -> int:
        """Append lines; returns how many old lines fell off the front."""
        before = len(self._lines)
        items = lines if isinstance(lines, list) else list(lines)
        n = len(items)
        self._lines.extend(items)
        self.total += n
        fell = max(0, before + n - self.max_lines)
        self.dropped += fell
        return fell

    def append(self, line: str) -> int:
        """Append one line; returns 1 if the oldest fell off."""
        return self.extend([line])

    def clear(self) -> None:
        """Forget every line (counters too)."""
        self._lines.clear()
        self.dropped = 0
        self.total = 0

    def tail(self, n: int) -> list[str]:
        """The newest n lines, oldest first."""
        if n <= 0:
            return []
        if n >= len(self._lines):
            return list(self._lines)
        return list(self._lines)[-n:]

    def __len__(self) -> int:
        """How many lines are held."""
        return len(self._lines)

    def __iter__(self) -> Iterator[str]:
        """Held lines, oldest first."""
        return iter(self._lines)

    def __getitem__(self, index: int) -> str:
        """One held line by position."""
        return self._lines[index]
