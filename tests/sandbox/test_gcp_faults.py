"""The fake Google APIs act out the fault plan on the wire: real bodies per API, and every broken answer kind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests  # type: ignore[import-untyped]

from kftui.sandbox.faults import FaultPlan, parse_spec
from kftui.sandbox.gcp.common import issue_token
from tests.adapters.gcp_fixtures import GcpSandbox, demo_scenario, start_sandbox

PROJECT = "robot-ml-demo"
ME = "ada@robot-ml-demo.iam.gserviceaccount.com"


@pytest.fixture
def gcp() -> Iterator[GcpSandbox]:
    """The demo world where the caller holds every permission, so each refusal below comes from the plan."""
    scenario = demo_scenario()
    scenario["projects"][PROJECT]["iam"]["granted"] = ["*"]
    scenario["projects"][PROJECT]["services"]["container.googleapis.com"] = "ENABLED"
    sandbox, stop = start_sandbox(scenario)
    try:
        yield sandbox
    finally:
        stop()


def faults(sandbox: GcpSandbox, *specs: str) -> FaultPlan:
    """The live plan with these faults added."""
    plan: FaultPlan = sandbox.served.extra["faults"]
    for spec in specs:
        plan.add(parse_spec(spec))
    return plan


def call(sandbox: GcpSandbox, method: str, path: str, body: Any = None, timeout: float = 10) -> requests.Response:
    """One authenticated request on the wire."""
    headers = {"Authorization": f"Bearer {issue_token(ME)}"}
    return requests.request(method, sandbox.url + path, json=body, headers=headers, timeout=timeout)


def test_service_usage_refuses_enable_in_its_own_shape(gcp: GcpSandbox) -> None:
    faults(gcp, "serviceusage:POST=status,status=403")
    answer = call(
        gcp, "POST", f"/v1/projects/{PROJECT}/services:batchEnable", {"serviceIds": ["container.googleapis.com"]}
    )
    error = answer.json()["error"]
    assert (answer.status_code, error["status"]) == (403, "PERMISSION_DENIED")
    assert error["message"].startswith("Permission denied to enable service [container.googleapis.com]\nHelp Token: ")
    kinds = {d["@type"].rsplit(".", 1)[-1]: d for d in error["details"]}
    assert kinds["PreconditionFailure"]["violations"] == [{"type": "googleapis.com", "subject": "110002"}]
    info = kinds["ErrorInfo"]
    assert info == {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "AUTH_PERMISSION_DENIED",
                    "domain": "serviceusage.googleapis.com"}, "no metadata at all"  # fmt: skip


def test_compute_refuses_in_its_legacy_shape_without_error_info(gcp: GcpSandbox) -> None:
    faults(gcp, "compute=status,status=403")
    error = call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").json()["error"]
    message = f"Required 'compute.zones.list' permission for 'projects/{PROJECT}'"
    assert error == {"code": 403, "message": message, "status": "PERMISSION_DENIED",
                     "errors": [{"message": message, "domain": "global", "reason": "forbidden"}]}  # fmt: skip


def test_compute_refusal_names_each_path_permission(gcp: GcpSandbox) -> None:
    faults(gcp, "compute=status,status=403")
    cases = {
        f"/compute/v1/projects/{PROJECT}": ("compute.projects.get", f"projects/{PROJECT}"),
        f"/compute/v1/projects/{PROJECT}/regions/us-central1": (
            "compute.regions.get", f"projects/{PROJECT}/regions/us-central1"),
        f"/compute/v1/projects/{PROJECT}/aggregated/acceleratorTypes": ("compute.acceleratorTypes.list",
                                                                        f"projects/{PROJECT}"),
    }  # fmt: skip
    for path, (permission, resource) in cases.items():
        message = call(gcp, "GET", path).json()["error"]["message"]
        assert message == f"Required '{permission}' permission for '{resource}'"


def test_gke_refuses_with_its_own_words(gcp: GcpSandbox) -> None:
    faults(gcp, "container=status,status=403")
    name = f"projects/{PROJECT}/locations/us-central1-a/clusters/kf"
    error = call(gcp, "GET", f"/v1/{name}").json()["error"]
    assert error == {"code": 403, "status": "PERMISSION_DENIED",
                     "message": f'Required "container.clusters.get" permission(s) for "{name}".'}  # fmt: skip


def test_429_is_rate_limit_exceeded_with_retry_after(gcp: GcpSandbox) -> None:
    faults(gcp, "cloudquotas=status,status=429,retry_after=7,times=1")
    path = f"/v1/projects/{PROJECT}/locations/global/services/compute.googleapis.com/quotaInfos"
    answer = call(gcp, "GET", path)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    error = answer.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"] == (
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service "
        "'cloudquotas.googleapis.com' for consumer 'project_number:123456789012'."
    )
    info = next(d for d in error["details"] if d["@type"].endswith("ErrorInfo"))
    assert info["reason"] == "RATE_LIMIT_EXCEEDED" and info["metadata"]["consumer"] == "projects/123456789012"
    assert call(gcp, "GET", path).status_code == 200, "times=1: the next call goes through"


@pytest.mark.parametrize("reason", ["SERVICE_DISABLED", "BILLING_DISABLED", "CONSUMER_INVALID"])
def test_other_403_shapes_carry_their_error_info(gcp: GcpSandbox, reason: str) -> None:
    faults(gcp, f"cloudbilling=status,status=403,reason={reason}")
    error = call(gcp, "GET", f"/v1/projects/{PROJECT}/billingInfo").json()["error"]
    info = next(d for d in error["details"] if d["@type"].endswith("ErrorInfo"))
    assert info["reason"] == reason
    if reason != "CONSUMER_INVALID":
        assert "123456789012" in error["message"], "Google names the project by number"


def test_5xx_and_404_are_the_apis_own_generic_answers(gcp: GcpSandbox) -> None:
    faults(gcp, "compute=status,status=503,times=1", "cloudresourcemanager=status,status=404,times=1")
    compute = call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").json()["error"]
    assert compute["errors"][0]["reason"] == "backendError" and compute["status"] == "UNAVAILABLE"
    crm = call(gcp, "GET", f"/v3/projects/{PROJECT}").json()["error"]
    assert crm == {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}


def test_delay_answers_late_but_answers(gcp: GcpSandbox) -> None:
    faults(gcp, "compute=delay,delay=0.3")
    with pytest.raises(requests.Timeout):
        call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones", timeout=0.05)
    assert call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").status_code == 200


def test_hang_never_answers(gcp: GcpSandbox) -> None:
    faults(gcp, "container=hang")
    with pytest.raises(requests.Timeout):
        call(gcp, "GET", f"/v1/projects/{PROJECT}/locations/-/clusters", timeout=0.5)


def test_reset_cuts_the_connection_after_n_bytes(gcp: GcpSandbox) -> None:
    faults(gcp, "compute=reset,times=1", "compute=reset,after=25,times=1")
    with pytest.raises(requests.ConnectionError):
        call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones")


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("html", lambda r: r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")),
        ("html,status=502", lambda r: r.status_code == 502 and "<title>Error 502" in r.text),
        ("empty", lambda r: r.status_code == 200 and r.content == b""),
        ("shape", lambda r: r.status_code == 200 and isinstance(r.json(), list)),
    ],
)
def test_garbage_answers(gcp: GcpSandbox, kind: str, check: Any) -> None:
    faults(gcp, f"compute={kind}")
    assert check(call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones"))


def test_truncated_is_the_real_body_cut(gcp: GcpSandbox) -> None:
    whole = call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").content
    faults(gcp, "compute=truncated")
    cut = call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").content
    assert whole.startswith(cut) and 0 < len(cut) < len(whole)
    with pytest.raises(ValueError):
        json.loads(cut)


def test_failop_ends_the_gke_operation_done_with_error(gcp: GcpSandbox) -> None:
    faults(gcp, "container:POST=failop,code=8,message=Insufficient regional quota to satisfy request")
    parent = f"projects/{PROJECT}/locations/us-central1-a"
    op = call(gcp, "POST", f"/v1/{parent}/clusters", {"cluster": {"name": "kf"}}).json()
    for _ in range(5):
        op = call(gcp, "GET", f"/v1/{parent}/operations/{op['name']}").json()
    assert op["status"] == "DONE" and op["error"] == {
        "code": 8,
        "message": "Insufficient regional quota to satisfy request",
    }
    cluster = call(gcp, "GET", f"/v1/{parent}/clusters/kf").json()
    assert cluster["status"] == "ERROR" and cluster["statusMessage"].startswith("Insufficient regional quota")


def test_closed_billing_account_keeps_its_name_with_billing_off(gcp: GcpSandbox) -> None:
    gcp.project(PROJECT)["billing"]["open"] = False
    info = call(gcp, "GET", f"/v1/projects/{PROJECT}/billingInfo").json()
    assert info["billingAccountName"] == "billingAccounts/01A2B3-C4D5E6-F7A8B9"
    assert info.get("billingEnabled", False) is False


def test_control_endpoint_reads_adds_and_clears_the_plan(gcp: GcpSandbox) -> None:
    control = gcp.url + "/_sandbox/faults"
    added = requests.post(control, json={"specs": ["compute=status,status=500,times=2", "gcp=delay,delay=0.01"]})
    assert added.status_code == 200 and [f["kind"] for f in added.json()["faults"]] == ["status", "delay"]
    assert call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").status_code == 500
    assert requests.get(control, timeout=5).json()["faults"][0]["hits"] == 1
    bad = requests.post(control, data=b"compute=explode", timeout=5)
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["message"]
    assert requests.delete(control, timeout=5).json() == {"faults": []}
    assert call(gcp, "GET", f"/compute/v1/projects/{PROJECT}/zones").status_code == 200


def test_scenario_faults_and_the_command_line(tmp_path: Path) -> None:
    from kftui.sandbox import Sandbox, scenario_dir
    from kftui.sandbox.faults import scenario_faults

    shutil.copytree(scenario_dir("demo"), tmp_path / "world")
    (tmp_path / "world" / "faults.yaml").write_text(
        "faults:\n  - compute:GET:*/zones=status,status=503\n  - {service: container, kind: hang}\n", encoding="utf-8"
    )
    planned = scenario_faults(tmp_path / "world")
    assert [(f.service, f.kind) for f in planned] == [("compute", "status"), ("container", "hang")]
    sandbox = Sandbox(tmp_path / "world", faults=["cloudbilling=empty"])
    assert [f["service"] for f in sandbox.faults.describe()] == ["compute", "container", "cloudbilling"]
    bad = subprocess.run(
        [sys.executable, "-m", "kftui.sandbox", "--workdir", str(tmp_path / "w"), "--fault", "compute=explode"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--fault: fault kind 'explode'" in bad.stderr and "Traceback" not in bad.stderr
