"""`kubectl get KIND NAME` against the sandbox prints the same columns and row as the list does, as on a real
cluster (the API server answers a single GET with `Accept: ...;as=Table` with the resource's own Table)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube
from tests.helpers import tool

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh demo cluster per test."""
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def kubectl(sb: KubeSandbox, *args: str) -> list[list[str]]:
    """The real kubectl's table output, split into header and rows of cells."""
    out = subprocess.run([tool("kubectl"), "--kubeconfig", str(sb.kubeconfig), *args],
                         capture_output=True, text=True, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


@pytest.mark.e2e
@pytest.mark.parametrize("wide", [False, True], ids=["plain", "wide"])
@pytest.mark.parametrize(("kind", "namespace", "name"), [
    ("pods", PROFILE, "ecr-notebook-0"),
    ("pods", PROFILE, "train-resnet-0"),
    ("namespaces", None, PROFILE),
])
def test_kubectl_get_one_object_prints_the_list_columns(kube: KubeSandbox, kind: str, namespace: str | None,
                                                         name: str, wide: bool) -> None:
    scope = ["-n", namespace] if namespace else []
    extra = ["-o", "wide"] if wide else []
    one = kubectl(kube, "get", kind, name, *scope, *extra)
    listed = kubectl(kube, "get", kind, *scope, *extra)
    assert one[0] == listed[0]
    if kind == "pods":
        assert one[0][:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert (one[0][5:] == ["IP", "NODE"]) is wide
    assert len(one) == 2 and one[1][0] == name
    row = next(row for row in listed[1:] if row[0] == name)
    age = one[0].index("AGE")  # time passes between the two calls: 7m may become 7m1s
    assert one[1][:age] + one[1][age + 1:] == row[:age] + row[age + 1:]
    assert len(one[1]) == len(row) and one[1][age][0].isdigit()


def test_a_single_get_as_table_is_a_table_of_one_row_with_the_list_columns(kube: KubeSandbox) -> None:
    def table(path: str) -> dict[str, object]:
        request = urllib.request.Request(kube.url + path, headers={"Accept": TABLE})
        with urllib.request.urlopen(request, timeout=20) as resp:
            return dict(json.loads(resp.read()))

    one = table(f"/api/v1/namespaces/{PROFILE}/pods/ecr-notebook-0?includeObject=Object")
    listed = table(f"/api/v1/namespaces/{PROFILE}/pods")
    assert one["kind"] == "Table" and one["columnDefinitions"] == listed["columnDefinitions"]
    rows = one["rows"]
    assert isinstance(rows, list) and len(rows) == 1
    assert rows[0]["cells"][:3] == ["ecr-notebook-0", "0/1", "ImagePullBackOff"]
    assert rows[0]["object"]["metadata"]["name"] == "ecr-notebook-0"
    assert one["metadata"] == {"resourceVersion": rows[0]["object"]["metadata"]["resourceVersion"]}
