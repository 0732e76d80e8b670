"""Normalisation: the wrappers real tools add never change what the rules see."""

from __future__ import annotations

import pytest

from kftui.diagnose import diagnose
from kftui.diagnose.normalize import MAX_CHARS, normalize

CORE = "Quota 'NVIDIA_T4_GPUS' exceeded. Limit: 0.0 in region us-central1."


@pytest.mark.parametrize(
    "wrapped",
    [
        CORE,
        f"ERROR: (gcloud.compute.instances.create) {CORE}",
        f"Error 403: {CORE}",
        f"403 POST https://compute.googleapis.com/compute/v1/projects/p-123456/zones/us-central1-a/instances: {CORE}",
        f"google.api_core.exceptions.Forbidden: 403 GET https://x.googleapis.com/v1/y: {CORE}",
        f"Reissued from pod/nb-0: {CORE}",
        CORE.replace(" ", "\t").replace("Limit:", "Limit:\n  "),
        CORE.replace(" ", "  "),
        f"\x1b[31m{CORE}\x1b[0m",
        '{"error": {"code": 403, "message": "' + CORE.replace("'", "\\u0027") + '", "status": "FORBIDDEN"}}',
        "ResponseError: code=403, message=" + CORE,
    ],
)
def test_wrappers_do_not_matter(wrapped: str) -> None:
    result = diagnose(wrapped)
    assert result.cause == "quota-exceeded"
    assert result.facts["metric"] == "NVIDIA_T4_GPUS"
    assert result.facts["region"] == "us-central1"


def test_prefix_values_are_kept() -> None:
    p = normalize("ERROR: (gcloud.container.clusters.create) Error 403: Reissued from pod/x-0: boom")
    assert p.flat == "boom"
    assert p.values["command"] == "gcloud.container.clusters.create"
    assert p.values["http_status"] == 403
    assert p.values["pod"] == "x-0"


def test_json_reasons_and_metadata() -> None:
    p = normalize(
        'prefix {"error": {"code": 403, "message": "nope", "details": [{"reason": "SERVICE_DISABLED", '
        '"metadata": {"service": "container.googleapis.com"}}]}} suffix'
    )
    assert p.has_reason("SERVICE_DISABLED")
    assert p.metadata["service"] == "container.googleapis.com"
    assert p.flat == "prefix nope suffix"
    assert p.values["http_status"] == 403


def test_control_characters_never_survive() -> None:
    p = normalize("a\x1b]0;title\x07b\x00c\x9bd\x1b[2Je")
    assert all(ord(ch) >= 32 for ch in p.flat)
    assert p.flat == "abcde"


def test_size_is_capped() -> None:
    p = normalize("x" * (MAX_CHARS + 10))
    assert len(p.raw) <= MAX_CHARS + 1  # the head, a line break where the middle was, the tail


def test_a_long_text_keeps_its_head_and_its_tail_whole_lines() -> None:
    lines = [f"line {i:07d} of an ordinary training log" for i in range(60_000)]  # about 2.4 MB
    p = normalize("\n".join(["FIRST: the API said no", *lines, "LAST: the crash"]))
    assert len(p.raw) <= MAX_CHARS + 1
    assert p.raw.startswith("FIRST: the API said no\n") and p.raw.endswith("LAST: the crash")
    assert "line 0030000" not in p.raw, "the middle went"
    kept = p.raw.splitlines()
    assert all(k.startswith(("FIRST", "LAST", "line ")) and (not k.startswith("line ") or len(k) == len(lines[0]))
               for k in kept if k), "no line is cut in half"


def test_broken_json_is_left_as_text() -> None:
    p = normalize('{"error": {"message": "unterminated')
    assert "unterminated" in p.flat
