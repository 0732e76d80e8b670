"""Progress lines folded by subject, so a long fix reads as one live line per thing instead of a scrolling log."""

from __future__ import annotations

SUBJECT_MAX = 48
"""Text before the first ": " longer than this is a sentence, not a subject."""


def subject(line: str) -> str | None:
    """What a progress line is about ("cluster kubeflow", "component dex"), or None for a line of its own."""
    head, sep, _ = line.partition(": ")
    if not sep or not head or len(head) > SUBJECT_MAX or head.startswith(("retry ", "why ")):
        return None  # each retry and each explanation stays: they are the story, not a state
    return head


def fold(lines: list[str], line: str) -> None:
    """Add a line in place: a newer line about the same subject replaces the older one where it stood."""
    about = subject(line)
    if about is not None:
        for i, old in enumerate(lines):
            if subject(old) == about:
                lines[i] = line
                return
    lines.append(line)
