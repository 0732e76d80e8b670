"""Replay every Google call of a whole journey against the sandbox and compare what IAM checked with the table.

The sandbox records each permission its APIs check for a call (as Google's IAM does), and its GKE cluster's
API server does the same for every Kubernetes request of a Google identity (GKE's IAM authorizer). A deploy, an
API enable, a quota request, the doctor and a destroy run for real (real clients, real gcloud and kubectl); any
permission checked that `kftui.core.requirements` does not list would be a pre-check the IAM step and doctor miss.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kftui.cli import cli
from kftui.commands.deploy import run_deploy
from kftui.core.requirements import GOALS, permissions_for
from kftui.sandbox import Sandbox
from kftui.sandbox.kube.iam import Attributes, permission_for
from kftui.sandbox.kube.types import BUILTIN
from kftui.steps.apis import ENABLE_ACTION
from kftui.steps.apis import STEP as APIS
from kftui.steps.base import StepContext
from tests.deploy_world import MINI, PROJECT, ZONE, ready_scenario
from tests.release_data import EXAMPLE, ISTIO_GKE, rendered

NEEDS_TOOLS = pytest.mark.skipif(
    shutil.which("gcloud") is None or shutil.which("kubectl") is None, reason="needs the real gcloud and kubectl"
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    sb = Sandbox(ready_scenario(tmp_path / "scenario"), tmp_path / "work")
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.mark.e2e  # a whole journey through the real gcloud and kubectl (kftui deploy, doctor, quota): end to end
@NEEDS_TOOLS
def test_every_permission_the_calls_needed_is_in_the_table(world: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFTUI_DEX_PASSWORD", "robot-arms-2026!")  # the deploy never ends on Dex's default login
    project = world.gcp.state.scenario["projects"][PROJECT]
    project["services"]["container.googleapis.com"] = "DISABLED"
    APIS.apply(ENABLE_ACTION, StepContext(answers={"project": PROJECT}, services=None), lambda _line: None)

    doctor = CliRunner().invoke(cli, ["doctor", "--project", PROJECT, "--gpu", "nvidia-tesla-t4", "--zone", ZONE,
                                      "--json"])
    assert doctor.exit_code in (0, 1), doctor.output
    out = io.StringIO()
    code = run_deploy(project=PROJECT, zone=ZONE, gpu="nvidia-tesla-t4", gpu_count=1, max_gpu_nodes=2,
                      manifests=str(MINI), retry_wait=0.0, poll=0.05, yes=True, out=out)
    assert code == 0, out.getvalue()
    quota = CliRunner().invoke(cli, ["quota", "request", "--project", PROJECT, "--gpu", "nvidia-tesla-t4",
                                     "--region", "us-central1", "--count", "16", "--email", "ada@example.com",
                                     "--yes", "--json"])
    assert quota.exit_code == 0, quota.output
    assert json.loads(quota.stdout)["recorded"] is True
    status = CliRunner().invoke(cli, ["quota", "status", "--project", PROJECT])
    assert status.exit_code == 0, status.output
    gone = io.StringIO()
    assert run_deploy(project=PROJECT, zone=ZONE, cluster="kubeflow", destroy=True, yes=True, poll=0.05,
                      out=gone) == 0, gone.getvalue()

    checked = {permission for pid, permission in world.gcp.state.checked if pid == PROJECT}
    missed = sorted(checked - set(permissions_for(GOALS)))
    assert not missed, f"the sandbox checked permissions the table does not list: {missed}"
    for call_needs in ("container.clusters.create", "iam.serviceAccounts.actAs", "container.clusters.update",
                       "container.operations.get", "container.clusters.get", "container.clusters.delete",
                       "cloudquotas.quotas.update", "cloudquotas.quotas.get", "serviceusage.services.enable",
                       "compute.regions.get", "compute.acceleratorTypes.list",
                       # the Kubernetes side, which GKE's IAM authorizer checks for the deploy's kubectl and client
                       "container.namespaces.create", "container.namespaces.update",
                       "container.customResourceDefinitions.create", "container.customResourceDefinitions.get",
                       "container.thirdPartyObjects.create", "container.deployments.update",
                       "container.deployments.list", "container.secrets.get"):
        assert call_needs in checked, f"the replay never made a call needing {call_needs}"


def test_the_table_covers_what_applying_the_real_release_needs() -> None:
    """Each object of the real 26.03 release (and the GKE Istio overlay) is server-side applied: GKE's authorizer
    checks `update`, then `create` for a new object; the table must list both for every kind."""
    needed: dict[str, set[str]] = {}
    builtin = {(t.group, t.kind): t.plural for t in BUILTIN}
    for text in (rendered(EXAMPLE), rendered(ISTIO_GKE)):
        for obj in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if not obj:
                continue
            group = str(obj["apiVersion"]).rpartition("/")[0]
            plural = builtin.get((group, obj["kind"]), obj["kind"].lower() + "s")
            for verb in ("patch", "create"):
                attrs = Attributes(verb, group, "v1", plural, "", "", str(obj["metadata"]["name"]))
                permission = permission_for(attrs, custom=(group, obj["kind"]) not in builtin)
                assert permission is not None, f"GKE's IAM would have no opinion on {obj['kind']}"
                needed.setdefault(permission, set()).add(obj["kind"])
    missed = {p: sorted(kinds) for p, kinds in needed.items() if p not in permissions_for(("deploy",))}
    assert not missed, f"applying the release needs permissions the table lacks: {missed}"
    assert "container.clusterRoles.create" in needed and "container.thirdPartyObjects.update" in needed
