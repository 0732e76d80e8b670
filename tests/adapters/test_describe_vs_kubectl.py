"""kftui's describe text against the real `kubectl describe pod` on the same pods: same keys, same values."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from kftui.core.describe import describe_pod
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
_AGE = re.compile(r"\b\d+[smhd](\d+[smh])?\b")


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeSandbox]:
    with running_kube(demo_scenario(), tmp_path_factory.mktemp("describe")) as sb:
        yield sb


def _kubectl(sb: KubeSandbox, *args: str) -> str:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "KUBECONFIG": str(sb.kubeconfig), "TZ": "UTC"})  # kftui says UTC
    assert done.returncode == 0, done.stderr
    return done.stdout


def _norm(text: str) -> list[str]:
    """Lines with runs of spaces folded and event ages blanked (a second may pass between the two reads)."""
    return [_AGE.sub("AGE", re.sub(r"\s+", " ", line).rstrip()) for line in text.splitlines()]


@pytest.mark.parametrize("pod", ["gpu-notebook-0", "ecr-notebook-0", "train-resnet-0",
                                 "training-pipeline-x7k2q-system-container-impl-2950846120"])
def test_describe_matches_kubectl_line_for_line(kube: KubeSandbox, pod: str) -> None:
    real = _kubectl(kube, "describe", "pod", "-n", PROFILE, pod)
    obj = json.loads(_kubectl(kube, "get", "pod", "-n", PROFILE, pod, "-o", "json"))
    events = json.loads(_kubectl(kube, "get", "events", "-n", PROFILE, "--field-selector",
                                 f"involvedObject.name={pod}", "-o", "json"))["items"]
    assert _norm(describe_pod(obj, events)) == _norm(real)


def test_hostile_label_and_event_text_are_inert() -> None:
    pod = {"metadata": {"name": "p", "namespace": "n", "labels": {"x": "\x1b]0;pwned\x07"}},
           "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Running"}}
    text = describe_pod(pod, [{"type": "Warning", "reason": "X", "message": "\x1b[5mblink\u202e",
                               "lastTimestamp": "2026-01-01T00:00:00Z", "source": {"component": "k"}}])
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "x=␛]0;pwned^G" in text
