"""Findings are what a wizard step reports: a status, plain words and the fixes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kftui.core.diagnosis import Diagnosis, Fix


class Status(enum.StrEnum):
    """Outcome of one check; ordered so the worst can be picked with max()."""

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        """Severity order used to roll several findings into one step status."""
        return _RANK[self]


_RANK = {Status.PASS: 0, Status.SKIP: 1, Status.WARN: 2, Status.FAIL: 3}


@dataclass(frozen=True, slots=True)
class Table:
    """Rows a finding shows as a table (e.g. the GPU planner's zones); cells are plain strings."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_status: tuple[Status, ...] = ()
    """Per-row status (colours the row: pass = feasible, fail = blocked); empty means no colouring."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result; `id` is stable (e.g. `account.adc`) so tools can rely on it."""

    id: str
    status: Status
    title: str
    message: str
    fixes: tuple[Fix, ...] = ()
    diagnosis: Diagnosis | None = None
    learned: Mapping[str, str] = field(default_factory=dict)
    """Answers this check discovered (e.g. the active project) that unblock later steps."""
    table: Table | None = None
    """Optional rows to show under the message (rendered by any UI, printed by `kftui doctor`)."""

    def to_json(self, step: str) -> dict[str, Any]:
        """The documented `kftui doctor --json` check object."""
        fixes = self.fixes or (self.diagnosis.fixes if self.diagnosis else ())
        return {
            "id": self.id,
            "step": step,
            "status": str(self.status),
            "title": self.title,
            "message": self.message,
            "fixes": [f.to_json() for f in fixes],
        }


def worst(findings: list[Finding]) -> Status:
    """The status a step shows: its worst finding, or skip when it found nothing."""
    if not findings:
        return Status.SKIP
    return max((f.status for f in findings), key=lambda s: s.rank)
