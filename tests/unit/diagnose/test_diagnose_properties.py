"""Whatever arrives, the engine answers with a Diagnosis and never raises."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kftui.diagnose import causes, diagnose, diagnose_events

FRAGMENTS = st.sampled_from(
    [
        "Quota '", "' exceeded. Limit: ", " globally.", " in region ", "us-central1", "-a", "limit name = ",
        "ERROR: (gcloud.x) ", "403 GET https://x/projects/p: ", "Reissued from pod/", "{\"error\": {", "}}",
        "\"message\": \"", "\"reason\": \"", "SERVICE_DISABLED", "Insufficient nvidia.com/gpu", "0/3 nodes are available: ",
        "pod triggered scale-up: [{", " 0->1 (max: ", "max node group size reached", "GCE quota exceeded",
        "Failed to pull image \"", "\"", "no basic auth credentials", "nvidia-tesla-t4", "\n", "\t", "  ", "\x1b[",
        "projects/", "zones/", "acceleratorTypes/", "was not found", "had untolerated taint {", "File ",
    ]
)
MIXED = st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=30).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.text(), MIXED))
def test_any_text_gives_a_diagnosis(text: str) -> None:
    result = diagnose(text)
    assert result.cause in causes()
    assert result.title and result.explanation
    json.dumps(result.to_json())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary())
def test_any_bytes_decoded_with_replacement(blob: bytes) -> None:
    assert diagnose(blob.decode("utf-8", errors="replace")).cause in causes()


EVENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["Normal", "Warning", ""]), "reason": st.text(max_size=20), "message": MIXED}
)


@settings(max_examples=100, deadline=None)
@given(st.lists(EVENT, max_size=8), st.dictionaries(st.sampled_from(["project", "zone", "gpu", "pod"]), st.text()))
def test_any_events_give_a_diagnosis(events: list[dict[str, str]], context: dict[str, str]) -> None:
    assert diagnose_events(events, **context).cause in causes()
