"""The corpus of error texts from public issues: well formed, covering every rule, and the engine's score on it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from kftui.core.diagnosis import UNKNOWN
from kftui.diagnose import causes

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "tests" / "data" / "real"


def _bench() -> ModuleType:
    """bench/diagnosis.py, the one scorer of the corpus (tests and the bench must agree)."""
    spec = importlib.util.spec_from_file_location("bench_diagnosis", ROOT / "bench" / "diagnosis.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_diagnosis", module)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
SAMPLES: list[tuple[str, dict[str, Any]]] = BENCH.load(REAL)


def test_corpus_is_large_sourced_and_names_only_known_causes() -> None:
    assert len(SAMPLES) >= 150
    known = set(causes())
    for family, sample in SAMPLES:
        assert sample["source"].startswith("https://"), sample["name"]
        assert sample["text"].strip(), sample["name"]
        assert sample["cause"] in known, f"{family}: {sample['name']} names cause {sample['cause']}"
    texts = [s["text"] for _, s in SAMPLES]
    assert len(set(texts)) == len(texts), "each text is in the corpus once"


def test_every_family_file_names_its_family_and_the_corpus_has_negatives() -> None:
    for path in REAL.glob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["family"]
    negatives = [s for _, s in SAMPLES if s["cause"] == UNKNOWN]
    assert len(negatives) >= 10, "texts no rule may claim keep the rules honest"


def test_the_new_causes_each_have_real_samples() -> None:
    by_cause: dict[str, int] = {}
    for _, sample in SAMPLES:
        by_cause[sample["cause"]] = by_cause.get(sample["cause"], 0) + 1
    for cause in (
        "webhook-not-ready", "api-version-removed", "cluster-unreachable", "oom-killed", "node-pressure-eviction",
        "crash-loop", "probe-failed", "redirect-uri-mismatch", "insufficient-scopes", "project-not-found",
        "no-active-account", "invalid-zone", "autoscaler-gpu-template", "registry-rate-limited",
        "nvidia-toolkit-missing", "sa-key-invalid",
    ):
        assert by_cause.get(cause, 0) >= 1, cause


def test_engine_meets_the_bar_on_the_corpus() -> None:
    outcomes = BENCH.evaluate(REAL)
    counts = BENCH.table(outcomes)
    report = json.dumps({k: dict(v) for k, v in counts.items()}, sort_keys=True)
    overall = counts["overall"]
    assert BENCH.share(overall, "right") >= 0.95, report
    assert BENCH.share(overall, "wrong") <= 0.01, report
    for family, counter in counts.items():
        assert BENCH.share(counter, "right") >= 0.80, f"{family}: {report}"


@pytest.mark.parametrize(("family", "sample"), SAMPLES, ids=[f"{f}:{s['name']}" for f, s in SAMPLES])
def test_each_real_diagnosis_reads_well(family: str, sample: dict[str, Any]) -> None:
    result = BENCH.run(sample)
    assert result.title and "\n" not in result.title
    assert result.fixes, "every diagnosis offers a way out"
    assert "None" not in result.explanation and "None" not in result.title
    for fix in result.fixes:
        assert fix.title and "None" not in fix.title
        assert fix.command is None or "None" not in fix.command
