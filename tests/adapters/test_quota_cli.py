"""`kftui quota request|status` against the fake GCP: validation before any request, filing, JSON, following."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from kftui.cli import cli
from kftui.commands.quota import run_request
from kftui.gcp.quotas import preference_id
from kftui.sandbox.gcp import quotas as fake
from kftui.settings import load_state
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario
from tests.helpers import wait_for

__all__ = ["gcpb", "gcpb_scenario"]

T4 = "nvidia-tesla-t4"
EMAIL = "ada@example.com"


def kftui(*args: str) -> Result:
    """Run the CLI in-process (stdin is not a terminal, like CI)."""
    return CliRunner().invoke(cli, list(args))


def request(*extra: str, project: str = PROJECT, region: str = "us-central1", count: str = "1") -> Result:
    """`kftui quota request` with the usual flags."""
    return kftui(
        "quota", "request", "--project", project, "--gpu", T4, "--region", region, "--count", count,
        "--email", EMAIL, *extra,
    )  # fmt: skip


def test_request_json_is_exactly_the_documented_object(gcpb: Sandbox) -> None:
    result = request("--yes", "--json", count="2")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    pid = preference_id("NVIDIA-T4-GPUS-per-project-region", {"region": "us-central1"}, 2)
    assert out == {
        "name": f"projects/{PROJECT}/locations/global/quotaPreferences/{pid}",
        "quota_id": "NVIDIA-T4-GPUS-per-project-region",
        "dimensions": {"region": "us-central1"},
        "preferred_value": 2,
        "state": "pending",
        "recorded": True,
    }
    posts = gcpb.world.sent("POST", "/quotaPreferences")
    assert len(posts) == 1
    body = posts[0].body
    assert body["quotaId"] == "NVIDIA-T4-GPUS-per-project-region" and body["dimensions"] == {"region": "us-central1"}
    assert int(body["quotaConfig"]["preferredValue"]) == 2 and body["contactEmail"] == EMAIL
    assert body["justification"].startswith("Kubeflow on GKE: 2 x nvidia-tesla-t4")
    assert load_state().quota_requests[0]["name"] == out["name"]


def test_request_global_with_justification_and_text_output(gcpb: Sandbox) -> None:
    result = request("--yes", "--justification", "Course on GPUs", region="global")
    assert result.exit_code == 0, result.output
    assert "Filed: projects/robot-ml-demo/locations/global/quotaPreferences/kftui-gpus-all-regions" in result.stdout
    assert "State: pending" in result.stdout
    body = gcpb.world.sent("POST", "/quotaPreferences")[0].body
    assert body["quotaId"] == "GPUS-ALL-REGIONS-per-project" and body.get("dimensions", {}) == {}
    assert body["justification"] == "Course on GPUs"
    again = request("--yes", region="global")
    assert again.exit_code == 0 and again.stdout.startswith("Already filed")
    assert len(fake.preferences(gcpb.world)) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--gpu", "nvidia-b300", "--region", "us-central1", "--count", "1"), "--gpu: 'nvidia-b300' is not a GPU type"),
        (("--gpu", T4, "--region", "mars-north1", "--count", "1"), "--region: 'mars-north1' is not a region"),
        (("--gpu", T4, "--region", "us-central1-a", "--count", "1"), "--region: Region must look like us-central1"),
        (("--gpu", T4, "--region", "us-central1", "--count", "0"), "--count must be at least 1"),
        (("--gpu", T4, "--region", "europe-west4", "--count", "1"), "--count must be above the current limit"),
    ],
)
def test_bad_input_names_the_field_and_sends_nothing(gcpb: Sandbox, args: tuple[str, ...], words: str) -> None:
    result = kftui("quota", "request", "--project", PROJECT, *args, "--email", EMAIL, "--yes")
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_malformed_email_is_refused_before_any_call(gcpb: Sandbox) -> None:
    result = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1", "--count", "1",
                   "--email", "ada-at-example", "--yes")  # fmt: skip
    assert result.exit_code == 2
    assert "--email must look like name@example.com" in result.stderr
    assert gcpb.world.requests == [], "shape errors are caught before asking Google anything"
    robot = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1", "--count", "1",
                  "--email", "ada@robot-ml-demo.iam.gserviceaccount.com", "--yes")  # fmt: skip
    assert robot.exit_code == 2 and "is a service account: Google needs a person to contact" in robot.stderr
    assert gcpb.world.requests == []


def test_without_email_the_contact_is_an_owner_and_the_summary_says_so(
    gcpb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sandbox identity is a service account: the person named is the policy's owner, never a stand-in."""
    code = run_request(project=PROJECT, gpu=T4, region="us-central1", count=1, email=None, confirm=lambda _q: True)
    assert code == 0
    out = capsys.readouterr().out
    assert "contact ada.lovelace@example.com: an owner or editor in the project's IAM policy" in out
    assert gcpb.world.sent("POST", "/quotaPreferences")[0].body["contactEmail"] == "ada.lovelace@example.com"


