"""kftui's Google adapters under the sandbox's fault plan: one test per fault kind, real clients, no monkeypatched client.

Each test plans a failure in the sandbox (the wire answers as Google or a broken network would) and checks what
kftui makes of it: retried when Google says "try again", else one GcpApiError naming the API and the URL, and a
diagnosis that is never "kftui does not recognise this error yet".
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from kftui.core.diagnosis import UNKNOWN
from kftui.diagnose import diagnose_exception
from kftui.gcp.billing import Billing
from kftui.gcp.calls import RetryPolicy, inflight, owned_by
from kftui.gcp.compute import Compute
from kftui.gcp.container import Container
from kftui.gcp.errors import GcpApiError
from kftui.gcp.services import Services
from kftui.sandbox.faults import FaultPlan, parse_spec
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox
from tests.helpers import closed_port

__all__ = ["gcp_env", "gcp_sandbox"]

PROJECT = "robot-ml-demo"
ZONES = "/compute/v1/projects/robot-ml-demo/zones"


def plan(sandbox: GcpSandbox, *specs: str) -> FaultPlan:
    """The sandbox's live fault plan with these faults added."""
    faults: FaultPlan = sandbox.served.extra["faults"]
    for spec in specs:
        faults.add(parse_spec(spec))
    return faults


def grant_compute(sandbox: GcpSandbox) -> None:
    """The demo caller may read zones (so a healthy answer is a success, and a fault is the only failure)."""
    sandbox.project(PROJECT)["iam"].setdefault("granted", []).append("compute.zones.list")


def zone_calls(sandbox: GcpSandbox) -> int:
    """How many zone lists reached the sandbox."""
    return len(sandbox.world.sent("GET", ZONES))


def failure(call: Any) -> GcpApiError:
    """The GcpApiError a call raises (the test fails if it raises nothing or something else)."""
    with pytest.raises(GcpApiError) as caught:
        call()
    return caught.value


def diagnosed(exc: GcpApiError, cause: str) -> None:
    """The diagnosis names the cause and is not the unknown one."""
    found = diagnose_exception(exc, project=PROJECT)
    assert found.cause != UNKNOWN and found.cause == cause, found


def test_429_twice_is_retried_after_retry_after_and_then_answers(gcp_env: GcpSandbox) -> None:
    grant_compute(gcp_env)
    plan(gcp_env, "compute:GET:*/zones=status,status=429,retry_after=1,times=2")
    zones = Compute(PROJECT).zones()
    assert "us-central1-a" in zones
    assert zone_calls(gcp_env) == 1, "the two 429s never reached the handler; the third call did"


def test_503_is_retried_a_bounded_number_of_times_then_named(gcp_env: GcpSandbox) -> None:
    grant_compute(gcp_env)
    faults = plan(gcp_env, "compute:GET:*/zones=status,status=503")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.status == 503 and exc.metadata["api"] == "compute"
    assert faults.describe()[0]["hits"] == 5, "five attempts, then the error"
    diagnosed(exc, "api-unavailable")


def test_a_retry_after_beyond_the_budget_is_not_waited_for(gcp_env: GcpSandbox) -> None:
    grant_compute(gcp_env)
    faults = plan(gcp_env, "compute:GET:*/zones=status,status=429,retry_after=3600")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.status == 429 and faults.describe()[0]["hits"] == 1
    diagnosed(exc, "rate-limited")


def test_creates_are_not_repeated_after_a_503(gcp_env: GcpSandbox) -> None:
    from kftui.core.gpu import ClusterSpec, NodePoolSpec

    project = gcp_env.project(PROJECT)
    project["services"]["container.googleapis.com"] = "ENABLED"
    faults = plan(gcp_env, "container:POST:*/clusters=status,status=503")
    pool = NodePoolSpec(name="cpu", machine_type="e2-standard-4", initial_nodes=1, min_nodes=1, max_nodes=2)
    spec = ClusterSpec(name="kf", location="us-central1-a", pools=(pool,))
    exc = failure(lambda: Container(PROJECT).create_cluster(spec))
    assert exc.status == 503 and faults.describe()[0]["hits"] == 1, "a lost 503 may have created it: no repeat"


