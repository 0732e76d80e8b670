"""Every real-shaped sample in tests/data/errors must come out with its cause and facts."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from kftui.core.diagnosis import Diagnosis
from kftui.diagnose import causes, diagnose, diagnose_events
from tests.helpers import kftui_parses

DATA = Path(__file__).resolve().parents[2] / "data" / "errors"

REQUIRED = {
    "quota-exceeded", "gpu-stockout", "accelerator-not-in-zone", "machine-type-incompatible", "billing-free-tier",
    "billing-disabled", "api-disabled", "permission-denied", "adc-missing", "adc-no-quota-project",
    "auth-plugin-missing", "insufficient-gpu", "node-selector-mismatch", "untolerated-taint", "scale-up-quota",
    "scale-up-max-size", "scale-up-pending", "unbound-pvc", "image-pull-auth", "image-pull-token-expired",
    "image-not-found", "pipeline-logs-gone", "unknown",
}


def _load() -> list[tuple[str, dict[str, Any]]]:
    """(file stem, sample) pairs from every YAML file."""
    found = []
    for path in sorted(DATA.glob("*.yaml")):
        for sample in yaml.safe_load(path.read_text(encoding="utf-8"))["samples"]:
            found.append((path.stem, sample))
    return found


SAMPLES = _load()


def _run(sample: dict[str, Any]) -> Diagnosis:
    """Events samples go through diagnose_events, text samples through diagnose."""
    context = sample.get("context") or {}
    if "events" in sample:
        return diagnose_events(sample["events"], **context)
    return diagnose(sample["text"], **context)


@pytest.mark.parametrize(("stem", "sample"), SAMPLES, ids=[f"{s}:{x['name']}" for s, x in SAMPLES])
def test_sample_gives_its_cause_and_facts(stem: str, sample: dict[str, Any]) -> None:
    result = _run(sample)
    assert sample["cause"] == stem, "a sample lives in the file named after its cause"
    assert result.cause == sample["cause"], result
    for key, expected in (sample.get("facts") or {}).items():
        assert key in result.facts, f"fact {key} missing from {dict(result.facts)}"
        assert result.facts[key] == expected, f"fact {key}: {result.facts[key]!r} != {expected!r}"


@pytest.mark.parametrize(("stem", "sample"), SAMPLES, ids=[f"{s}:{x['name']}" for s, x in SAMPLES])
def test_sample_reads_well(stem: str, sample: dict[str, Any]) -> None:
    result = _run(sample)
    assert result.title and "\n" not in result.title
    assert len(result.explanation.split(". ")) >= 2, "explanations say what, why and what next"
    assert result.fixes, "every diagnosis offers a way out"
    for fix in result.fixes:
        assert fix.title and "\n" not in fix.title
    assert "None" not in result.explanation and "None" not in result.title
    out = json.loads(json.dumps(result.to_json()))
    assert set(out) == {"cause", "title", "explanation", "facts", "fixes"}
    assert all(isinstance(v, str | int | float) for v in out["facts"].values())


REAL = DATA.parent / "real"


def _real_samples() -> list[dict[str, Any]]:
    """The corpus of texts from public issues (tests/data/real), which counts towards each cause's samples."""
    found: list[dict[str, Any]] = []
    for path in sorted(REAL.glob("*.yaml")):
        found.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["samples"])
    return found


def _fix_params() -> list[Any]:
    """Every sample as a test parameter."""
    return [pytest.param(stem, sample, id=f"{stem}:{sample['name']}") for stem, sample in SAMPLES]


@pytest.mark.parametrize(("stem", "sample"), _fix_params())
def test_every_fix_has_a_command_or_a_url(stem: str, sample: dict[str, Any]) -> None:
    result = _run(sample)
    without = [fix.title for fix in result.fixes if not (fix.command or fix.url)]
    assert without == [], f"fixes with neither a command nor a URL: {without}"
    for fix in result.fixes:
        if fix.url:
            assert fix.url.startswith("https://") and " " not in fix.url, fix.url
        if fix.command and fix.command.startswith("kftui "):
            kftui_parses(shlex.split(fix.command)[1:])  # kftui's own fixes are command lines kftui accepts


