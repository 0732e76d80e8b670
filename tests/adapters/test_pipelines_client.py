"""Connecting to KFP: fails fast and clearly when nothing answers; reaches it by URL, env or kube context."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kftui.errors import KftuiError
from kftui.pipelines.client import PipelinesApiError, connect, resolve_host
from kftui.pipelines.runs import get_run
from tests.adapters.kfp_fixtures import FAILED_RUN, KfpSandbox, kfp_sandbox
from tests.helpers import closed_port

__all__ = ["kfp_sandbox"]


def test_unreachable_host_is_a_clear_error_not_a_25_second_retry(kfp_sandbox: KfpSandbox) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(KftuiError) as info:
        connect(url)
    message = str(info.value)
    assert message.startswith(f"cannot reach the pipelines API at {url}: ")
    assert "connection refused" in message
    # Nothing was sent anywhere else: the probe never fell through to kfp.Client's retry loop.
    assert kfp_sandbox.world.requests == []


def test_unhealthy_server_names_the_status(kfp_sandbox: KfpSandbox) -> None:
    kfp_sandbox.world.healthy = False
    with pytest.raises(KftuiError, match=r"cannot reach the pipelines API at .*: HTTP 503"):
        connect(kfp_sandbox.url)
    assert [r[1] for r in kfp_sandbox.world.requests] == ["/apis/v2beta1/healthz"]


def test_connect_by_url_and_by_env(kfp_sandbox: KfpSandbox) -> None:
    by_url = connect(kfp_sandbox.url)
    assert by_url.url == kfp_sandbox.url and by_url.multi_user is False
    by_env = connect(env={"KF_PIPELINES_ENDPOINT": kfp_sandbox.url + "/"})
    assert by_env.url == kfp_sandbox.url
    assert get_run(by_env, FAILED_RUN).row.state == "FAILED"


def test_resolve_host_precedence_and_scheme() -> None:
    env = {"KF_PIPELINES_ENDPOINT": "http://from-env:8888"}
    assert resolve_host("http://flag:1", env) == "http://flag:1"
    assert resolve_host(None, env) == "http://from-env:8888"
    assert resolve_host("kubeflow.example.com/pipeline/", {}) == "https://kubeflow.example.com/pipeline"
    assert resolve_host(None, {}) is None


def test_multi_user_server_needs_a_namespace(kfp_sandbox: KfpSandbox) -> None:
    kfp_sandbox.world.multi_user = True
    with pytest.raises(KftuiError, match="multi-user: give your profile namespace"):
        connect(kfp_sandbox.url)
    client = connect(kfp_sandbox.url, namespace="kubeflow-user-example-com")
    assert client.namespace == "kubeflow-user-example-com"


def test_api_errors_carry_status_and_kfp_message(kfp_sandbox: KfpSandbox) -> None:
    client = connect(kfp_sandbox.url)
    with pytest.raises(PipelinesApiError) as info:
        get_run(client, "missing-run")
    assert info.value.status == 404
    assert "Run missing-run not found" in str(info.value)


def test_kube_context_goes_through_the_service_proxy(kfp_sandbox: KfpSandbox, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "sbx", "cluster": {"server": kfp_sandbox.url}}],
                "users": [{"name": "me", "user": {"token": "sandbox-token"}}],
                "contexts": [{"name": "kfp-sbx", "context": {"cluster": "sbx", "user": "me"}}],
                "current-context": "kfp-sbx",
            }
        )
    )
    script = textwrap.dedent(
        """
        import json
        from kftui.pipelines.client import connect
        from kftui.pipelines.runs import list_runs
        client = connect(kube_context="kfp-sbx", env={})
        print(json.dumps({"url": client.url, "runs": sorted(r.name for r in list_runs(client))}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "KF_PIPELINES_ENDPOINT"}
    env["KUBECONFIG"] = str(kubeconfig)
    env["HOME"] = str(tmp_path)  # no ~/.config/kfp/context.json from the developer's machine
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["url"] == f"{kfp_sandbox.url}/api/v1/namespaces/kubeflow/services/ml-pipeline:http/proxy"
    assert result["runs"] == ["train-grasp-net", "train-grasp-net-baseline", "train-grasp-net-lr-sweep"]
    proxied = [r for r in kfp_sandbox.world.requests if "/services/ml-pipeline:http/proxy" in r[1]]
    assert any(r[1].endswith("/apis/v2beta1/runs") for r in proxied), [r[1] for r in kfp_sandbox.world.requests]
    assert len(proxied) == len(kfp_sandbox.world.requests)  # none slipped past the proxy path
    assert {r[4] for r in proxied} == {"Bearer sandbox-token"}


def test_kube_context_that_does_not_exist_is_explained(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from kftui.errors import KftuiError
        from kftui.pipelines.client import connect
        try:
            connect(kube_context="nope", env={})
        except KftuiError as exc:
            print("ERR", exc)
        """
    )
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    env = {k: v for k, v in os.environ.items() if k != "KF_PIPELINES_ENDPOINT"}
    env.update(KUBECONFIG=str(kubeconfig), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert "ERR no pipelines API given" in done.stdout and "'nope'" in done.stdout, done.stdout + done.stderr
