"""How often the diagnosis engine is right on error texts real users pasted into public issues.

Usage: python bench/diagnosis.py [--show wrong|unknown|facts|all] [--json] [--sources]

Reads tests/data/real/*.yaml (one file per family; each sample has the exact text, its source URL, the expected
cause, `unknown` for texts no rule should claim, and facts that must appear) and prints, per family and overall
(and for the samples marked `heldout`, collected after the rules were written, on their own):
right (cause and facts), facts missed (cause right, a fact wrong or absent), unknown (the engine said it does not
know) and wrong (a confident answer with another cause). Unknown is better than wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "real"
sys.path.insert(0, str(ROOT))

from kftui.core.diagnosis import UNKNOWN, Diagnosis  # noqa: E402
from kftui.diagnose import diagnose, diagnose_events  # noqa: E402

KINDS = ("right", "facts", "unknown", "wrong")


@dataclass(frozen=True)
class Outcome:
    """One sample's verdict."""

    family: str
    name: str
    heldout: bool
    source: str
    expected: str
    got: str
    kind: str
    detail: str = ""


def load(corpus: Path = CORPUS) -> list[tuple[str, dict[str, Any]]]:
    """(family, sample) pairs in file order."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(corpus.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        family = str(data.get("family") or path.stem)
        found.extend((family, sample) for sample in data["samples"])
    return found


def run(sample: dict[str, Any]) -> Diagnosis:
    """Events samples go through diagnose_events, text samples through diagnose."""
    context = sample.get("context") or {}
    if "events" in sample:
        return diagnose_events(sample["events"], **context)
    return diagnose(sample["text"], **context)


def judge(family: str, sample: dict[str, Any]) -> Outcome:
    """Classify one sample: right, facts missed, unknown or wrong."""
    expected = str(sample["cause"])
    result = run(sample)
    base: dict[str, Any] = {
        "family": family,
        "name": str(sample["name"]),
        "source": str(sample.get("source", "")),
        "heldout": bool(sample.get("heldout")),
    }
    if result.cause != expected:
        kind = "unknown" if result.cause == UNKNOWN else "wrong"
        return Outcome(**base, expected=expected, got=result.cause, kind=kind, detail=result.title)
    missed = [
        f"{key}={result.facts.get(key)!r} (wanted {value!r})"
        for key, value in (sample.get("facts") or {}).items()
        if result.facts.get(key) != value
    ]
    if missed:
        return Outcome(**base, expected=expected, got=result.cause, kind="facts", detail="; ".join(missed))
    return Outcome(**base, expected=expected, got=result.cause, kind="right")


def evaluate(corpus: Path = CORPUS) -> list[Outcome]:
    """Every sample's outcome."""
    return [judge(family, sample) for family, sample in load(corpus)]


def table(outcomes: list[Outcome]) -> dict[str, Counter[str]]:
    """Counts per family, and 'overall'."""
    counts: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        counts.setdefault(outcome.family, Counter())[outcome.kind] += 1
        counts.setdefault("overall", Counter())[outcome.kind] += 1
        if outcome.heldout:
            counts.setdefault("held-out", Counter())[outcome.kind] += 1
    return counts


def share(counter: Counter[str], kind: str) -> float:
    """The fraction of samples of one kind."""
    total = sum(counter.values())
    return counter[kind] / total if total else 0.0


def main(argv: list[str] | None = None) -> int:
    """Print the table (and the failing samples asked for)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", choices=("wrong", "unknown", "facts", "all"), help="list those samples")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument("--sources", action="store_true", help="list the corpus's source URLs by family")
    args = parser.parse_args(argv)
    if args.sources:
        by_family: dict[str, list[str]] = {}
        for family, sample in load():
            urls = by_family.setdefault(family, [])
            if sample["source"] not in urls:
                urls.append(str(sample["source"]))
        for family in sorted(by_family):
            print(f"{family} ({len(by_family[family])} sources):")
            print("\n".join(f"  {url}" for url in by_family[family]))
        return 0
    outcomes = evaluate()
    counts = table(outcomes)
    if args.json:
        print(json.dumps({k: {kind: v[kind] for kind in KINDS} for k, v in counts.items()}, sort_keys=True))
        return 0
    families = [*sorted(k for k in counts if k not in ("overall", "held-out")), "overall"]
    families += ["held-out"] if "held-out" in counts else []
    print(f"{'family':<14}{'n':>5}{'right':>8}{'facts':>8}{'unknown':>9}{'wrong':>8}   right%  wrong%")
    for family in families:
        c = counts[family]
        n = sum(c.values())
        print(
            f"{family:<14}{n:>5}{c['right']:>8}{c['facts']:>8}{c['unknown']:>9}{c['wrong']:>8}"
            f"   {100 * share(c, 'right'):5.1f}   {100 * share(c, 'wrong'):5.1f}"
        )
    if args.show:
        for o in outcomes:
            if o.kind != "right" and args.show in ("all", o.kind):
                print(f"[{o.kind}] {o.family}: {o.name} — expected {o.expected}, got {o.got}: {o.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
