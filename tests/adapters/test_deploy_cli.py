"""`kftui deploy` against the sandbox: real google-cloud-container, real gcloud and kubectl, a small kustomization."""

from __future__ import annotations

import io
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kftui.commands.deploy import run_deploy
from kftui.errors import ConfigError, KftuiError, UsageError
from kftui.operations.deploy import load_records
from kftui.paths import cache_dir
from kftui.sandbox import Sandbox
from kftui.sandbox.kube.generic import STUCK_ANNOTATION
from tests.deploy_world import MINI, PROJECT, ZONE, assert_google_login, ready_scenario, seed_oauth2_proxy
from tests.helpers import wait_for

pytestmark = [
    pytest.mark.e2e,  # every test here drives the real gcloud and kubectl (and git) through kftui deploy
    pytest.mark.skipif(
        shutil.which("gcloud") is None or shutil.which("kubectl") is None,
        reason="kftui deploy runs the real gcloud and kubectl, and one of them is not on PATH",
    ),
]

FLAGS: dict[str, Any] = {
    "project": PROJECT, "zone": ZONE, "gpu": "nvidia-tesla-t4", "gpu_count": 1, "max_gpu_nodes": 2,
    "manifests": str(MINI), "retry_wait": 0.0, "poll": 0.05,
}


TEST_PASSWORD = "correct-horse-42-battery"


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gpu_quota: int = 8) -> Iterator[Sandbox]:
    """A sandbox of that world, with the environment pointing gcloud, ADC and kubectl at it."""
    sb = Sandbox(ready_scenario(tmp_path / "scenario", gpu_quota), tmp_path / "work")
    env = sb.start()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KFTUI_DEX_PASSWORD", TEST_PASSWORD)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    yield from start(tmp_path, monkeypatch)


@pytest.fixture
def no_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    yield from start(tmp_path, monkeypatch, gpu_quota=0)


def cluster_creates(sb: Sandbox) -> list[Any]:
    """Recorded cluster-create requests (node pool creates share the path prefix)."""
    return [r for r in sb.gcp.state.sent("POST", "/clusters") if r.path.endswith("/clusters")]