def test_the_policy_waits_with_jitter_and_at_least_retry_after() -> None:
    class RefusedError(Exception):
        code = 429

        class response:  # noqa: N801 - the shape google.api_core gives its exceptions
            headers = {"Retry-After": "2"}

    waits: list[float] = []
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 4:
            raise RefusedError()
        return "ok"

    policy = RetryPolicy("compute", sleep=waits.append, timeout=30)
    assert policy(flaky)() == "ok" and len(waits) == 3
    assert all(2.0 <= w <= 8.0 for w in waits), waits


def test_service_usage_permission_denied_is_its_real_shape(gcp_env: GcpSandbox) -> None:
    plan(gcp_env, "serviceusage:POST=status,status=403")
    exc = failure(lambda: Services().enable(PROJECT, ["container.googleapis.com"], poll_interval=0.01))
    assert exc.reason == "AUTH_PERMISSION_DENIED" and exc.metadata.get("service") is None
    assert exc.message.startswith("Permission denied to enable service [container.googleapis.com]")
    assert "type.googleapis.com/google.rpc.PreconditionFailure" in exc.raw_text


def test_compute_permission_denied_is_its_legacy_shape(gcp_env: GcpSandbox) -> None:
    plan(gcp_env, "compute:GET:*/zones=status,status=403")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.status == 403 and exc.reason is None, "compute sends no ErrorInfo"
    assert exc.message == "Required 'compute.zones.list' permission for 'projects/robot-ml-demo'"
    assert exc.metadata == {"api": "compute", "url": exc.metadata["url"]}, "no ErrorInfo metadata either"


def test_service_disabled_403_is_diagnosed_as_the_api_being_off(gcp_env: GcpSandbox) -> None:
    grant_compute(gcp_env)
    plan(gcp_env, "compute=status,status=403,reason=SERVICE_DISABLED")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.reason == "SERVICE_DISABLED" and exc.metadata["service"] == "compute.googleapis.com"
    diagnosed(exc, "api-disabled")


