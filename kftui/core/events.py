"""Reading one Kubernetes Event defensively: every field comes from the API server, and anything that can write
Events can write any JSON there, so each field is checked for its type and bounded before kftui shows or counts it
(the events view, the describe text, details, diagnosis)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

COUNT_LIMIT = 2**31 - 1
"""Event.count is an int32 in the API; a bigger or unreadable count is shown as this bound, not trusted."""
TEXT_LIMIT = 4096
"""Characters kept of an event's message (the API's own Event note limit is 1 KB; old-style events have none)."""
FIELD_LIMIT = 256
"""Characters kept of a one-word field (type, reason, source, object name, timestamp)."""


def mapping(value: Any) -> Mapping[str, Any]:
    """A nested object of an event, or {} when the server sent something else there."""
    return value if isinstance(value, Mapping) else {}


def event_text(value: Any, limit: int = FIELD_LIMIT) -> str:
    """A string field, cut to `limit` (with a mark); a number is its digits; anything else is "" (not its repr)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**18 else "(a huge number)"
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else ""
    elif isinstance(value, str):
        text = value
    else:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_count(value: Any) -> int:
    """An event's repeat count in 1..COUNT_LIMIT: missing, negative, non-numeric or non-finite junk is 1, a number
    beyond int32 is COUNT_LIMIT (int() of a 5,000-digit string or of infinity raises, so it is never called on them)."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, float):
        if not math.isfinite(value):
            return 1
        value = int(value) if abs(value) < 2**63 else (COUNT_LIMIT if value > 0 else 1)
    if isinstance(value, str):
        digits = value.strip()
        if not digits.isascii() or not digits.isdigit():
            return 1
        value = int(digits) if len(digits) <= 12 else COUNT_LIMIT
    if not isinstance(value, int):
        return 1
    return min(max(1, value), COUNT_LIMIT)
