"""Pure pod/notebook logic and the log sanitiser/buffer: no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kftui.core.kube import NotebookPhase, human_age, notebook_phase, parse_time, pod_row
from kftui.core.logbuffer import LineBuffer, sanitize, strip_ansi


def pod(statuses: list[dict[str, Any]], phase: str = "Running", **meta: Any) -> dict[str, Any]:
    """A minimal pod as JSON."""
    return {"metadata": {"name": "p", "namespace": "ns", **meta},
            "spec": {"containers": [{"name": s["name"]} for s in statuses]},
            "status": {"phase": phase, "containerStatuses": statuses}}


def test_status_like_kubectl() -> None:
    crash = pod([{"name": "a", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
    assert pod_row(crash).status == "CrashLoopBackOff" and pod_row(crash).restarts == 7
    done = pod([{"name": "a", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}], "Succeeded")
    assert pod_row(done).status == "Completed" and pod_row(done).ready == "0/1"
    term = pod([{"name": "a", "ready": True, "state": {"running": {}}}], deletionTimestamp="2026-01-01T00:00:00Z")
    assert pod_row(term).status == "Terminating"
    two = pod([{"name": "a", "ready": True, "state": {"running": {}}}, {"name": "b", "state": {"running": {}}}])
    assert pod_row(two).ready == "1/2"
    sig = pod([{"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}}], "Failed")
    assert pod_row(sig).status == "Signal:9"


def test_init_containers_and_gpus() -> None:
    p = pod([{"name": "a", "state": {"waiting": {"reason": "PodInitializing"}}}], "Pending")
    p["spec"]["initContainers"] = [{"name": "i1"}, {"name": "i2"}]
    p["status"]["initContainerStatuses"] = [
        {"name": "i1", "state": {"terminated": {"exitCode": 0}}}, {"name": "i2", "state": {"running": {}}}]
    p["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "2"}}
    row = pod_row(p)
    assert row.status == "Init:1/2" and row.gpus == 2


def test_parse_time_and_age() -> None:
    t = parse_time("2026-04-12T09:00:05.123456789Z")
    assert t == datetime(2026, 4, 12, 9, 0, 5, 123456, tzinfo=UTC)
    now = datetime(2026, 4, 12, 12, 0, tzinfo=UTC)
    assert human_age(now - timedelta(seconds=45), now) == "45s"
    assert human_age(now - timedelta(minutes=15), now) == "15m"
    assert human_age(now - timedelta(hours=3, minutes=5), now) == "3h5m"
    assert human_age(now - timedelta(days=3, hours=4), now) == "3d4h"
    assert parse_time("garbage") is None


def test_notebook_phase_rules() -> None:
    assert notebook_phase({"metadata": {"annotations": {"kubeflow-resource-stopped": "x"}},
                           "status": {"readyReplicas": 0}})[0] == NotebookPhase.STOPPED
    assert notebook_phase({"metadata": {}, "status": {"readyReplicas": 1}}) == (NotebookPhase.READY, "Running")
    waiting = {"metadata": {}, "status": {"readyReplicas": 0, "containerState": {"waiting": {
        "reason": "ImagePullBackOff", "message": "Back-off"}}}}
    assert notebook_phase(waiting) == (NotebookPhase.WARNING, "ImagePullBackOff: Back-off")
    pending = {"metadata": {}, "status": {"readyReplicas": 0, "containerState": {}, "conditions": []}}
    ev = [{"type": "Warning", "message": "GCE quota exceeded", "lastTimestamp": "2026-01-01T00:00:00Z"}]
    assert notebook_phase(pending, ev) == (NotebookPhase.WARNING, "GCE quota exceeded")
    assert notebook_phase(pending)[0] == NotebookPhase.WAITING


@pytest.mark.parametrize(("raw", "shown"), [
    ("plain text\twith tab", "plain text\twith tab"),
    ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),
    ("\x1b]0;title\x07rest", "␛]0;title^Grest"),
    ("bell\x07 nul\x00 del\x7f c1\x9b", "bell^G nul^@ del<7F> c1<9B>"),
    ("carriage\rreturn", "carriage^Mreturn"),
    ("bidi \u202eevil", "bidi <U+202E>evil"),
    ("unicode ✓ █ é", "unicode ✓ █ é"),
])
def test_sanitize(raw: str, shown: str) -> None:
    out = sanitize(raw)
    assert out == shown
    assert not any(ord(c) < 0x20 and c != "\t" for c in out)


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[1;31m[ERROR]\x1b[0m boom \x1b]0;t\x07x") == "[ERROR] boom x"


def test_line_buffer_drops_oldest() -> None:
    buf = LineBuffer(3)
    assert buf.extend(["a", "b"]) == 0
    assert buf.extend(["c", "d", "e"]) == 2
    assert list(buf) == ["c", "d", "e"] and buf.dropped == 2 and buf.total == 5
    assert buf.tail(2) == ["d", "e"] and buf[0] == "c" and len(buf) == 3
    with pytest.raises(ValueError):
        LineBuffer(0)
