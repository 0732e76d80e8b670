"""`kftui doctor` against the fake GCP (and the real gcloud, offline) with scenario variants."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kftui.commands.doctor import run_doctor
from kftui.errors import UsageError
from kftui.sandbox.gcp.env import write_env
from kftui.settings import State, save_state
from tests.adapters.gcp_fixtures import GcpSandbox, demo_scenario, start_sandbox
from tests.helpers import tool

REQUIRED_IDS = {
    "account.adc",
    "account.match",
    "account.quota-project",
    "account.auth-plugin",
    "project.access",
    "billing.enabled",
    "apis.enabled",
    "iam.permissions",
    "oauth.route",
}
LATER_STEPS = ("billing.enabled", "apis.enabled", "iam.permissions", "oauth.route")

Change = Callable[[dict[str, Any]], None]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., GcpSandbox]]:
    """Start the fake GCP with a changed demo scenario, and point ADC and a real gcloud config at it."""
    tool("gcloud")  # the account step runs the real gcloud
    stops: list[Callable[[], None]] = []

    def start(change: Change | None = None) -> GcpSandbox:
        scenario = demo_scenario()
        if change is not None:
            change(scenario)
        sandbox, stop = start_sandbox(scenario)
        stops.append(stop)
        for name in list(os.environ):
            if name.startswith("CLOUDSDK_") or name.startswith("GOOGLE_"):
                monkeypatch.delenv(name, raising=False)
        for name, value in write_env(sandbox.url, tmp_path / "gcp", scenario).items():
            monkeypatch.setenv(name, value)
        return sandbox

    yield start
    for stop in stops:
        stop()


def doctor(project: str | None = None, **gpu: Any) -> tuple[int, dict[str, Any], str]:
    """Run doctor in-process with --json; returns (exit code, parsed object, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = run_doctor(project, True, gpu.get("gpu"), gpu.get("gpu_count"), gpu.get("zone"), out=out, err=err)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, "--json prints exactly one object"
    return code, json.loads(lines[0]), err.getvalue()


def statuses(report: dict[str, Any]) -> dict[str, str]:
    """Check id -> status."""
    return {check["id"]: check["status"] for check in report["checks"]}


def check_of(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    """One check object by id."""
    return next(c for c in report["checks"] if c["id"] == check_id)


def all_good(scenario: dict[str, Any]) -> None:
    """Every API on and every permission granted."""
    project = scenario["projects"]["robot-ml-demo"]
    project["services"]["container.googleapis.com"] = "ENABLED"
    project["iam"]["granted"], project["iam"]["denied"] = ["*"], []


def test_all_good_passes_and_exits_0(world: Callable[..., GcpSandbox]) -> None:
    world(all_good)
    code, report, _ = doctor()
    seen = statuses(report)
    assert set(seen) >= REQUIRED_IDS
    assert report["project"] == "robot-ml-demo"
    assert all(seen[i] == "pass" for i in REQUIRED_IDS), seen
    assert seen["oauth.client"] == "warn"  # no client given yet: a warning, not a failure
    assert code == 0


def test_json_shape_is_the_documented_one(world: Callable[..., GcpSandbox]) -> None:
    world()
    _, report, _ = doctor()
    assert set(report) == {"project", "checks"}
    ids = [check["id"] for check in report["checks"]]
    assert len(ids) == len(set(ids)), "every check id appears once"
    for check in report["checks"]:
        assert set(check) == {"id", "step", "status", "title", "message", "fixes"}
        assert check["status"] in {"pass", "warn", "fail", "skip"}
        assert check["step"] in {"account", "project", "billing", "apis", "iam", "oauth", "gpu", "deploy"}
        for fix in check["fixes"]:
            assert set(fix) == {"title", "command", "url"}


def test_demo_names_the_disabled_api_and_the_missing_permission(world: Callable[..., GcpSandbox]) -> None:
    world()
    code, report, _ = doctor()
    assert code == 1
    apis = check_of(report, "apis.enabled")
    assert apis["status"] == "fail" and "container.googleapis.com" in apis["message"]
    assert apis["fixes"][0]["command"] == "gcloud services enable container.googleapis.com --project robot-ml-demo"
    iam = check_of(report, "iam.permissions")
    assert iam["status"] == "fail" and "container.clusterRoles.create" in iam["title"]
    assert iam["fixes"][0]["command"].endswith("--role=roles/container.admin")
    assert statuses(report)["billing.enabled"] == "pass"


def test_billing_disabled_fails(world: Callable[..., GcpSandbox]) -> None:
    def no_billing(scenario: dict[str, Any]) -> None:
        all_good(scenario)
        scenario["projects"]["robot-ml-demo"]["billing"] = {"enabled": False}

    world(no_billing)
    code, report, _ = doctor()
    billing = check_of(report, "billing.enabled")
    assert billing["status"] == "fail" and code == 1
    assert billing["fixes"][0]["url"] == "https://console.cloud.google.com/billing/linkedaccount?project=robot-ml-demo"
    assert statuses(report)["apis.enabled"] == "pass"


def test_unknown_project_fails_access_and_skips_later_steps(world: Callable[..., GcpSandbox]) -> None:
    world()
    code, report, _ = doctor("no-such-project-x")
    assert code == 1 and report["project"] == "no-such-project-x"
    access = check_of(report, "project.access")
    assert access["status"] == "fail"
    assert access["fixes"][0]["command"] == "gcloud projects create no-such-project-x"
    for check_id in LATER_STEPS:
        skipped = check_of(report, check_id)
        assert skipped["status"] == "skip" and "project" in skipped["message"]


def test_missing_adc_fails_account_adc(world: Callable[..., GcpSandbox], monkeypatch: pytest.MonkeyPatch) -> None:
    world()
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    assert not (Path(os.environ["CLOUDSDK_CONFIG"]) / "application_default_credentials.json").exists()
    code, report, _ = doctor()
    seen = statuses(report)
    assert code == 1
    assert seen["account.adc"] == "fail"
    assert seen["account.match"] == "skip" and seen["account.quota-project"] == "skip"
    adc = check_of(report, "account.adc")
    assert adc["fixes"][0]["command"] == "gcloud auth application-default login"
    assert seen["project.access"] == "fail"
    assert all(seen[i] == "skip" for i in LATER_STEPS)


def test_remembered_project_wins_over_gcloud_and_flag_wins_over_both(world: Callable[..., GcpSandbox]) -> None:
    world()
    save_state(State(answers={"project": "robot-ml-sandbox"}))
    _, remembered, _ = doctor()
    assert remembered["project"] == "robot-ml-sandbox"
    assert check_of(remembered, "billing.enabled")["status"] == "fail"  # that project has no billing
    _, flagged, _ = doctor("robot-ml-demo")
    assert flagged["project"] == "robot-ml-demo"
    assert check_of(flagged, "billing.enabled")["status"] == "pass"


def test_gpu_flags_drive_the_gpu_checks_and_without_them_the_step_waits_for_input(
    world: Callable[..., GcpSandbox],
) -> None:
    world(all_good)
    code, report, err = doctor()
    assert code == 0 and err == ""
    gpu_checks = [c for c in report["checks"] if c["step"] == "gpu"]
    assert gpu_checks and all(c["status"] == "skip" for c in gpu_checks)
    assert all("needs input: gpu_type" in c["message"] and "--gpu" in c["message"] for c in gpu_checks)
    _, flagged, err = doctor(gpu="nvidia-tesla-t4", gpu_count=1, zone="us-central1-a")
    assert err == ""
    zone = check_of(flagged, "gpu.zone")
    assert zone["status"] == "pass" and "us-central1-a" in zone["title"]
    assert statuses(flagged)["project.access"] == "pass"


def test_gpu_count_without_gpu_is_ignored_with_one_line_on_stderr(world: Callable[..., GcpSandbox]) -> None:
    world(all_good)
    code, report, err = doctor(gpu_count=2)
    assert code == 0
    assert len(err.splitlines()) == 1 and "--gpu TYPE" in err
    assert statuses(report)["project.access"] == "pass"


def test_invalid_project_is_a_usage_error_naming_the_rule() -> None:
    with pytest.raises(UsageError, match="cannot end with a hyphen"):
        run_doctor("my-project-", True, None, None, None, out=io.StringIO(), err=io.StringIO())


def test_table_shows_icons_ids_and_first_fix(world: Callable[..., GcpSandbox], monkeypatch: pytest.MonkeyPatch) -> None:
    world()
    monkeypatch.setenv("COLUMNS", "240")
    out = io.StringIO()
    code = run_doctor(None, False, None, None, None, out=out, err=io.StringIO())
    text = out.getvalue()
    assert code == 1
    for check_id in REQUIRED_IDS:
        assert check_id in text
    assert "✖" in text and "✔" in text
    assert "gcloud services enable container.googleapis.com --project robot-ml-demo" in text
    assert "2 fail" in text


def test_cli_subprocess_json_and_exit_codes(world: Callable[..., GcpSandbox]) -> None:
    world()
    done = subprocess.run(
        [sys.executable, "-m", "kftui", "doctor", "--json"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert set(statuses(report)) >= REQUIRED_IDS
    bad = subprocess.run(
        [sys.executable, "-m", "kftui", "doctor", "--project", "Bad_Id"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "--project: Project ID may contain only lowercase letters, digits and hyphens" in bad.stderr
    assert bad.stdout == ""


def test_max_gpu_nodes_flag_sizes_the_quota_checks(world: Callable[..., GcpSandbox]) -> None:
    from click.testing import CliRunner

    from kftui.cli import cli

    world(all_good)
    flags = ["doctor", "--json", "--gpu", "nvidia-tesla-t4", "--gpu-count", "2", "--zone", "us-central1-a"]
    one = CliRunner().invoke(cli, flags)
    three = CliRunner().invoke(cli, [*flags, "--max-gpu-nodes", "3"])
    assert one.exit_code == three.exit_code == 1  # this world has no GPU quota
    one_node = check_of(json.loads(one.stdout), "quota.region-gpus")["message"]
    three_nodes = check_of(json.loads(three.stdout), "quota.region-gpus")["message"]
    assert "The plan needs 2 (1 node(s) x 2 x nvidia-tesla-t4), so the limit must be at least 2." in one_node
    assert "The plan needs 6 (3 node(s) x 2 x nvidia-tesla-t4), so the limit must be at least 6." in three_nodes
    bad = CliRunner().invoke(cli, [*flags, "--max-gpu-nodes", "0"])
    assert bad.exit_code == 2 and "--max-gpu-nodes" in bad.output


def test_doctor_ends_at_its_deadline_naming_each_silent_api(
    world: Callable[..., GcpSandbox], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kftui.sandbox.faults import parse_spec

    sandbox = world(all_good)
    from google.cloud import billing_v1, resourcemanager_v3, service_usage_v1  # noqa: F401 - imported before the clock runs

    monkeypatch.setenv("KFTUI_GCP_TIMEOUT", "40")  # calls would wait 40 s: the deadline must end them first
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcloud: the account checks end at once, whatever the load
    for api in ("cloudresourcemanager", "cloudbilling", "serviceusage", "compute", "container", "cloudquotas"):
        sandbox.served.extra["faults"].add(parse_spec(f"{api}=hang"))  # every API; the token endpoint still answers
    out, err = io.StringIO(), io.StringIO()
    code = run_doctor("robot-ml-demo", True, None, None, None, out=out, err=err, deadline=15)
    report = json.loads(out.getvalue())
    assert code == 1
    # The hung call ends at the deadline in its own words (or doctor names it as still waiting): either way the
    # project check fails naming the API and the URL it was reaching, with the override as the first fix.
    silent = next(c for c in report["checks"] if c["step"] == "project" and c["status"] == "fail")
    assert "Cloud Resource Manager API" in silent["title"]
    assert f"Cloud Resource Manager API at {sandbox.url}" in silent["message"]
    assert any("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER" in f["title"] for f in silent["fixes"])
    assert statuses(report)["billing.enabled"] == "skip", "steps after the silent one are not run"


def test_gpu_and_zone_flags_feed_the_deploy_checks(world: Callable[..., GcpSandbox]) -> None:
    """--gpu and --zone are answers for every step, so the deploy checks run instead of waiting for them."""
    world()
    _, report, _ = doctor(gpu="nvidia-l4", zone="us-central1-a")
    for check in ("deploy.plan", "deploy.checks", "deploy.script"):
        assert "waiting for:" not in check_of(report, check)["message"], check_of(report, check)  # the step's own wait
    assert check_of(report, "deploy.plan")["status"] == "pass"
