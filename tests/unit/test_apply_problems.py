"""kubectl's refusals sorted into what a deploy waits for; a built-in kind is never blamed on a CRD."""

from __future__ import annotations

from kftui.cluster.apply import ApplyProblem, problems
from kftui.operations.deploy import _explain

REAL = [
    'resource mapping not found for name: "admission-webhook-cert" namespace: "kubeflow" from "STDIN": '
    'no matches for kind "Certificate" in version "cert-manager.io/v1"',
    "ensure CRDs are installed first",
    'resource mapping not found for name: "x" namespace: "" from "STDIN": no matches for kind '
    '"MutatingWebhookConfiguration" in version "admissionregistration.k8s.io/v1beta1"',
    'Error from server (InternalError): Internal error occurred: failed calling webhook '
    '"clusterservingruntime.kserve-webhook-server.validator": failed to call webhook: Post '
    '"https://kserve-webhook-server-service.kubeflow.svc:443/validate-serving-kserve-io-v1alpha1-clusterservingruntime'
    '?timeout=10s": no endpoints available for service "kserve-webhook-server-service"',
    'Error from server (NotFound): namespaces "later" not found',
]


def test_refusals_are_sorted_by_what_they_need() -> None:
    assert problems(REAL) == [
        ApplyProblem("crd", "Certificate (cert-manager.io/v1)"),
        ApplyProblem("builtin", "MutatingWebhookConfiguration (admissionregistration.k8s.io/v1beta1)"),
        ApplyProblem("webhook", "kubeflow/kserve-webhook-server-service"),
        ApplyProblem("namespace", "later"),
    ]


def test_a_builtin_kind_is_never_blamed_on_a_crd() -> None:
    text = _explain(problems(REAL[2:3]))
    assert "built into Kubernetes" in text and "CRD" not in text
    assert "its CRD comes later" in _explain(problems(REAL[:1]))
