"""Hostile Events through the fake API server and the real kubernetes client: every field junk, nothing crashes.

The events are stored as the server holds them (no validation on the way in, as from a broken or hostile writer),
then read back over HTTP by kftui's adapters exactly as from a real cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.cluster._http import ClusterApiError
from kftui.cluster.events import COUNT_LIMIT, TEXT_LIMIT, list_events, object_events
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.notebooks import list_notebooks
from kftui.cluster.watch import ResourceWatcher
from kftui.core.describe import describe_pod
from kftui.core.kube import WatchKind
from kftui.core.table import WatchSpec
from kftui.sandbox.faults import parse_spec
from kftui.views.events import event_row
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for

POD = "ecr-notebook-0"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def _seed(kube: KubeSandbox, name: str, **fields: Any) -> None:
    """Store one Event about the notebook's pod with the given raw fields, as the server would serve it."""
    event = {"metadata": {"name": name, "namespace": PROFILE},
             "involvedObject": {"kind": "Pod", "name": POD, "namespace": PROFILE},
             "reason": "Hostile", "message": name, "lastTimestamp": "2026-12-01T12:00:00Z"}
    event.update(fields)
    kube.world.put("events", event)


COUNTS: list[tuple[str, Any, int]] = [
    ("count-word", "many", 1),
    ("count-digits-huge", "9" * 5000, COUNT_LIMIT),  # int() of this raises in Python 3.11+
    ("count-int-huge", 10**40, COUNT_LIMIT),
    ("count-negative", -7, 1),
    ("count-infinite", float("inf"), 1),  # json.dumps writes Infinity and the client's json.loads reads it back
    ("count-nan", float("nan"), 1),
    ("count-float-huge", 1e300, COUNT_LIMIT),
    ("count-bool", True, 1),
    ("count-list", [3], 1),
    ("count-object", {"n": 3}, 1),
    ("count-fine", 4, 4),
]


def test_hostile_counts_are_bounded_and_never_crash(kube: KubeSandbox) -> None:
    for name, count, _ in COUNTS:
        _seed(kube, name, count=count)
    _seed(kube, "series-junk", series="not an object")
    _seed(kube, "series-count", series={"count": "12"})
    got = {e["message"]: e["count"] for e in object_events(api_client(path=kube.kubeconfig), PROFILE, POD)}
    for name, _, expected in COUNTS:
        assert got[name] == expected, name
    assert got["series-junk"] == 1 and got["series-count"] == 12


def test_every_other_field_hostile_too(kube: KubeSandbox) -> None:
    _seed(kube, "shapes", type={"x": 1}, reason=["r"], source="kubelet", lastTimestamp=12345,
          metadata={"name": "shapes", "namespace": PROFILE, "creationTimestamp": ["no"]}, reportingComponent=7)
    _seed(kube, "huge", message="x" * 1_000_000, reason="R" * 10_000,
          source={"component": {"nested": True}, "host": "h" * 10_000})
    events = {e["reason"][:5]: e for e in object_events(api_client(path=kube.kubeconfig), PROFILE, POD)}
    shapes = events[""]
    assert shapes["type"] == "Normal" and shapes["source"] == "7"
    assert shapes["lastTimestamp"] == "" and shapes["object"] == f"pod/{POD}"
    huge = events["RRRRR"]
    assert len(huge["message"]) == TEXT_LIMIT and huge["message"].endswith("…")
    assert len(huge["reason"]) <= 256 and huge["source"].startswith(", hhh") and len(huge["source"]) < 300
    for event in events.values():
        assert all(isinstance(v, str) for k, v in event.items() if k != "count")
        assert isinstance(event["count"], int)


def test_notebook_events_with_a_junk_involved_object_are_skipped_not_crashed_on(kube: KubeSandbox) -> None:
    _seed(kube, "count-word", count="many")
    for i, inv in enumerate(["a string", ["list"], {"kind": "Notebook", "name": {"x": 1}}, None]):
        kube.world.put("events", {"metadata": {"name": f"junk-{i}", "namespace": PROFILE}, "involvedObject": inv,
                                  "message": 5, "count": "9" * 5000})
    rows = {r.name: r for r in list_notebooks(api_client(path=kube.kubeconfig), PROFILE)}
    ecr = rows["ecr-notebook"]
    assert any(e["message"] == "count-word" and e["count"] == 1 for e in ecr.events)
    assert ecr.message.startswith("ImagePullBackOff")


def test_an_events_answer_of_another_shape_is_an_error_naming_the_path(kube: KubeSandbox) -> None:
    kube.served.extra["faults"].add(parse_spec(f"kube:GET:/api/v1/namespaces/{PROFILE}/events=shape,times=1"))
    with pytest.raises(ClusterApiError, match=f"GET /api/v1/namespaces/{PROFILE}/events with JSON of another shape"):
        object_events(api_client(path=kube.kubeconfig), PROFILE, POD)


def test_the_events_view_watch_shows_hostile_events_instead_of_dropping_them_or_looping(kube: KubeSandbox) -> None:
    # int(inf) raised OverflowError in the view's row function: the watch took it for a transport error and
    # re-listed forever; a string `series` or `source` raised AttributeError and the event silently vanished.
    _seed(kube, "inf-count", count=float("inf"), series="junk", source="kubelet", lastTimestamp=12345,
          metadata={"name": "inf-count", "namespace": PROFILE, "creationTimestamp": ["no"]})
    _seed(kube, "huge-count", count="9" * 5000, involvedObject={"kind": "Pod", "name": POD, "namespace": PROFILE},
          message="m" * 100_000)
    watcher = ResourceWatcher(api_client(path=kube.kubeconfig), WatchSpec("events", event_row), PROFILE,
                              timeout_seconds=30)
    changes: list[Any] = []
    thread = watcher.start(changes.append)
    try:
        first = wait_for(lambda: changes and changes[0], what="the snapshot")
    finally:
        watcher.stop()
        thread.join(timeout=10)
    assert first.kind == WatchKind.SYNCED and watcher.reconnects == 0
    rows = {r.message[:9]: r for r in first.snapshot}
    assert rows["inf-count"].count == 1 and rows["inf-count"].source == "" and rows["inf-count"].last is None
    huge = rows["mmmmmmmmm"]
    assert huge.count == COUNT_LIMIT and len(huge.message) == TEXT_LIMIT and huge.object == POD


def test_describe_of_a_pod_with_hostile_events_does_not_crash(kube: KubeSandbox) -> None:
    _seed(kube, "inf-count", count=float("inf"), source=["kubelet"], lastTimestamp=12345, firstTimestamp={"a": 1})
    client = api_client(path=kube.kubeconfig)
    raw = list_events(client, PROFILE, f"involvedObject.name={POD}")
    pod = kube.world.get("pods", PROFILE, POD)
    assert pod is not None
    text = describe_pod(pod, raw)
    assert "inf-count" in text and "Events:" in text
