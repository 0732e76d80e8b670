"""The Diagnosis: one shape for every explained failure, whoever found it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FactValue = str | int | float


@dataclass(frozen=True, slots=True)
class Fix:
    """One way out of a problem; `command` is always the exact thing a person could type."""

    title: str
    command: str | None = None
    url: str | None = None
    action: str | None = None
    """Identifier of an action the app may perform for the user (only after confirmation)."""

    def to_json(self) -> dict[str, str | None]:
        """Stable JSON shape shared by `explain --json` and `doctor --json`."""
        return {"title": self.title, "command": self.command, "url": self.url}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What went wrong, in plain words, with the user's own values and the way out."""

    cause: str
    title: str
    explanation: str
    facts: Mapping[str, FactValue] = field(default_factory=dict)
    fixes: tuple[Fix, ...] = ()

    @property
    def known(self) -> bool:
        """Whether a rule recognised the text (`unknown` is the fallback cause)."""
        return self.cause != UNKNOWN

    def to_json(self) -> dict[str, Any]:
        """The documented `kftui explain --json` object."""
        return {
            "cause": self.cause,
            "title": self.title,
            "explanation": self.explanation,
            "facts": dict(self.facts),
            "fixes": [f.to_json() for f in self.fixes],
        }


UNKNOWN = "unknown"
