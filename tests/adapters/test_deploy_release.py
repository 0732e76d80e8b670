"""The real Kubeflow 26.03 release deployed to done against the sandbox, as `kftui deploy` runs it for GKE.

Real google-cloud-container, real gcloud and real kubectl; the vendored release from ../shared/data (skipped,
saying why, when absent). The run's per-component counts and duration are printed (pytest -s) for the report.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.commands.deploy import run_deploy
from kftui.core.plan import COMPONENTS
from kftui.errors import ConfigError
from kftui.operations.deploy import load_records
from kftui.sandbox import Sandbox
from tests.adapters.test_deploy_cli import FLAGS, start
from tests.release_data import EXAMPLE, EXAMPLE_OBJECTS, kubectl_or_skip, vendored_tree


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    kubectl_or_skip()
    yield from start(tmp_path, monkeypatch)


def record() -> dict[str, Any]:
    return next(iter(load_records().values()))


@pytest.mark.e2e  # the real release through real gcloud and kubectl: end to end
def test_the_real_release_deploys_to_done_in_upstreams_order(world: Sandbox, tmp_path: Path) -> None:
    root = vendored_tree(tmp_path / "release")
    out = io.StringIO()
    began = time.monotonic()
    code = run_deploy(**{**FLAGS, "yes": True, "manifests": str(root), "wait_timeout": 60.0}, out=out)
    took = time.monotonic() - began
    text = out.getvalue()
    assert code == 0, text[-3000:]
    counts = record()["components"]
    print(f"\nreal release deployed in {took:.1f} s; objects per component: {counts}")
    assert set(counts) == {c.name for c in COMPONENTS}  # every component (their order is checked below)
    assert sum(counts.values()) == EXAMPLE_OBJECTS  # the same 675 objects as `example`, with GKE's Istio
    lines = text.splitlines()
    firsts = [next(i for i, line in enumerate(lines) if f"component {c.name}: building" in line) for c in COMPONENTS]
    assert firsts == sorted(firsts)
    assert "ready: all" in text and "deployments are Available" in text
    kube = world.kube.state
    cni = kube.get("daemonsets", "kube-system", "istio-cni-node")
    assert cni is not None
    paths = {v.get("hostPath", {}).get("path") for v in cni["spec"]["template"]["spec"]["volumes"]}
    assert "/home/kubernetes/bin" in paths and "/opt/cni/bin" not in paths  # the GKE CNI, never overwritten
    assert kube.get("profiles", None, "kubeflow-user-example-com") is not None
    # KServe's runtimes pass its webhook, whose controller needs cert-manager's secret first
    assert kube.get("clusterservingruntimes", None, "kserve-sklearnserver") is not None
    assert "CRD is still being established" not in text and "MutatingWebhookConfiguration" not in text


@pytest.mark.e2e  # the real release through real gcloud and kubectl: end to end
def test_a_rendered_release_file_deploys_too(world: Sandbox) -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"real release fixture {EXAMPLE.name} is absent")
    out = io.StringIO()
    code = run_deploy(**{**FLAGS, "yes": True, "manifests": str(EXAMPLE), "wait_timeout": 60.0}, out=out)
    text = out.getvalue()
    assert code == 0, text[-3000:]
    assert f"component rendered {EXAMPLE.name}: 675 applied" in text
    assert "carries Istio's default CNI (/opt/cni/bin, read-only on GKE)" in text  # said, not hidden
    # A webhook server takes its start-up time (the sandbox's webhook_ready_seconds; Knative's webhook config
    # precedes objects it admits in the one stream): they are refused, the deploy names the webhook, waits for its
    # deployments, then applies only what was refused
    said = [line.split("] ", 1)[-1] for line in text.splitlines()]
    subject = f"component rendered {EXAMPLE.name}"
    refused = next(i for i, line in enumerate(said) if line.startswith(f"retry rendered {EXAMPLE.name}: "))
    assert "webhook" in said[refused] and "not serving yet" in said[refused], said[refused]
    waits = [line for line in said[refused + 1:] if line.startswith(f"{subject}: waiting for webhook ")]
    assert waits and waits[0].endswith(")") and "(deployments in " in waits[0], said[refused:refused + 4]
    again = next(line for line in said[refused:] if line.startswith(f"{subject}: applying "))
    assert again.endswith("(retry 1)") and not again.startswith(f"{subject}: applying 594/")  # only the refused


@pytest.mark.e2e  # kftui deploy renders the manifests with the real kubectl (kustomize): end to end
def test_remote_bases_that_need_the_network_are_said_in_one_line(world: Sandbox, tmp_path: Path) -> None:
    base = tmp_path / "manifests" / "common" / "kubeflow-namespace" / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(
        "resources:\n- https://github.invalid/argoproj/argo-workflows/manifests/base?ref=v3.7.3\n")
    with pytest.raises(ConfigError) as failed:
        run_deploy(**{**FLAGS, "yes": True, "manifests": str(tmp_path / "manifests")}, out=io.StringIO())
    message = str(failed.value)
    assert message.startswith("kubeflow-namespace (common/kubeflow-namespace/base) needs the network: it pulls "
                              "https://github.invalid/argoproj/argo-workflows/manifests/base?ref=v3.7.3")
    assert "--manifests FILE" in message and "\n" not in message and len(message) < 400
