"""A notebook whose readiness probe fails (the blog's "spins forever with no reason shown"), acted out by the
sandbox's notebook controller with kubelet's own words, and what kftui says about it: the notebooks view's
diagnosis, `kftui notebook` progress, and the real kubectl as a second client."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.notebooks import list_notebooks
from kftui.cluster.spawn import progress
from kftui.commands.notebook import follow
from kftui.core.kube import NotebookPhase
from kftui.core.spawner import NotebookSpec, manifests
from kftui.diagnose import diagnose_events
from kftui.sandbox.kube.controller import READINESS
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for
from tests.helpers import tool

SCIPY = "kubeflownotebookswg/jupyter-scipy:v1.9.0"
WORDS = {
    "503": "Readiness probe failed: HTTP probe failed with statuscode: 503",
    "refused": f'Readiness probe failed: Get "http://10.8.3.17:8888/notebook/{PROFILE}/lab/api": dial tcp '
               "10.8.3.17:8888: connect: connection refused",
}


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def _create(kube: KubeSandbox, mode: str) -> Any:
    """The Notebook as the Jupyter web app makes it, with the sandbox's knob, through the real client."""
    client = api_client(path=kube.kubeconfig)
    notebook, _ = manifests(NotebookSpec("lab", PROFILE, SCIPY))
    notebook["metadata"].setdefault("annotations", {})[READINESS] = mode
    k8s.CustomObjectsApi(client).create_namespaced_custom_object("kubeflow.org", "v1", PROFILE, "notebooks", notebook)
    return client


def _unhealthy(client: Any) -> list[Any]:
    events = k8s.CoreV1Api(client).list_namespaced_event(PROFILE, field_selector="involvedObject.name=lab-0").items
    return [e for e in events if e.reason == "Unhealthy"]


@pytest.mark.parametrize("mode", ["503", "refused"])
def test_the_pod_runs_but_never_turns_ready_with_kubelets_words(kube: KubeSandbox, mode: str) -> None:
    client = _create(kube, mode)
    events = wait_for(lambda: [e for e in _unhealthy(client) if (e.count or 0) >= 2], timeout=30,
                      what="the probe failing twice")
    assert len(_unhealthy(client)) == 1, "repeats fold into one event with a count, as kubelet's recorder does"
    event = events[0]
    assert (event.type, event.source.component, event.message) == ("Warning", "kubelet", WORDS[mode])
    assert event.involved_object.field_path == "spec.containers{lab}"
    pod = k8s.CoreV1Api(client).read_namespaced_pod("lab-0", PROFILE)
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].state.running is not None
    assert pod.status.container_statuses[0].ready is False
    ready = next(c for c in pod.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == ("False", "ContainersNotReady",
                                                           "containers with unready status: [lab]")
    assert pod.spec.containers[0].readiness_probe.http_get.path == f"/notebook/{PROFILE}/lab/api"


@pytest.mark.parametrize(("mode", "title"), [
    ("503", "Notebook lab is running, but Jupyter answers HTTP 503 instead of being ready"),
    ("refused", "Notebook lab is running, but nothing answers on its port 8888"),
])
def test_the_notebooks_view_and_kftui_notebook_say_why_in_words(kube: KubeSandbox, mode: str, title: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    client = _create(kube, mode)
    wait_for(lambda: _unhealthy(client), timeout=30, what="the first failed probe")
    row = next(r for r in list_notebooks(client, PROFILE) if r.name == "lab")
    assert row.phase == NotebookPhase.WARNING and row.message == WORDS[mode]
    # the same call the notebooks view makes for a notebook that is not ready
    found = diagnose_events(list(row.events), namespace=row.namespace, pod=row.pod_name, notebook=row.name)
    assert (found.cause, found.title) == ("notebook-not-answering", title)
    assert "spinning" in found.explanation and found.facts["pod"] == "lab-0"
    assert found.fixes[0].command == f"kubectl -n {PROFILE} logs lab-0 --all-containers"
    state = progress(client, PROFILE, "lab")
    assert (state.stage, state.reason, state.ready) == ("NotReady", WORDS[mode], False)
    assert follow(client, PROFILE, "lab", wait=1) == 1
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    said = lines.index(f"NotReady: {WORDS[mode]}")
    assert lines[said + 1] == f"why: {title}"
    out = "\n".join(lines)
    assert "Pulling image" not in out.split("NotReady")[-1]


def test_kubectl_shows_the_notebook_pod_running_and_not_ready(kube: KubeSandbox) -> None:
    kubectl = tool("kubectl")
    client = _create(kube, "503")
    wait_for(lambda: _unhealthy(client), timeout=30, what="the first failed probe")
    out = subprocess.run([kubectl, "--kubeconfig", str(kube.kubeconfig), "get", "pod", "lab-0", "-n", PROFILE],
                         capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    header, row = (line.split() for line in out.stdout.splitlines())
    assert header[:4] == ["NAME", "READY", "STATUS", "RESTARTS"] and row[:4] == ["lab-0", "0/1", "Running", "0"]
