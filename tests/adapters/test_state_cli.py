"""Commands with a damaged or unwritable state file: one line each, no traceback, nothing filed goes unsaid."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from kftui.cli import cli
from kftui.settings import load_state, state_path
from tests.adapters.gcp_b_fixtures import PROJECT, Sandbox, gcpb, gcpb_scenario
from tests.unit.test_state_store import DAMAGED

__all__ = ["gcpb", "gcpb_scenario"]

T4 = "nvidia-tesla-t4"


def kftui(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def damage(name: str) -> None:
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_bytes(DAMAGED[name])


def said_once(result: Result) -> str:
    """The one stderr line about the state file (and no traceback anywhere)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if "state.json" in line]
    assert len(lines) == 1 and "Kept it as" in lines[0] and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize("name", ["bad bytes", "bad json", "deep nesting", "wrong types"])
def test_quota_status_says_a_damaged_state_file_in_one_line(gcpb: Sandbox, name: str) -> None:
    damage(name)
    result = kftui("quota", "status", "--project", PROJECT)
    assert result.exit_code == 0, result.output
    said_once(result)


@pytest.mark.parametrize("name", ["bad bytes", "deep nesting"])
def test_quota_request_with_a_damaged_state_file_records_the_request_afresh(gcpb: Sandbox, name: str) -> None:
    damage(name)
    result = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1",
                   "--count", "2", "--email", "ada@example.com", "--yes", "--json")
    assert result.exit_code == 0, result.output
    said_once(result)
    out = json.loads(result.stdout)
    assert out["recorded"] is True and load_state().quota_requests[0]["name"] == out["name"]


def test_a_request_filed_but_not_recorded_is_said_loudly_with_its_name(gcpb: Sandbox) -> None:
    state_path().mkdir(parents=True)  # a state "file" that can be neither read nor replaced
    result = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1",
                   "--count", "2", "--email", "ada@example.com", "--yes", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["recorded"] is False
    assert len(gcpb.world.sent("POST", "/quotaPreferences")) == 1
    loud = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(loud) == 1 and out["name"] in loud[0] and "could not record it locally" in loud[0], result.stderr


def test_deploy_plan_only_with_a_damaged_state_file(gcpb: Sandbox) -> None:
    damage("deep nesting")
    result = kftui("deploy", "--plan-only", "--project", PROJECT, "--zone", "us-central1-a", "--gpu", "none")
    assert result.exit_code == 0, result.output
    said_once(result)
    assert "gcloud container clusters create" in result.stdout


@pytest.mark.parametrize("count", ["99999999999999999999999", "9223372036854775808"])
def test_quota_counts_beyond_int64_are_one_line_and_exit_2(gcpb: Sandbox, count: str) -> None:
    result = kftui("quota", "request", "--project", PROJECT, "--gpu", T4, "--region", "us-central1",
                   "--count", count, "--email", "ada@example.com", "--yes")
    assert result.exit_code == 2, result.output
    assert "--count must be at most 9223372036854775807" in result.stderr and "Traceback" not in result.output
    assert gcpb.world.sent("POST", "/quotaPreferences") == []
