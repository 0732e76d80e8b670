"""Log lines made safe for a terminal, and a bounded buffer that keeps the newest lines."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator

ESC_SHOWN = "␛"
# OSC: ESC ] ... (BEL | ESC \) ; CSI: ESC [ params final; other two-char escapes; C1 controls (U+0080-U+009F).
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SAFE = re.compile(r"^[\x20-\x7e\t\u00a0-\uffff]*$")
_BAD_WIDE = re.compile(r"[\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _show(ch: str) -> str:
    """One control character rendered visibly: ESC as ␛, other C0 as ^X, DEL and C1 as <XX>."""
    code = ord(ch)
    if ch == "\x1b":
        return ESC_SHOWN
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return f"<{code:02X}>"


def sanitize(line: str) -> str:
    """A log line with every terminal control visibly escaped, so pod output cannot drive the terminal.

    Tabs stay (they are harmless and common); everything else below 0x20, DEL, C1 controls and the
    bidirectional overrides (U+202A-U+202E, U+2066-U+2069, the "Trojan Source" characters) are shown as text.
    """
    if _SAFE.match(line) and not _BAD_WIDE.search(line):
        return line
    out = _CONTROL.sub(lambda m: _show(m.group()), line)
    return re.sub(r"[\u202a-\u202e\u2066-\u2069]", lambda m: f"<U+{ord(m.group()):04X}>", out)


def strip_ansi(line: str) -> str:
    """The text without OSC/CSI sequences (for searching and copying), still sanitised."""
    text = _OSC.sub("", line)
    text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]", "", text)
    text = re.sub(r"\x1b[@-Z\\-_]", "", text)
    return sanitize(text)


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