def test_hang_ends_at_the_call_timeout_naming_api_and_url(gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFTUI_GCP_TIMEOUT", "2")
    plan(gcp_env, "compute=hang")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.kind == "timeout" and exc.metadata["api"] == "compute"
    assert exc.metadata["url"].startswith(gcp_env.url + ZONES)
    diagnosed(exc, "api-unreachable")


def test_a_hung_call_is_listed_as_in_flight_with_its_owner(gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setenv("KFTUI_GCP_TIMEOUT", "3")
    plan(gcp_env, "cloudbilling=hang")
    seen: list[Any] = []

    def call() -> None:
        with owned_by("billing"), pytest.raises(GcpApiError):
            Billing().info(PROJECT)

    worker = threading.Thread(target=call)
    worker.start()
    while worker.is_alive() and not seen:  # for as long as the call hangs, however slowly its client was built
        seen = inflight("billing")
        time.sleep(0.01)
    worker.join()
    assert seen and seen[0].api == "cloudbilling" and seen[0].url == gcp_env.url
    assert inflight("billing") == []


@pytest.mark.parametrize("after", [0, 40])
def test_reset_is_a_transport_failure_with_the_url(gcp_env: GcpSandbox, after: int) -> None:
    grant_compute(gcp_env)
    plan(gcp_env, f"compute=reset,after={after}")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.kind == "reset" and exc.metadata["api"] == "compute"
    diagnosed(exc, "api-unreachable")


def test_refused_names_the_override_that_points_nowhere(gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()  # refuses connections for the whole test
    monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", f"http://127.0.0.1:{port}/compute/v1/")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.kind == "refused" and f"127.0.0.1:{port}" in exc.message
    found = diagnose_exception(exc)
    assert found.cause == "api-unreachable"
    assert found.facts["override"] == "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"
    assert any("unset CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE" in (f.command or "") for f in found.fixes)


@pytest.mark.parametrize("kind", ["html", "html,status=502", "truncated", "shape", "empty"])
def test_garbage_answers_are_never_taken_for_data(gcp_env: GcpSandbox, kind: str) -> None:
    grant_compute(gcp_env)
    plan(gcp_env, f"compute={kind}")
    exc = failure(lambda: Compute(PROJECT).zones())
    assert exc.kind == "garbage" and exc.metadata["api"] == "compute"
    diagnosed(exc, "api-garbled")


def test_a_failed_gke_operation_is_done_with_its_error(gcp_env: GcpSandbox) -> None:
    from kftui.core.gpu import ClusterSpec, NodePoolSpec

    project = gcp_env.project(PROJECT)
    project["services"]["container.googleapis.com"] = "ENABLED"
    project["iam"]["granted"] = ["*"]
    message = (
        "Try a different location, or try again later: Google Compute Engine does not have enough resources "
        "available to fulfill request: us-central1-a."
    )
    plan(gcp_env, f"container:POST:*/clusters=failop,code=8,message={message.replace(',', ';')}")
    container = Container(PROJECT)
    pool = NodePoolSpec(name="cpu", machine_type="e2-standard-4", initial_nodes=1, min_nodes=1, max_nodes=2)
    op = container.create_cluster(ClusterSpec(name="kf", location="us-central1-a", pools=(pool,)))
    exc = failure(lambda: container.wait(op, interval=0.01))
    assert exc.reason == "OPERATION_FAILED" and "does not have enough resources" in exc.message
    cluster = container.get_cluster("us-central1-a", "kf")
    assert cluster is not None and cluster.status == "ERROR" and "enough resources" in cluster.status_message


def test_a_closed_billing_account_stays_linked_with_billing_off(gcp_env: GcpSandbox) -> None:
    gcp_env.project(PROJECT)["billing"]["open"] = False
    info = Billing().info(PROJECT)
    assert info.account == "billingAccounts/01A2B3-C4D5E6-F7A8B9"
    assert info.enabled is False and info.account_open is False


def test_an_api_that_timed_out_gets_short_waits_until_it_answers_again(
    gcp_env: GcpSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kftui.gcp.calls import SILENT_TIMEOUT, budget

    grant_compute(gcp_env)
    monkeypatch.setenv("KFTUI_GCP_TIMEOUT", "2")
    faults = plan(gcp_env, "compute=hang,times=1")
    assert failure(lambda: Compute(PROJECT).zones()).kind == "timeout"
    assert budget("compute", 30.0) == SILENT_TIMEOUT, "a second call to a silent API waits less"
    assert budget("container", 30.0) == 30.0, "other APIs keep their full timeout"
    assert len(faults) == 0 and Compute(PROJECT).zones(), "the hang was used up: the API answers again"
    assert budget("compute", 30.0) == 30.0


def test_a_command_deadline_caps_every_call() -> None:
    from kftui.gcp.calls import budget, set_command_deadline

    api = "an-api-no-other-test-calls"  # another test may have left cloudbilling marked silent in this worker
    set_command_deadline(time.monotonic() + 3.0)
    try:
        assert 0.5 <= budget(api, 30.0) <= 3.0
    finally:
        set_command_deadline(None)
    assert budget(api, 30.0) == 30.0


@pytest.mark.parametrize("api", ["compute", "cloudquotas"])
def test_an_unexpected_404_names_the_api_and_the_endpoint(gcp_env: GcpSandbox, api: str) -> None:
    from kftui.gcp.quotas import Quotas

    grant_compute(gcp_env)
    plan(gcp_env, f"{api}=status,status=404")
    call = (lambda: Compute(PROJECT).zones()) if api == "compute" else (lambda: Quotas(PROJECT).quota_infos())
    exc = failure(call)
    assert exc.status == 404 and exc.metadata["api"] == api
    diagnosed(exc, "api-not-found")
