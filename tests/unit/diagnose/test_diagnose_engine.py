"""The three ways in: exceptions from every client stack, event lists, and the registry itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests  # type: ignore[import-untyped]
from google.api_core import exceptions as core_exc
from google.auth import exceptions as auth_exc
from kubernetes.client.exceptions import ApiException

from kftui.core.diagnosis import Diagnosis
from kftui.diagnose import all_rules, causes, diagnose, diagnose_events, diagnose_exception, rule
from kftui.diagnose.registry import Rule
from kftui.gcp.errors import GcpApiError


def _google_error(status: int, message: str, reason: str, metadata: dict[str, str]) -> core_exc.GoogleAPICallError:
    """A real google-api-core exception, built the way the REST transport builds it."""
    payload = {
        "error": {
            "code": status,
            "message": message,
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                    "metadata": metadata,
                }
            ],
        }
    }
    response = requests.Response()
    response.status_code = status
    return core_exc.format_http_response_error(
        response, "GET", "https://compute.googleapis.com/compute/v1/projects/kf-demo-381201", payload
    )


def test_google_api_core_service_disabled() -> None:
    exc = _google_error(
        403,
        "Compute Engine API has not been used in project 123456789012 before or it is disabled.",
        "SERVICE_DISABLED",
        {"service": "compute.googleapis.com", "consumer": "projects/123456789012"},
    )
    result = diagnose_exception(exc)
    assert result.cause == "api-disabled"
    assert result.facts["service"] == "compute.googleapis.com"
    assert result.facts["project"] == "kf-demo-381201"
    assert any(f.command == "gcloud services enable compute.googleapis.com --project=kf-demo-381201" for f in result.fixes)


def test_google_api_core_permission_from_metadata_only() -> None:
    exc = _google_error(403, "The caller does not have permission", "IAM_PERMISSION_DENIED",
                        {"permission": "serviceusage.services.enable"})
    result = diagnose_exception(exc, project="kf-demo-381201")
    assert result.cause == "permission-denied"
    assert result.facts["permission"] == "serviceusage.services.enable"
    assert result.facts["role"] == "roles/serviceusage.serviceUsageAdmin"


def test_kubernetes_api_exception_body() -> None:
    exc = ApiException(status=403, reason="Forbidden")
    exc.body = json.dumps(
        {
            "kind": "Status",
            "status": "Failure",
            "message": 'pods is forbidden: User "ana@example.com" cannot list resource "pods" in API group "" '
            'in the namespace "kubeflow"',
            "reason": "Forbidden",
            "code": 403,
        }
    ).encode()
    result = diagnose_exception(exc)
    assert result.cause == "rbac-forbidden"
    assert result.facts["namespace"] == "kubeflow"


def test_default_credentials_error() -> None:
    exc = auth_exc.DefaultCredentialsError(
        "Your default credentials were not found. To set up Application Default Credentials, see "
        "https://cloud.google.com/docs/authentication/external/set-up-adc for more information."
    )
    assert diagnose_exception(exc).cause == "adc-missing"


def test_missing_auth_plugin_as_file_not_found() -> None:
    exc = FileNotFoundError(2, "No such file or directory")
    exc.filename = "gke-gcloud-auth-plugin"
    result = diagnose_exception(exc, cluster="kubeflow", region="us-central1")
    assert result.cause == "auth-plugin-missing"
    assert any("get-credentials kubeflow --location=us-central1" in (f.command or "") for f in result.fixes)


def test_raw_text_attribute_wins_and_chain_is_read() -> None:
    inner = GcpApiError(
        "Quota exceeded",
        status=403,
        raw_text="Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.",
    )
    try:
        try:
            raise inner
        except GcpApiError as err:
            raise RuntimeError("setup step failed") from err
    except RuntimeError as outer:
        result = diagnose_exception(outer, project="kf-demo-381201")
    assert result.cause == "quota-exceeded"
    assert result.facts["project"] == "kf-demo-381201"


def test_exception_whose_str_breaks() -> None:
    class BrokenError(Exception):
        def __str__(self) -> str:
            raise ValueError("no")

    assert diagnose_exception(BrokenError()).cause == "unknown"


def test_events_newest_autoscaler_word_wins() -> None:
    triggered = {
        "type": "Normal",
        "reason": "TriggeredScaleUp",
        "message": "pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/"
        "instanceGroups/gke-kf-gpu-1-grp 0->1 (max: 2)}]",
    }
    failed = {
        "type": "Warning",
        "reason": "FailedScaleUp",
        "message": "Node scale up in zones us-central1-a associated with this pod failed: GCE quota exceeded. "
        "Pod is at risk of not being scheduled.",
    }
    assert diagnose_events([triggered, failed]).cause == "scale-up-quota"
    assert diagnose_events([failed, triggered]).cause == "scale-up-pending"


def test_events_unknown_quotes_the_last_warning() -> None:
    events = [
        {"type": "Normal", "reason": "Scheduled", "message": "Successfully assigned kubeflow/nb-0 to node-1"},
        {"type": "Warning", "reason": "FailedMount", "message": "Reissued from pod/nb-0: something odd happened"},
    ]
    result = diagnose_events(events, namespace="kubeflow")
    assert result.cause == "unknown"
    assert "something odd happened" in result.explanation
    assert result.facts["pod"] == "nb-0"
    assert any(f.command == "kubectl -n kubeflow describe pod nb-0" for f in result.fixes)


def test_events_tolerate_junk() -> None:
    events: list[Any] = [None, {}, {"reason": None, "message": 12}, "text"]
    assert diagnose_events(events).cause == "unknown"


def test_context_fills_what_the_text_lacks_and_ignores_non_strings() -> None:
    result = diagnose("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.", pod="nb-0", namespace=None)  # type: ignore[arg-type]
    assert result.facts["pod"] == "nb-0"
    assert "namespace" not in result.facts


def test_registry_is_sorted_and_every_cause_listed() -> None:
    rules = all_rules()
    assert [r.priority for r in rules] == sorted((r.priority for r in rules), reverse=True)
    assert set(causes()) == {r.cause for r in rules} | {"unknown"}
    assert len({r.name for r in rules}) == len(rules)


def test_rule_that_answers_another_cause_is_refused() -> None:
    @rule("one-cause", priority=1)
    def liar(p: Any, ctx: Any) -> Diagnosis:
        return Diagnosis(cause="other-cause", title="t", explanation="e")

    assert isinstance(liar, Rule)
    with pytest.raises(ValueError, match="one-cause"):
        liar.match("anything")


def test_unknown_keeps_the_first_meaningful_line() -> None:
    result = diagnose("\n\n   \nERROR: (gcloud.foo) something new\nsecond line")
    assert result.cause == "unknown"
    assert result.facts["first_line"] == "something new"
    assert not result.known
