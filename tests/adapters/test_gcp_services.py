"""Services adapter against the fake Service Usage API, through the real google-cloud client."""

from __future__ import annotations

import pytest

from kftui.core.cloud import EnableProgress
from kftui.gcp.billing import Billing
from kftui.gcp.errors import GcpApiError
from kftui.gcp.services import Services
from tests.adapters.gcp_fixtures import GcpSandbox, gcp_env, gcp_sandbox

__all__ = ["gcp_env", "gcp_sandbox"]

NEEDED = [
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "cloudbilling.googleapis.com",
    "cloudquotas.googleapis.com",
]


def test_enabled_lists_the_scenario_without_container(gcp_env: GcpSandbox) -> None:
    enabled = Services().enabled("robot-ml-demo")
    assert "container.googleapis.com" not in enabled
    assert {n for n in NEEDED if n != "container.googleapis.com"} <= enabled
    assert gcp_env.world.sent("GET", "/v1/projects/robot-ml-demo/services")[-1].query["filter"] == "state:ENABLED"


def test_get_reports_state_and_title(gcp_env: GcpSandbox) -> None:
    state = Services().get("robot-ml-demo", "container.googleapis.com")
    assert (state.name, state.enabled, state.title) == ("container.googleapis.com", False, "Kubernetes Engine API")


def test_unknown_service_is_404(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Services().get("robot-ml-demo", "nosuch.googleapis.com")
    assert caught.value.status == 404
    assert "Requested entity was not found" in caught.value.raw_text


def test_disabled_api_refuses_with_service_disabled(gcp_env: GcpSandbox) -> None:
    # Billing is a real API call through the same guard: disable it and the call must be refused.
    gcp_env.project("robot-ml-demo")["services"]["cloudbilling.googleapis.com"] = "DISABLED"
    with pytest.raises(GcpApiError) as caught:
        Billing().info("robot-ml-demo")
    err = caught.value
    assert (err.status, err.reason, err.service) == (403, "SERVICE_DISABLED", "cloudbilling.googleapis.com")
    assert err.metadata["consumer"] == "projects/123456789012"
    assert (
        "Cloud Billing API has not been used in project 123456789012 before or it is disabled. Enable it by "
        "visiting https://console.developers.google.com/apis/api/cloudbilling.googleapis.com/overview"
        "?project=123456789012 then retry."
    ) in err.raw_text


def test_enable_flips_container_through_the_operation(gcp_env: GcpSandbox) -> None:
    ticks: list[EnableProgress] = []
    result = Services().enable("robot-ml-demo", NEEDED, on_progress=ticks.append, poll_interval=0.01)
    assert result.ok and result.still_disabled == ()
    assert "container.googleapis.com" in result.enabled
    assert ticks[-1].done and ticks[-1].operation.startswith("operations/acf.")
    assert ticks[-1].services == tuple(NEEDED)
    assert gcp_env.world.sent("GET", "/v1/operations/"), "the client polled the operation"
    assert Services().get("robot-ml-demo", "container.googleapis.com").enabled


def test_enable_without_the_permission_is_services_own_refusal(gcp_env: GcpSandbox) -> None:
    gcp_env.project("robot-ml-demo")["iam"].setdefault("denied", []).append("serviceusage.services.enable")
    with pytest.raises(GcpApiError) as caught:
        Services().enable("robot-ml-demo", ["container.googleapis.com"], poll_interval=0.01)
    # Service Usage's real answer: its own words, AUTH_PERMISSION_DENIED in its domain, and no metadata at all.
    assert (caught.value.status, caught.value.reason) == (403, "AUTH_PERMISSION_DENIED")
    assert caught.value.message.startswith("Permission denied to enable service [container.googleapis.com]")
    assert set(caught.value.metadata) <= {"api", "url"}, "only kftui's note of where it called; no ErrorInfo metadata"
    assert not Services().get("robot-ml-demo", "container.googleapis.com").enabled


def test_enable_of_an_unknown_service_is_refused(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Services().enable("robot-ml-demo", ["nosuch.googleapis.com"], poll_interval=0.01)
    assert caught.value.reason == "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED"


def test_other_projects_api_is_consumer_invalid(gcp_env: GcpSandbox) -> None:
    with pytest.raises(GcpApiError) as caught:
        Services().enabled("acme-prod-ml")
    assert (caught.value.status, caught.value.reason) == (403, "CONSUMER_INVALID")
