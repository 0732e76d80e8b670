"""The real Kubeflow 26.03 release from ../shared/data (see its README): tests skip, saying why, when it is absent."""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXAMPLE = DATA / "kubeflow-26.03-example.yaml.gz"
ISTIO_GKE = DATA / "kubeflow-26.03-istio-gke.yaml.gz"
VENDORED = DATA / "kubeflow-manifests-26.03-vendored.tar.gz"
EXAMPLE_OBJECTS = 675
"""What the data README says `kubectl kustomize example` makes."""


def rendered(path: Path) -> str:
    """A rendered release file's YAML, or skip the test when the shared data is not here."""
    if not path.is_file():
        pytest.skip(f"real release fixture {path.name} is absent (expected in {DATA})")
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def vendored_tree(target: Path) -> Path:
    """The vendored release unpacked under target (its kubeflow-manifests-26.03/ directory), or skip."""
    if not VENDORED.is_file():
        pytest.skip(f"real release fixture {VENDORED.name} is absent (expected in {DATA})")
    root = target / "kubeflow-manifests-26.03"
    if not (root / "example" / "kustomization.yaml").is_file():
        with tarfile.open(VENDORED) as tar:
            tar.extractall(target, filter="data")
    return root


def kubectl_or_skip() -> str:
    """The real kubectl on PATH, or skip."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not on PATH")
    return found


def documents(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML (libyaml's parser when present: the release is 215,000 lines)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(text, Loader=loader) if isinstance(d, dict)]


def as_list(objects: list[dict[str, Any]]) -> str:
    """Objects as one JSON v1 List, which kubectl reads from stdin like YAML."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
