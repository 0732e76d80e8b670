"""The one sanitizer for every string from outside (pods, events, runs, servers, error texts, files).

Every renderer (TUI widgets, border titles, notifications, CLI tables, `explain`) passes outside text through
here, so no terminal control, escape sequence or bidi override reaches the terminal; it is shown inert and visible.
"""

from __future__ import annotations

import re

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


def inert(text: object) -> str:
    """One line made safe and flat (newlines shown as ^J, tabs as spaces): for cells, titles and one-line messages."""
    line = text if isinstance(text, str) else str(text)
    out = sanitize(line.expandtabs(8) if "\t" in line else line)
    return out.replace("\n", "^J") if "\n" in out else out


def inert_lines(text: object) -> str:
    """A multi-line text made safe line by line, keeping its line breaks: for messages, YAML and error texts."""
    raw = text if isinstance(text, str) else str(text)
    return "\n".join(inert(part) for part in raw.replace("\r\n", "\n").split("\n"))