def deploy(**flags: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = run_deploy(**{**FLAGS, "yes": True, **flags}, out=out)
    return code, out.getvalue()


def test_plan_only_prints_a_script_with_the_users_values(world: Sandbox) -> None:
    code, text = deploy(plan_only=True, cluster="ml-gpu", release="v1.11.0")
    assert code == 0
    assert "gcloud container clusters create ml-gpu" in text
    assert f"--workload-pool={PROJECT}.svc.id.goog" in text and f"--node-locations={ZONE}" in text
    assert "--enable-autoprovisioning" in text and "--max-accelerator=type=nvidia-tesla-t4,count=2" in text
    assert "--accelerator=type=nvidia-tesla-t4,count=1,gpu-driver-version=default" in text
    assert "--min-nodes=0 --max-nodes=2" in text
    assert f"get-credentials ml-gpu --project={PROJECT} --zone={ZONE}" in text
    assert 'kc() { kubectl --context "$CTX" "$@"; }' in text and "kc apply --server-side --force-conflicts" in text
    assert "-n auth patch secret dex-passwords" in text  # the script replaces Dex's password as the deploy does
    assert cluster_creates(world) == []


def test_deploy_creates_cluster_and_pool_writes_context_and_applies(world: Sandbox) -> None:
    code, text = deploy()
    assert code == 0, text
    cluster = cluster_creates(world)
    assert len(cluster) == 1
    cpu = cluster[0].body["cluster"]["nodePools"][0]
    assert cpu["config"]["machineType"] == "e2-standard-8"
    assert cpu["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 4}
    nap = cluster[0].body["cluster"]["autoscaling"]  # the limits the blog edited by hand, sent to GKE
    assert nap["enableNodeAutoprovisioning"] is True
    limits = {limit["resourceType"]: int(limit["maximum"]) for limit in nap["resourceLimits"]}
    assert set(limits) == {"cpu", "memory", "nvidia-tesla-t4"} and limits["nvidia-tesla-t4"] == 2  # 2 nodes x 1 GPU
    pool = world.gcp.state.sent("POST", "/nodePools")[0].body["nodePool"]
    assert pool["config"]["machineType"] == "n1-standard-4"
    acc = pool["config"]["accelerators"][0]
    assert acc["acceleratorType"] == "nvidia-tesla-t4" and int(acc["acceleratorCount"]) == 1
    assert pool["autoscaling"] == {"enabled": True, "maxNodeCount": 2}  # min 0 is absent in proto3 JSON
    context = f"gke_{PROJECT}_{ZONE}_kubeflow"
    assert f"context {context} works" in text
    # namespaces and the CRD first, waited for until Established, so the Profile is never refused
    assert "component kubeflow-mini: building (1/1)" in text
    assert "component kubeflow-mini: applying 3/10 objects" in text
    assert "component kubeflow-mini: waiting for 1 CRDs to be established" in text
    assert "component kubeflow-mini: applying 7/10 objects" in text
    assert "component kubeflow-mini: 10 applied" in text
    assert "retry " not in text
    kube = world.kube.state
    assert kube.get("deployments", "kubeflow", "ml-pipeline") is not None
    assert kube.get("profiles", None, "kubeflow-user-example-com") is not None
    assert "ready: all 3 deployments are Available" in text
    assert "kubectl port-forward svc/istio-ingressgateway -n istio-system 8080:80" in text
    assert "Open the dashboard with `kftui forward dashboard`" in text
    assert "password: Dex's password for user@example.com replaced (bcrypt)" in text
    assert TEST_PASSWORD not in text
    assert record_for_context(context)["done"][:5] == ["cluster", "gpu-pool", "credentials", "manifests", "ready"]


def record_for_context(context: str) -> dict[str, Any]:
    return next(r for r in load_records().values() if r.get("context") == context)


def test_interrupted_deploy_resumes_without_creating_twice(world: Sandbox) -> None:
    code, text = deploy(stop_after="cluster")
    assert code == 0 and "stopped after cluster" in text
    assert world.gcp.state.sent("POST", "/nodePools") == []
    code, text = deploy()
    assert code == 0, text
    assert "cluster kubeflow: exists, skipped" in text
    assert len(cluster_creates(world)) == 1
    assert len(world.gcp.state.sent("POST", "/nodePools")) == 1
    code, text = deploy()
    assert "node pool gpu-pool: exists, skipped" in text
    assert "component kubeflow-mini: 10 applied" in text
    assert len(world.gcp.state.sent("POST", "/nodePools")) == 1


def test_blocked_plan_is_refused_and_nothing_is_created(no_quota: Sandbox) -> None:
    code, text = deploy(zone="us-central1-c")
    assert code == 1
    assert "BLOCKED zone.gpu: Zone us-central1-c does not offer nvidia-tesla-t4" in text
    assert "BLOCKED quota.gpu: Quota 'GPUS_ALL_REGIONS' is 0 globally" in text
    assert "nothing was created" in text and "gpu" in text.rsplit("Revisit:", 1)[1]
    assert cluster_creates(no_quota) == []


def test_bad_input_names_the_field_and_rule(world: Sandbox) -> None:
    with pytest.raises(UsageError, match="Cluster name must be 1-40 characters"):
        deploy(cluster="Kubeflow_1")
    with pytest.raises(UsageError, match="Kubeflow release must be a kubeflow/manifests tag"):
        deploy(release="latest")


def test_destroy_requires_the_matching_name(world: Sandbox) -> None:
    deploy(stop_after="cluster")
    with pytest.raises(UsageError, match="does not match"):
        deploy(destroy=True, cluster="other")
    code, text = deploy(destroy=True, cluster="kubeflow")
    assert code == 0 and "deleted" in text
    assert len(world.gcp.state.sent("DELETE", "/clusters/kubeflow")) == 1
    assert all(r.get("context") != f"gke_{PROJECT}_{ZONE}_kubeflow" for r in load_records().values())


def test_stuck_deployment_is_named_and_explained(world: Sandbox, tmp_path: Path) -> None:
    """A deployment that never becomes Available: the deploy says which, why (engine), and stops with a hint."""
    manifests = tmp_path / "manifests"
    shutil.copytree(MINI, manifests)
    pipelines = manifests / "pipelines.yaml"
    docs = list(yaml.safe_load_all(pipelines.read_text()))
    for doc in docs:
        if doc["kind"] == "Deployment":
            doc["metadata"]["annotations"] = {STUCK_ANNOTATION: "true"}
            doc["spec"]["template"]["spec"]["containers"][0]["image"] = "us-docker.pkg.dev/private/kfp/api:2.5.0"
    pipelines.write_text(yaml.safe_dump_all(docs))
    image = "us-docker.pkg.dev/private/kfp/api:2.5.0"
    world.kube.state.add_pod({
        "name": "ml-pipeline-7d9f8-x2x4q", "namespace": "kubeflow", "node": "n1", "labels": {"app": "ml-pipeline"},
        "containers": [{"name": "ml-pipeline-api-server", "image": image, "state": "waiting",
                        "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}],
    })
    world.kube.state.add_event({
        "namespace": "kubeflow", "involvedObject": {"kind": "Pod", "name": "ml-pipeline-7d9f8-x2x4q"},
        "type": "Warning", "reason": "Failed", "source": "kubelet",
        "message": f'Failed to pull image "{image}": rpc error: code = Unknown desc = failed to pull and unpack '
                   f'image "{image}": failed to resolve reference "{image}": failed to authorize: failed to fetch '
                   "oauth token: unexpected status: 403 Forbidden",
    })
    out = io.StringIO()
    with pytest.raises(KftuiError) as failed:
        run_deploy(**{**FLAGS, "yes": True, "manifests": str(manifests), "ready_timeout": 1.0}, out=out)
    text = out.getvalue() + str(failed.value)
    assert "ready: 2/3 Available; waiting for kubeflow/ml-pipeline" in text
    assert "why kubeflow/ml-pipeline waits: " in text
    why = text.split("why kubeflow/ml-pipeline waits: ", 1)[1].splitlines()[0]
    assert why.startswith("No credentials to pull from us-docker.pkg.dev"), why
    assert "pulls as service account ml-pipeline in kubeflow" in why and "default-editor" not in why
    assert "1 deployment(s) not Available" in text and "kubeflow/ml-pipeline" in text.rsplit("not Available", 1)[1]
    assert "open watch mode (F2)" in text
    assert "ready" not in record_for_context(f"gke_{PROJECT}_{ZONE}_kubeflow")["done"]


def mirror(tmp_path: Path, tag: str = "26.03") -> Path:
    """A git repository shaped like kubeflow/manifests (example/ is the mini kustomization), tagged."""
    repo = tmp_path / "mirror"
    shutil.copytree(MINI, repo / "example")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=kftui", "-c", "user.email=kftui@example.com", *args],
                       cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "manifests")
    git("tag", tag)
    return repo


def test_manifests_are_cloned_at_the_release_tag(world: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --manifests: the tag is cloned (from KFTUI_MANIFESTS_REPO, a mirror here), cached, and applied."""
    url = mirror(tmp_path).as_uri()
    monkeypatch.setenv("KFTUI_MANIFESTS_REPO", url)
    code, text = deploy(plan_only=True, manifests=None)
    assert code == 0 and f"git clone --depth 1 --branch 26.03 {url} kubeflow-manifests" in text
    code, text = deploy(manifests=None)
    assert code == 0, text
    assert f"manifests: fetching {url} at 26.03" in text and "manifests: 26.03 fetched" in text
    assert "component example: 10 applied" in text
    assert world.kube.state.get("profiles", None, "kubeflow-user-example-com") is not None
    fetched = sorted(p.name for p in (cache_dir() / "manifests").iterdir())
    assert len(fetched) == 1 and fetched[0].startswith("26.03-")  # keyed by tag and mirror; no partial left
    code, text = deploy(manifests=None)
    assert code == 0 and "manifests: 26.03 already fetched" in text and "fetching" not in text


def test_a_missing_tag_is_a_clear_error(world: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = mirror(tmp_path, tag="v1.10.0").as_uri()
    monkeypatch.setenv("KFTUI_MANIFESTS_REPO", url)
    out = io.StringIO()
    with pytest.raises(ConfigError) as failed:
        run_deploy(**{**FLAGS, "yes": True, "manifests": None, "release": "v1.11.0"}, out=out)
    message = str(failed.value)
    assert f"Could not fetch Kubeflow manifests v1.11.0 from {url}" in message
    assert "v1.11.0" in message.split(": ", 1)[1] and "--manifests DIR" in message
    assert load_records()  # the cluster phases before it are recorded, so the next run resumes


def test_a_deploy_stopped_mid_create_is_understood_next_time(world: Sandbox) -> None:
    """Quitting while GKE creates the cluster: the record says where; the next run waits for that cluster."""
    from kftui.commands.deploy import plan_from
    from kftui.operations.deploy import DeployStoppedError, Runner

    plan = plan_from({}, project=PROJECT, zone=ZONE, gpu="nvidia-tesla-t4", gpu_count=1, max_gpu_nodes=2,
                     manifests=str(MINI))
    lines: list[str] = []
    polled = lambda: len(world.gcp.state.sent("GET", "/operations/")) >= 1  # noqa: E731 - the user quits here
    runner = Runner(plan, lines.append, poll=0.05, retry_wait=0.0, cancelled=polled)
    with pytest.raises(DeployStoppedError, match="stopped during cluster"):
        runner.run()
    record = load_records()[f"{PROJECT}/{ZONE}/kubeflow"]
    assert record["interrupted"] == "cluster" and not record.get("done")
    code, text = deploy()
    assert code == 0, text
    assert "the previous run was stopped during cluster; continuing" in text
    assert "cluster kubeflow: exists (PROVISIONING); waiting for it" in text
    assert len(cluster_creates(world)) == 1
    assert "interrupted" not in load_records()[f"{PROJECT}/{ZONE}/kubeflow"]


def test_ctrl_c_mid_deploy_is_recorded_and_said(world: Sandbox) -> None:
    """A real `kftui deploy` process gets SIGINT while GKE creates the node pool: it says where it stopped,
    exits 130, and the record keeps the phase for the next run."""
    state = world.gcp.state
    with state.lock:
        state.scenario["projects"][PROJECT]["container"]["pollsToDone"] = 10**6  # nothing finishes by itself
    args = [sys.executable, "-m", "kftui", "deploy", "--project", PROJECT, "--zone", ZONE, "--gpu", "nvidia-tesla-t4",
            "--gpu-count", "1", "--max-gpu-nodes", "2", "--manifests", str(MINI), "--yes", "--poll", "0.05"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: state.sent("GET", "/operations/"), timeout=60, what="the cluster operation polled")
        with state.lock:
            for op in state.operations.values():
                op.polls_left = 0  # Google finishes the cluster
        wait_for(lambda: state.sent("GET", "/nodePools/") or state.sent("POST", "/nodePools"), timeout=60,
                 what="the node pool being created")
        wait_for(lambda: len(state.sent("GET", "/operations/")) >= 3, timeout=60, what="the pool operation polled")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "Interrupted during gpu-pool; what finished is recorded" in out
    assert "kftui: interrupted" in err and "Traceback" not in err
    record = load_records()[f"{PROJECT}/{ZONE}/kubeflow"]
    assert record["interrupted"] == "gpu-pool" and record["done"] == ["cluster"]


@pytest.mark.parametrize(("flags", "message"), [
    ({"gpu_count": 0}, "--gpu-count must be at least 1 (got 0)"),
    ({"max_gpu_nodes": 0}, "--max-gpu-nodes must be at least 1 (got 0)"),
    ({"gpu": "none", "gpu_count": 2}, "--gpu-count needs a GPU type"),
    ({"gpu": None, "gpu_count": 2}, "--gpu-count needs a GPU type"),
    ({"gpu_count": 3}, "GPUs per node for nvidia-tesla-t4 must be one of 1, 2, 4"),
    ({"manifests": "/nonexistent/manifests"}, "--manifests /nonexistent/manifests: no such directory"),
    ({"cluster": "Bad_Name"}, "GKE's rule"),
])
def test_bad_flags_are_refused_before_anything_runs(flags: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        run_deploy(**{**FLAGS, "plan_only": True, **flags}, out=io.StringIO())


def test_the_equivalent_command_rebuilds_the_same_plan() -> None:
    """What the wizard shows as `kftui deploy ...` carries every tuned input: run it, get the same script."""
    import shlex

    from click.testing import CliRunner

    from kftui.cli import cli
    from kftui.core.plan import PlanInputs, build_plan, deploy_command, script

    plan = build_plan(PlanInputs(
        project=PROJECT, zone=ZONE, cluster="ml-gpu", gpu_type="nvidia-l4", gpu_count=2, gpu_max_nodes=3,
        gpu_min_nodes=1, spot="yes", cpu_machine_type="e2-standard-4", cpu_nodes=3, cpu_min_nodes=2,
        cpu_max_nodes=6, nap_max_cpu=200, nap_max_memory_gb=800, manifests=str(MINI),
    ))
    args = shlex.split(deploy_command(plan, plan_only=True))[1:]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert done.stdout == script(plan)  # offline here, so stderr says the zone's offers could not be read
    assert "kftui: note: the zone's offers could not be read" in done.stderr


def test_the_default_dex_login_never_ends_green(world: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFTUI_DEX_PASSWORD")
    code, text = deploy()
    assert code == 1
    assert "Dex still has its default login user@example.com / 12341234" in text
    assert "Kubeflow is running" not in text and "KFTUI_DEX_PASSWORD" in text
    monkeypatch.setenv("KFTUI_DEX_PASSWORD", TEST_PASSWORD)
    code, text = deploy()  # the next run continues and replaces it
    assert code == 0, text
    assert "password: Dex's password for user@example.com replaced (bcrypt)" in text


@pytest.mark.parametrize("weak", ["12341234", "short-1", "onlylettersherexx", "123456789012345"])
def test_a_weak_password_is_refused_with_the_rule(world: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                                  weak: str) -> None:
    monkeypatch.setenv("KFTUI_DEX_PASSWORD", weak)
    with pytest.raises(UsageError) as refused:
        deploy()
    message = str(refused.value)
    assert message == ("KFTUI_DEX_PASSWORD: Dex password must be at least 12 characters, mixing letters with digits "
                       "or symbols, and not the default 12341234.")
    assert cluster_creates(world) == []  # refused before anything is created


def test_the_oauth_steps_client_signs_people_in_with_google(world: Sandbox) -> None:
    from kftui.secrets import default_store
    from kftui.settings import load_state, save_state

    client_id = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
    client_secret = "GOCSPX-sandboxSecretValue0123456789"
    state = load_state()
    state.answers["oauth_client_id"] = client_id
    save_state(state)
    store = default_store()
    store.put("oauth_client_secret", client_secret)
    kube = world.kube.state
    seed_oauth2_proxy(kube)
    try:
        code, text = deploy()
    finally:
        store.delete("oauth_client_secret")
    assert code == 0, text
    assert f"login: Google through oauth2-proxy (client {client_id})" in text
    assert "sign in with your Google account" in text
    assert client_secret not in text
    assert_google_login(kube, client_id, client_secret)
    # never in a file kftui writes, nor in the script
    assert not any(client_secret in p.read_text(errors="ignore") for p in Path(world.workdir).rglob("*")
                   if p.is_file() and p.stat().st_size < 5_000_000)
    code, script_text = deploy(plan_only=True)
    assert client_secret not in script_text
