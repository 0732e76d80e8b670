"""The real `gcloud container clusters describe/list/get-credentials` read the sandbox's GKE clusters unchanged."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kftui.sandbox.gcp import container as fake
from kftui.sandbox.gcp.env import gcloud_env, write_env
from tests.adapters.gcp_fixtures import GcpSandbox, demo_scenario, start_sandbox

GCLOUD = shutil.which("gcloud")
pytestmark = pytest.mark.skipif(GCLOUD is None, reason="the real gcloud is not on PATH")
PROJECT = "robot-ml-demo"


@pytest.fixture
def gke(tmp_path: Path) -> Iterator[tuple[GcpSandbox, dict[str, str]]]:
    """The fake GCP with a running cluster `kubeflow` in us-central1-a, and a gcloud configuration pointed at it."""
    scenario = demo_scenario()
    project = scenario["projects"][PROJECT]
    project["services"]["container.googleapis.com"] = "ENABLED"
    project["iam"]["granted"] = ["*"]
    project["container"] = {
        "pollsToDone": 0,
        "clusters": {
            "us-central1-a/kubeflow": {
                "nodePools": [{"name": "cpu-pool", "initialNodeCount": 2, "config": {"machineType": "e2-standard-8"}}]
            }
        },
    }
    sandbox, stop = start_sandbox(scenario)
    env = write_env(sandbox.url, tmp_path / "gcp", scenario)
    run_env = {**gcloud_env(Path(env["CLOUDSDK_CONFIG"])), **env, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    try:
        yield sandbox, run_env
    finally:
        stop()


def gcloud(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real gcloud against the sandbox."""
    assert GCLOUD is not None
    return subprocess.run(
        [GCLOUD, *args, f"--project={PROJECT}", "--quiet"], env=env, capture_output=True, text=True, timeout=120
    )


def test_describe_reads_every_field_of_a_running_cluster(gke: tuple[GcpSandbox, dict[str, str]]) -> None:
    _, env = gke
    done = gcloud(env, "container", "clusters", "describe", "kubeflow", "--location=us-central1-a", "--format=json")
    assert done.returncode == 0, done.stderr
    cluster = json.loads(done.stdout)
    assert cluster["status"] == "RUNNING" and cluster["currentNodeVersion"] == fake.VERSION
    assert cluster["currentMasterVersion"] == fake.VERSION and cluster["endpoint"] == fake.BARE_ENDPOINT
    assert cluster["masterAuth"]["clusterCaCertificate"] and cluster["locations"] == ["us-central1-a"]
    assert [p["status"] for p in cluster["nodePools"]] == ["RUNNING"]
    assert cluster["selfLink"].endswith("/projects/robot-ml-demo/locations/us-central1-a/clusters/kubeflow")
    human = gcloud(env, "container", "clusters", "describe", "kubeflow", "--location=us-central1-a")
    assert human.returncode == 0, human.stderr
    assert "currentNodeVersion: " + fake.VERSION in human.stdout


def test_list_shows_the_cluster_as_gcloud_formats_it(gke: tuple[GcpSandbox, dict[str, str]]) -> None:
    _, env = gke
    done = gcloud(env, "container", "clusters", "list")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert header.split()[:3] == ["NAME", "LOCATION", "MASTER_VERSION"]
    # NUM_NODES comes from currentNodeCount, STATUS from the enum name: both break on a wrong shape.
    assert row.split()[:3] == ["kubeflow", "us-central1-a", fake.VERSION] and row.split()[-2:] == ["2", "RUNNING"]


def test_get_credentials_writes_the_context_from_endpoint_and_ca(gke: tuple[GcpSandbox, dict[str, str]]) -> None:
    _, env = gke
    done = gcloud(env, "container", "clusters", "get-credentials", "kubeflow", "--location=us-central1-a")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(Path(env["KUBECONFIG"]).read_text(encoding="utf-8"))
    name = f"gke_{PROJECT}_us-central1-a_kubeflow"
    assert config["current-context"] == name
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == name)
    assert cluster["server"] == f"https://{fake.BARE_ENDPOINT}"
    assert cluster["certificate-authority-data"] == fake._FAKE_CA


def test_a_cluster_created_with_numeric_enums_reads_back_with_names(gke: tuple[GcpSandbox, dict[str, str]]) -> None:
    sandbox, env = gke
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import container_v1

    client = container_v1.ClusterManagerClient(
        transport="rest", client_options=ClientOptions(api_endpoint=sandbox.url), credentials=AnonymousCredentials()
    )
    from kftui.sandbox.gcp.common import issue_token

    metadata = [("authorization", f"Bearer {issue_token('ada@robot-ml-demo.iam.gserviceaccount.com')}")]
    client.create_cluster(
        request={
            "parent": f"projects/{PROJECT}/locations/us-central1-a",
            "cluster": {
                "name": "gpu",
                "release_channel": {"channel": container_v1.ReleaseChannel.Channel.REGULAR},
                "node_pools": [{"name": "gpu-pool", "initial_node_count": 1, "config": {
                    "machine_type": "n1-standard-8",
                    "accelerators": [{"accelerator_type": "nvidia-tesla-t4", "accelerator_count": 1,
                                      "gpu_driver_installation_config": {"gpu_driver_version": 2}}],
                }}],
            },
        },
        metadata=metadata,
    )  # fmt: skip
    sent = sandbox.world.sent("POST", "/clusters")[-1].body
    assert sent["cluster"]["releaseChannel"]["channel"] == 2, "the client really sends enums as numbers"
    done = gcloud(env, "container", "clusters", "describe", "gpu", "--location=us-central1-a", "--format=json")
    assert done.returncode == 0, done.stderr
    cluster = json.loads(done.stdout)
    assert cluster["releaseChannel"]["channel"] == "REGULAR"
    accelerator = cluster["nodePools"][0]["config"]["accelerators"][0]
    assert accelerator["gpuDriverInstallationConfig"]["gpuDriverVersion"] == "DEFAULT"
