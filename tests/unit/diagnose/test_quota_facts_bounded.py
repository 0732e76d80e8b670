"""Quota facts are the id and nothing else: trailing junk and megabytes of input never become part of a fact."""

from __future__ import annotations

import io
import json

import pytest

from kftui.commands.explain import run_explain
from kftui.diagnose import diagnose

MB = 1 << 20
JUNK = " and then 'some' trailing\tjunk: limit=9, see logs" * 3

REAL: list[tuple[str, dict[str, str]]] = [
    (
        "Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.\n\tmetric name = compute.googleapis.com/"
        "gpus_all_regions\n\tlimit name = GPUS-ALL-REGIONS-per-project",
        {"metric": "GPUS_ALL_REGIONS", "quota_id": "GPUS-ALL-REGIONS-per-project",
         "metric_name": "compute.googleapis.com/gpus_all_regions"},
    ),
    (
        "Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region us-central1.",
        {"metric": "NVIDIA_L4_GPUS", "quota_id": "NVIDIA-L4-GPUS-per-project-region", "region": "us-central1"},
    ),
    (
        "Insufficient regional quota to satisfy request: resource \"NVIDIA_T4_GPUS\": request requires '1.0' and is "
        "short '1.0'. project has a quota of '0.0' with '0.0' available.",
        {"metric": "NVIDIA_T4_GPUS", "quota_id": "NVIDIA-T4-GPUS-per-project-region"},
    ),
    ("Insufficient 'N2_CPUS' quota. Requested 12.0, available 0.0.", {"metric": "N2_CPUS"}),
    (
        "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus",
        {"metric_name": "aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus",
         "metric": "custom_model_training_nvidia_l4_gpus"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), REAL, ids=[e.get("metric", "?") for _, e in REAL])
@pytest.mark.parametrize(
    "tail", ["", JUNK, ". " + "x" * MB, "\n" + "GPUS_ALL_REGIONS " * 1000], ids=["bare", "junk", "1MB", "ids-after"]
)
def test_the_facts_are_exactly_the_ids_whatever_follows(text: str, expected: dict[str, str], tail: str) -> None:
    result = diagnose(text + tail)
    assert result.cause == "quota-exceeded"
    for name, value in expected.items():
        assert result.facts[name] == value, name


@pytest.mark.parametrize(
    "text",
    ids=["limit-name", "metric-name", "gke", "dataproc", "vertex"],
    argvalues=[
        "Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally. limit name = GPUS-ALL-REGIONS-per-project{}",
        "Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally. metric name = compute.googleapis.com/gpus{}",
        "Insufficient regional quota to satisfy request: resource \"NVIDIA_T4_GPUS{}\": request requires '1.0' and is "
        "short '1.0'. project has a quota of '0.0' with '0.0' available.",
        "Insufficient 'N2_CPUS{}' quota. Requested 12.0, available 0.0.",
        "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_{}",
    ],
)
def test_an_id_glued_to_a_megabyte_is_no_id_and_no_fact_grows(text: str) -> None:
    result = diagnose(text.format("A" * (MB - 4096)))  # all of it inside what the engine reads
    assert all(len(str(value)) <= 200 for value in result.facts.values()), result.facts
    assert not any("AAAA" in str(value) for name, value in result.facts.items() if name != "first_line")


def test_quota_info_json_with_a_huge_limit_name_is_not_taken_as_the_quota_id() -> None:
    body = {"error": {"code": 403, "message": "Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally.",
                      "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                                  {"quotaInfo": {"limitName": "GPUS-ALL-REGIONS-per-project" + "-x" * 50_000,
                                                 "metricName": "compute.googleapis.com/gpus_all_regions junk",
                                                 "dimensions": {"region": "us-central1" + "1" * 1000},
                                                 "limit": 0}}]}}
    result = diagnose(json.dumps(body))
    assert result.facts["quota_id"] == "GPUS-ALL-REGIONS-per-project"
    assert "metric_name" not in result.facts and "region" not in result.facts


def test_explain_json_of_a_huge_input_keeps_facts_small() -> None:
    out = io.StringIO()
    text = "ERROR: (gcloud.compute.instances.create) Quota 'NVIDIA_L4_GPUS' exceeded.  Limit: 0.0 in region " \
           "us-central1." + " trailing" * (MB // 9)
    assert run_explain(text=text, as_json=True, out=out) == 0
    doc = json.loads(out.getvalue())
    assert doc["facts"]["metric"] == "NVIDIA_L4_GPUS" and doc["facts"]["region"] == "us-central1"
    assert len(json.dumps(doc["facts"])) < 1000
