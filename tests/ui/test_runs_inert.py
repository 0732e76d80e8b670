"""The runs view's own texts (a local run's details, the table's name cell) are inert like every other view's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kftui.core.runs import LocalRunRecord, RunState
from kftui.widgets.runs import local_details

T0 = datetime(2026, 4, 12, 10, 0, tzinfo=UTC)
HOSTILE = "evil\x1b]52;c;cm0gLXJmIC8=\x07\x1b[2J\rpipeline"


def test_a_local_runs_details_carry_no_terminal_control() -> None:
    record = LocalRunRecord(id="l1\x1b[31m", pipeline=HOSTILE, parameters={"p": HOSTILE}, state=RunState.FAILED,
                            started=T0, finished=T0 + timedelta(seconds=5), root=f"/r/{HOSTILE}",
                            log_path=f"/r/{HOSTILE}.log", tasks={HOSTILE: RunState.FAILED}, error=HOSTILE)
    text = local_details(record, T0 + timedelta(minutes=1)).plain
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert text.count("evil") == 6  # every field still shown, only made harmless
