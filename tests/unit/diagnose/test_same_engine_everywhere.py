"""One error text through the four places kftui explains errors: each must show the engine's same diagnosis.

The surfaces: a wizard step's failing finding (steps.project.error_finding, which every GCP step uses), the watch
view's pod details (screens.details.pod_details, reading events from the sandbox Kubernetes API), the deploy
progress line for a failed apply (operations.deploy.apply_failure), and `kftui explain --json`.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kftui.diagnose import diagnose
from tests.adapters.kube_fixtures import PROFILE, demo_scenario, running_kube

TEXTS = {
    "webhook": (
        'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
        'webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager'
        '.svc:443/mutate?timeout=10s": no endpoints available for service "cert-manager-webhook"'
    ),
    "removed-api": (
        'error: unable to recognize "crds.yaml": no matches for kind "CustomResourceDefinition" in version '
        '"apiextensions.k8s.io/v1beta1"'
    ),
}


class _Services:
    """What pod_details asks of the app's services: a Kubernetes API client (here for the sandbox)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def now(self) -> datetime:
        return datetime.now(UTC)

    def kube_api(self) -> Any:
        from kftui.cluster.kubeconfig import api_client

        return api_client(path=self.kubeconfig)


def _wizard(text: str) -> tuple[str, str]:
    """A step's finding for an API exception whose body carries the text (as the Kubernetes client raises it)."""
    from kubernetes.client.exceptions import ApiException

    from kftui.steps.project import error_finding

    exc = ApiException(status=500, reason="Internal Server Error")
    exc.body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": text, "code": 500})
    finding = error_finding("demo.check", exc, "kf-demo-381201", "apply the manifests")
    assert finding.diagnosis is not None
    return finding.diagnosis.cause, finding.title


def _watch(text: str, tmp_path: Path) -> str:
    """The details pane of a Pending pod whose only warning event carries the text."""
    from kftui.core.kube import PodRow
    from kftui.screens.details import pod_details

    scenario = demo_scenario()
    pod = "ecr-notebook-0"
    kube = scenario["kube"]
    kube["events"] = [e for e in kube["events"] if e["involvedObject"]["name"] != pod] + [
        {"namespace": PROFILE, "involvedObject": {"kind": "Pod", "name": pod}, "type": "Warning",
         "reason": "FailedCreate", "message": text, "count": 3, "age_seconds": 5, "source": "kubelet"}
    ]
    row = PodRow(namespace=PROFILE, name=pod, ready="0/2", status="Pending", restarts=0, created=None, node="",
                 gpus=0)
    with running_kube(scenario, tmp_path) as sandbox:
        return pod_details(_Services(sandbox.kubeconfig), row).plain


def _deploy(text: str, tmp_path: Path) -> str:
    """The deploy progress line's reason for an apply pass that failed with the text."""
    from kftui.operations.deploy import apply_failure

    return apply_failure([text])


def _explain(text: str) -> dict[str, Any]:
    """`kftui explain --json TEXT`."""
    from kftui.commands.explain import run_explain

    out = io.StringIO()
    run_explain(text, as_json=True, out=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_one_text_gives_one_diagnosis_on_every_surface(name: str, tmp_path: Path) -> None:
    text = TEXTS[name]
    expected = diagnose(text)
    assert expected.known

    cause, title = _wizard(text)
    assert (cause, title) == (expected.cause, expected.title)

    details = _watch(text, tmp_path)
    assert expected.title in details
    assert expected.explanation.split(". ")[0] in details

    assert _deploy(text, tmp_path) == expected.title

    explained = _explain(text)
    assert (explained["cause"], explained["title"]) == (expected.cause, expected.title)
    assert [f["command"] for f in explained["fixes"]] == [f.command for f in expected.fixes]


def test_kubernetes_too_new_is_never_called_a_crd_still_being_established(tmp_path: Path) -> None:
    reason = _deploy(TEXTS["removed-api"], tmp_path)
    assert "still being established" not in reason
    assert "apiextensions.k8s.io/v1beta1" in reason