def test_without_email_and_without_a_person_it_asks_for_email(gcpb: Sandbox) -> None:
    iam = gcpb.world.scenario["projects"][PROJECT]["iam"]
    iam["bindings"] = [b for b in iam["bindings"] if not any(m.startswith("user:") for m in b["members"])]
    result = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1", "--count", "1",
                   "--yes")  # fmt: skip
    assert result.exit_code == 2
    assert "Email is missing" in result.stderr and "Pass --email with your address" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_ineligible_project_is_refused(gcpb: Sandbox) -> None:
    result = request("--yes", project="trial-project")
    assert result.exit_code == 1
    assert "cannot ask for more NVIDIA_T4_GPUS" in result.stderr and "no valid paid billing account" in result.stderr
    assert "Nothing was requested" in result.stderr
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_no_terminal_and_no_yes_refuses(gcpb: Sandbox) -> None:
    result = request()
    assert result.exit_code == 2
    assert "without confirmation" in result.stderr and "--yes" in result.stderr
    assert gcpb.world.sent("POST", "/quotaPreferences") == []


def test_confirmation_is_asked_and_honoured(gcpb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    asked: list[str] = []

    def no(question: str) -> bool:
        asked.append(question)
        return False

    code = run_request(project=PROJECT, gpu=T4, region="us-central1", count=1, email=EMAIL, confirm=no)
    assert code == 1 and asked == ["File this quota request?"]
    assert "raise NVIDIA_T4_GPUS in us-central1 from 0 to 1" in capsys.readouterr().out
    assert gcpb.world.sent("POST", "/quotaPreferences") == []
    code = run_request(project=PROJECT, gpu=T4, region="us-central1", count=1, email=EMAIL, confirm=lambda _q: True)
    assert code == 0 and len(gcpb.world.sent("POST", "/quotaPreferences")) == 1


def test_status_follows_pending_then_granted(gcpb: Sandbox) -> None:
    assert request("--yes", region="global").exit_code == 0
    first = kftui("quota", "status", "--project", PROJECT, "--json")
    assert first.exit_code == 0, first.output
    rows = json.loads(first.stdout)
    assert len(rows) == 1 and rows[0]["state"] == "pending" and rows[0]["granted_value"] is None

    def granted() -> dict[str, object] | None:
        out = kftui("quota", "status", "--json")
        row: dict[str, object] = json.loads(out.stdout)[0]
        return row if row["state"] == "granted" else None

    row = wait_for(granted, what="the sandbox to grant the request")
    assert row["granted_value"] == 1 and row["trace_id"] and "approved" in str(row["state_detail"])
    text = kftui("quota", "status")
    assert text.exit_code == 0
    assert "GPUS-ALL-REGIONS-per-project (global)  asked 1  granted 1  granted" in text.stdout


def test_status_without_requests(gcpb: Sandbox) -> None:
    out = kftui("quota", "status", "--project", PROJECT)
    assert out.exit_code == 0 and "No quota requests filed by kftui for robot-ml-demo." in out.stdout
