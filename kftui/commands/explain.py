"""`kftui explain`: paste an error, get what happened, why, and the exact command that fixes it."""

from __future__ import annotations

import json
import sys
from typing import IO, TYPE_CHECKING

from kftui.errors import UsageError

if TYPE_CHECKING:
    from kftui.core.diagnosis import Diagnosis

MAX_BYTES = 512 << 10
"""What is kept of a long input: its head and its tail, as the diagnosis engine cuts any text (it looks at no
more). Standard input is read to its end, so `kubectl logs POD | kftui explain` sees the crash a long log ends
with, in bounded memory."""

_EMPTY = (
    "nothing to explain: give the error text as an argument, or pipe it in "
    "(for example: kubectl describe pod NAME | kftui explain -)"
)


def _read_stdin(stream: IO[bytes]) -> str:
    """Bytes in any encoding become text; undecodable bytes become U+FFFD instead of a crash. Of a long input the
    head and the tail are kept (each cut at a line's end), however long it is."""
    from kftui.diagnose.normalize import HEAD_CHARS, TAIL_CHARS, cut

    head = stream.read(HEAD_CHARS)
    tail = bytearray()
    while chunk := stream.read(1 << 16):
        tail += chunk
        if len(tail) > 2 * TAIL_CHARS:  # only the last TAIL_CHARS can be kept: the rest of the middle goes now
            del tail[:len(tail) - TAIL_CHARS]
    # latin-1 maps each byte to one character and back: the bytes are cut as the engine cuts text, at line ends,
    # before a UTF-8 decode that could not be undone
    kept = cut((head + bytes(tail)).decode("latin-1")).encode("latin-1")
    return kept.decode("utf-8", errors="replace")


def _from_argument(text: str) -> str:
    """Command-line text may carry surrogate escapes from undecodable argv bytes; make it plain text."""
    from kftui.diagnose.normalize import cut

    return cut(text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace"))


def read_input(text: str | None, stdin: IO[bytes] | None = None) -> str:
    """The text to explain: the argument, or standard input when it is `-` or absent."""
    if text is not None and text != "-":
        return _from_argument(text)
    if stdin is None:
        if sys.stdin is None:
            raise UsageError(_EMPTY)
        if sys.stdin.isatty():
            print("Paste the error, then press Ctrl-D:", file=sys.stderr)
        stdin = sys.stdin.buffer
    return _read_stdin(stdin)


def render(diagnosis: Diagnosis, out: IO[str]) -> None:
    """Title, explanation and numbered fixes; commands never wrap, so they stay copyable.

    Every field can carry the pasted text (an unknown error is echoed back; facts are quoted into fixes), so each
    passes the one sanitizer: escapes, controls and bidi overrides show inert, as text.
    """
    from rich.console import Console
    from rich.text import Text

    from kftui.core.sanitize import inert, inert_lines

    console = Console(file=out, highlight=False, emoji=False)
    style = "bold green" if diagnosis.known else "bold yellow"
    console.print(Text.assemble((inert(diagnosis.title), style), ("  [" + inert(diagnosis.cause) + "]", "dim")))
    console.print()
    console.print(Text(inert_lines(diagnosis.explanation)))
    if diagnosis.fixes:
        console.print()
        console.print(Text("What to do:", style="bold"))
        for number, fix in enumerate(diagnosis.fixes, 1):
            console.print(Text(f"{number}. {inert(fix.title)}"))
            if fix.command:
                console.print(Text("   $ " + inert(fix.command), style="cyan"), soft_wrap=True)
            if fix.url:
                console.print(Text("   " + inert(fix.url), style="underline"), soft_wrap=True)


def run_explain(text: str | None, as_json: bool, stdin: IO[bytes] | None = None, out: IO[str] | None = None) -> int:
    """Exit 0 when a cause was recognised, 1 for unknown; empty input is a usage error (exit 2)."""
    from kftui.diagnose import diagnose

    raw = read_input(text, stdin)
    if not raw.strip():
        raise UsageError(_EMPTY)
    diagnosis = diagnose(raw)
    target = out if out is not None else sys.stdout
    if hasattr(target, "reconfigure"):
        target.reconfigure(errors="replace")  # a terminal without UTF-8 must not crash on U+FFFD
    if as_json:
        target.write(json.dumps(diagnosis.to_json()) + "\n")
    else:
        render(diagnosis, target)
    target.flush()
    return 0 if diagnosis.known else 1