FIX_COMMANDS = {
    ("adc-missing", "google-auth, current wording"): "gcloud auth application-default login",
    ("adc-no-quota-project", "the warning google-auth prints"):
        "gcloud auth application-default set-quota-project kf-demo-381201",
    ("api-disabled", "JSON SERVICE_DISABLED with ErrorInfo metadata"):
        "gcloud services enable compute.googleapis.com --project=123456789012",
    ("auth-plugin-missing", "gcloud get-credentials warning"): "gcloud components install gke-gcloud-auth-plugin",
    ("billing-disabled", "JSON BILLING_DISABLED"):
        "gcloud billing projects link 123456789012 --billing-account=BILLING_ACCOUNT_ID",
    ("permission-denied", "REST prefix from google-api-core"):
        "gcloud projects add-iam-policy-binding p-analytics-7 --member=user:YOUR_EMAIL"
        " --role=roles/compute.networkViewer",
    ("scale-up-quota", "GKE FailedScaleUp, quota"):
        "kftui quota request --project kf-demo-381201 --gpu nvidia-tesla-t4 --region us-central1 --count 1"
        " --email EMAIL",
    ("quota-exceeded", "regional T4 quota"):
        "kftui quota request --project PROJECT_ID --gpu nvidia-tesla-t4 --region europe-central2 --count 2"
        " --email EMAIL",
}
"""One sample per family, and the exact command its first fix must say (the user pastes it as it is)."""


@pytest.mark.parametrize("key", list(FIX_COMMANDS), ids=[f"{s}:{n}" for s, n in FIX_COMMANDS])
def test_sample_fix_commands_are_exact(key: tuple[str, str]) -> None:
    sample = next(x for stem, x in SAMPLES if (stem, x["name"]) == key)
    commands = [fix.command for fix in _run(sample).fixes if fix.command]
    assert commands and commands[0] == FIX_COMMANDS[key], commands


def test_global_quota_fix_asks_for_the_global_region() -> None:
    sample = next(x for stem, x in SAMPLES if x["name"] == "gcloud instance create, global GPU quota zero")
    command = next(f.command for f in _run(sample).fixes if f.command and f.command.startswith("kftui quota"))
    assert command.startswith("kftui quota request --project kf-demo-381201 ")
    assert " --region global " in command and "REGION" not in command, command
    kftui_parses(shlex.split(command)[1:])


def test_every_cause_has_samples() -> None:
    by_cause: dict[str, int] = {}
    for sample in [s for _, s in SAMPLES] + _real_samples():
        by_cause[sample["cause"]] = by_cause.get(sample["cause"], 0) + 1
    missing = [c for c in causes() if c not in by_cause]
    assert not missing, f"causes without a sample: {missing}"
    thin = [c for c in causes() if by_cause.get(c, 0) < 3]
    assert not thin, f"causes with fewer than three samples: {thin}"


def test_required_causes_exist() -> None:
    assert set(causes()) >= REQUIRED


def test_values_from_the_text_beat_the_context() -> None:
    result = diagnose("Quota 'NVIDIA_T4_GPUS' exceeded. Limit: 0.0 in region us-west1.", region="europe-west4")
    assert result.facts["region"] == "us-west1"
    assert "us-west1" in result.explanation


def test_quota_fix_carries_the_users_values() -> None:
    result = diagnose(
        "Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region europe-west4.",
        project="kf-demo-381201",
        email="ana@example.com",
    )
    commands = [f.command or "" for f in result.fixes]
    assert (
        "kftui quota request --project kf-demo-381201 --gpu nvidia-l4 --region europe-west4 --count 1"
        " --email ana@example.com"
    ) in commands
    gcloud = next(c for c in commands if c.startswith("gcloud beta quotas preferences create"))
    for part in (
        "--service=compute.googleapis.com",
        "--quota-id=NVIDIA-L4-GPUS-per-project-region",
        "--dimensions=region=europe-west4",
        "--preferred-value=1",
        "--project=kf-demo-381201",
        "--email=ana@example.com",
    ):
        assert part in gcloud
    assert any(f.url == "https://console.cloud.google.com/iam-admin/quotas?project=kf-demo-381201" for f in result.fixes)


def test_zero_global_quota_explains_new_projects() -> None:
    result = diagnose("Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.", project="p-1234567")
    assert "New projects start with no GPUs" in result.explanation
    assert "p-1234567" in result.title
    assert "GPUS-ALL-REGIONS-per-project" in result.explanation
