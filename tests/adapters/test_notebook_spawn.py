"""Notebook servers made from kftui against the sandbox's notebook controller, scheduler and registry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.cluster.forward import Forwarder, parse_target
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.pullsecret import apply_pull_secret
from kftui.cluster.spawn import Progress, create_notebook, delete_notebook, progress, set_stopped
from kftui.core.spawner import NotebookSpec
from kftui.errors import KftuiError
from kftui.sandbox.base import Served
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for
from tests.adapters.registry_fixtures import running_registry

SCIPY = "kubeflownotebookswg/jupyter-scipy:v1.9.0"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def registry() -> Iterator[Served]:
    with running_registry() as served:
        yield served


@pytest.fixture
def kube(tmp_path: Path, registry: Served) -> Iterator[KubeSandbox]:
    with running_kube(demo_scenario(), tmp_path) as sb:
        sb.world.notebooks.registry = registry.state
        yield sb


def _until(kube: KubeSandbox, name: str, stage: str, timeout: float = 20) -> Progress:
    client = api_client(path=kube.kubeconfig)
    return wait_for(lambda: (p := progress(client, PROFILE, name)).stage == stage and p, timeout=timeout,
                    what=f"{name} to reach {stage}")


def test_a_cpu_notebook_comes_up_ready_and_serves_jupyter_under_its_prefix(kube: KubeSandbox) -> None:
    client = api_client(path=kube.kubeconfig)
    made = create_notebook(client, NotebookSpec("lab", PROFILE, SCIPY))
    assert made == ["persistentvolumeclaim/lab-workspace", "notebook/lab"]
    _until(kube, "lab", "Ready")
    pod = kube.world.get("pods", PROFILE, "lab-0")
    assert pod is not None
    assert pod["metadata"]["labels"]["notebook-name"] == "lab"
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["NB_PREFIX"] == f"/notebook/{PROFILE}/lab"
    fw = Forwarder(client, parse_target(["notebook", "lab"], PROFILE, None))
    fw.check()
    fw.start()
    try:
        with urllib.request.urlopen(fw.url, timeout=30) as resp:
            assert "JupyterLab" in resp.read().decode()
    finally:
        fw.stop()


def test_a_gpu_notebook_with_no_free_gpu_says_why_it_waits(kube: KubeSandbox) -> None:
    create_notebook(api_client(path=kube.kubeconfig),
                    NotebookSpec("gpu", PROFILE, SCIPY, gpus=1, gpu_type="nvidia-tesla-t4"))
    stuck = _until(kube, "gpu", "Unschedulable")
    assert stuck.reason.startswith("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
    assert ("NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached") in stuck.events


def test_a_private_image_backs_off_until_a_pull_secret_is_attached(kube: KubeSandbox) -> None:

    client = api_client(path=kube.kubeconfig)
    create_notebook(client, NotebookSpec("ros", PROFILE, f"{ECR}/robotics/jupyter-ros:1.4"))
    backoff = _until(kube, "ros", "ImagePullBackOff")
    assert "no basic auth credentials" in backoff.reason
    apply_pull_secret(client, PROFILE, "ecr-pull", ECR, "AWS", "sandbox-ecr-password")
    _until(kube, "ros", "Ready", timeout=30)


def test_stop_start_and_delete_follow_the_culling_annotation(kube: KubeSandbox) -> None:
    client = api_client(path=kube.kubeconfig)
    create_notebook(client, NotebookSpec("lab", PROFILE, SCIPY))
    _until(kube, "lab", "Ready")
    set_stopped(client, PROFILE, "lab", True)
    assert _until(kube, "lab", "Stopped").reason.startswith("the culling annotation is set")
    wait_for(lambda: kube.world.get("pods", PROFILE, "lab-0") is None, what="the stopped pod to go")
    set_stopped(client, PROFILE, "lab", False)
    _until(kube, "lab", "Ready")
    assert delete_notebook(client, PROFILE, "lab", volume=True) == ["notebook/lab", "persistentvolumeclaim/lab-workspace"]
    wait_for(lambda: kube.world.get("pods", PROFILE, "lab-0") is None, what="the deleted notebook's pod to go")
    assert kube.world.get("persistentvolumeclaims", PROFILE, "lab-workspace") is None


def test_a_second_notebook_of_the_same_name_keeps_the_volume_and_says_so(kube: KubeSandbox) -> None:
    client = api_client(path=kube.kubeconfig)
    create_notebook(client, NotebookSpec("lab", PROFILE, SCIPY))
    with pytest.raises(KftuiError, match="lab-workspace already exists in kubeflow-user-example-com; reuse it with "
                                         "--existing-volume lab-workspace"):
        create_notebook(client, NotebookSpec("lab", PROFILE, SCIPY))


def _kftui(args: list[str], kube: KubeSandbox, registry: Served) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig),
           "KFTUI_REGISTRY_OVERRIDES": registry.extra["KFTUI_REGISTRY_OVERRIDES"]}
    return subprocess.run([sys.executable, "-m", "kftui", *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_creates_follows_and_refuses_unfit_images(kube: KubeSandbox, registry: Served) -> None:
    ok = _kftui(["notebook", "create", "lab", "--image", SCIPY, "--wait", "30"], kube, registry)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == f"Ready. Open it with: kftui forward notebook lab -n {PROFILE}"
    unfit = _kftui(["notebook", "create", "vnc", "--image", "tiryoh/ros2-desktop-vnc:humble"], kube, registry)
    assert unfit.returncode == 1
    assert "does not expose 8888/tcp" in unfit.stderr
    assert "cannot serve a Kubeflow notebook (see above); fix it or pass --force" in unfit.stderr
    assert kube.world.get("notebooks", PROFILE, "vnc") is None
    bad = _kftui(["notebook", "create", "x", "--image", SCIPY, "--cpu", "lots"], kube, registry)
    assert (bad.returncode, bad.stderr.splitlines()) == (2, ["kftui: cpu: cores as a number (0.5, 2) or millicores "
                                                             "(500m), more than 0 and at most 416"])
    gpu = _kftui(["notebook", "create", "gpu", "--image", SCIPY, "--gpu", "1", "--wait", "3"], kube, registry)
    assert gpu.returncode == 1
    assert "why: " in gpu.stdout
    assert f"Follow it with: kftui notebook watch gpu -n {PROFILE}" in gpu.stdout


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_real_kubectl_sees_the_notebook_and_its_running_pod(kube: KubeSandbox) -> None:
    create_notebook(api_client(path=kube.kubeconfig), NotebookSpec("lab", PROFILE, SCIPY))
    _until(kube, "lab", "Ready")
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    kubectl = str(shutil.which("kubectl"))
    pods = subprocess.run([kubectl, "get", "pods", "-n", PROFILE, "-l", "notebook-name=lab", "--no-headers"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert pods.stdout.split()[:3] == ["lab-0", "1/1", "Running"], pods.stdout + pods.stderr
    nbs = subprocess.run([kubectl, "get", "notebooks.kubeflow.org", "lab", "-n", PROFILE, "-o",
                          "jsonpath={.status.readyReplicas}"], capture_output=True, text=True, env=env, timeout=60)
    assert nbs.stdout == "1", nbs.stderr
