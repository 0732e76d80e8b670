"""Exec and port-forward through the sandbox's API server: the real kubectl, the kubernetes client, kftui forward."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.cluster.forward import Forwarder, ForwardError, Target, parse_target
from kftui.cluster.kubeconfig import api_client
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, demo_scenario, running_kube, wait_for

GATEWAY_POD = "istio-ingressgateway-7b9c6d8f5-xq2lm"
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    with running_kube(demo_scenario(), tmp_path) as sb:
        yield sb


def _kubectl(sb: KubeSandbox, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    env = {**os.environ, "KUBECONFIG": str(sb.kubeconfig)}
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, input=stdin, env=env, timeout=60)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return resp.read().decode()


@needs_kubectl
def test_real_kubectl_exec_runs_the_command_and_keeps_its_exit_code(kube: KubeSandbox) -> None:
    ok = _kubectl(kube, "exec", "-n", "istio-system", GATEWAY_POD, "--", "echo", "hello", "pod")
    assert (ok.returncode, ok.stdout) == (0, "hello pod\n")
    failed = _kubectl(kube, "exec", "-n", "istio-system", GATEWAY_POD, "--", "sh", "-c", "echo a; exit 3")
    assert failed.returncode == 3
    assert failed.stdout == "a\n"
    assert "command terminated with exit code 3" in failed.stderr


@needs_kubectl
def test_real_kubectl_exec_refuses_like_the_api_server(kube: KubeSandbox) -> None:
    bad = _kubectl(kube, "exec", "-n", "istio-system", GATEWAY_POD, "-c", "nope", "--", "ls")
    assert bad.returncode == 1
    assert f"container nope is not valid for pod {GATEWAY_POD}" in bad.stderr
    pending = _kubectl(kube, "exec", "-n", PROFILE, "gpu-notebook-0", "--", "ls")
    assert pending.returncode == 1
    assert "does not have a host assigned" in pending.stderr


@needs_kubectl
def test_real_kubectl_exec_with_stdin_reads_a_script(kube: KubeSandbox) -> None:
    done = _kubectl(kube, "exec", "-i", "-n", PROFILE, "cpu-notebook-0", "--", "bash",
                    stdin="hostname\necho $NOPE done\nexit 5\n")
    assert done.returncode == 5
    assert done.stdout.splitlines() == ["cpu-notebook-0", "$NOPE done"]


def test_python_client_exec_speaks_v4(kube: KubeSandbox) -> None:
    from kubernetes.client import CoreV1Api
    from kubernetes.stream import stream

    core = CoreV1Api(api_client(path=kube.kubeconfig))
    out = stream(core.connect_get_namespaced_pod_exec, "cpu-notebook-0", PROFILE, command=["env"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert f"NB_PREFIX=/notebook/{PROFILE}/cpu-notebook" in out


def test_notebook_forward_serves_jupyter_under_its_prefix(kube: KubeSandbox) -> None:
    target = parse_target(["notebook", "cpu-notebook"], PROFILE, None)
    fw = Forwarder(api_client(path=kube.kubeconfig), target)
    assert fw.check() == ("cpu-notebook-0", 8888)
    fw.start()
    try:
        body = _get(fw.url)
        assert "<title>JupyterLab</title>" in body
        assert f"path /notebook/{PROFILE}/cpu-notebook/" in body
        assert fw.url.endswith(f"/notebook/{PROFILE}/cpu-notebook/")
    finally:
        fw.stop()


def test_dashboard_follows_the_gateway_pod_when_it_is_replaced(kube: KubeSandbox) -> None:
    events: list[str] = []
    fw = Forwarder(api_client(path=kube.kubeconfig), parse_target(["dashboard"], None, None), on_event=events.append)
    assert fw.check() == (GATEWAY_POD, 8080)
    fw.start()
    try:
        assert "Kubeflow Central Dashboard" in _get(fw.url)
        kube.world.delete_pod("istio-system", GATEWAY_POD)
        kube.world.add_pod({"name": "istio-ingressgateway-7b9c6d8f5-new01", "namespace": "istio-system",
                            "node": "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x",
                            "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
                            "containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.26.1"}]})
        assert "istio-ingressgateway-7b9c6d8f5-new01" in _get(fw.url)
        assert any("now forwarding to pod istio-ingressgateway-7b9c6d8f5-new01" in e for e in events)
    finally:
        fw.stop()


def test_a_port_nothing_listens_on_reports_connection_refused(kube: KubeSandbox) -> None:
    events: list[str] = []
    fw = Forwarder(api_client(path=kube.kubeconfig), Target("istio-system", "pod", GATEWAY_POD, 9999),
                   on_event=events.append)
    fw.start()
    try:
        with pytest.raises(OSError):
            _get(fw.url)
        wait_for(lambda: any("connection refused" in e for e in events), what="the refused-port error")
    finally:
        fw.stop()


def test_missing_service_and_bad_targets_are_one_line_each(kube: KubeSandbox) -> None:
    client = api_client(path=kube.kubeconfig)
    with pytest.raises(ForwardError, match='services "tensorboard-x" not found'):
        Forwarder(client, parse_target(["tensorboard", "tensorboard-x"], PROFILE, None)).check()
    with pytest.raises(ForwardError, match="-n: a notebook lives in a profile namespace"):
        parse_target(["notebook", "x"], None, None)
    with pytest.raises(ForwardError, match="pod target needs the pod's port"):
        parse_target(["pod/x"], "default", None)
    with pytest.raises(ForwardError, match="give dashboard"):
        parse_target(["deploy/x"], "default", None)


@pytest.mark.e2e
def test_kftui_forward_prints_the_url_serves_it_and_stops_on_ctrl_c(kube: KubeSandbox) -> None:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    proc = subprocess.Popen([sys.executable, "-m", "kftui", "forward", "notebook", "cpu-notebook", "-n", PROFILE,
                             "--local-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Forwarding http://127.0.0.1:"), line
        url = line.split()[1]
        assert "JupyterLab" in _get(url)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_kftui_forward_bad_target_exits_2_with_one_line(kube: KubeSandbox) -> None:
    env = {**os.environ, "KUBECONFIG": str(kube.kubeconfig)}
    done = subprocess.run([sys.executable, "-m", "kftui", "forward", "notebook", "x"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["kftui: -n: a notebook lives in a profile namespace; name it with "
                                                "-n NAMESPACE"]


def test_forward_threads_do_not_outlive_stop(kube: KubeSandbox) -> None:
    fw = Forwarder(api_client(path=kube.kubeconfig), parse_target(["notebook", "cpu-notebook"], PROFILE, None))
    fw.start()
    fw.stop()
    wait_for(lambda: not any(t.name == "kftui-forward" and t.is_alive() for t in threading.enumerate()),
             what="the accept loop to end")


@needs_kubectl
def test_sandbox_shell_says_what_it_cannot_do(kube: KubeSandbox) -> None:
    piped = _kubectl(kube, "exec", "-n", PROFILE, "cpu-notebook-0", "--", "sh", "-c", "env | grep HOME")
    assert piped.returncode == 2
    assert "'|' is not supported by the sandbox shell" in piped.stderr
    missing = _kubectl(kube, "exec", "-n", PROFILE, "cpu-notebook-0", "--", "nvidia-smi")
    assert missing.returncode == 127
    assert "nvidia-smi: command not found" in missing.stderr


def _kubectl_forward(sb: KubeSandbox, *args: str) -> tuple[subprocess.Popen[str], str]:
    """A running `kubectl port-forward ... :PORT` and the local address it printed."""
    assert KUBECTL is not None
    env = {**os.environ, "KUBECONFIG": str(sb.kubeconfig)}
    proc = subprocess.Popen([KUBECTL, "port-forward", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Forwarding from 127.0.0.1:NNNNN -> 8888"
    assert line.startswith("Forwarding from 127.0.0.1:"), line
    return proc, line.split()[2]


@needs_kubectl
def test_real_kubectl_port_forward_speaks_spdy_over_websocket(kube: KubeSandbox) -> None:
    proc, local = _kubectl_forward(kube, "-n", PROFILE, "pod/cpu-notebook-0", ":8888")
    try:
        assert "path /lab" in _get(f"http://{local}/lab")
        assert "path /again" in _get(f"http://{local}/again")  # a second connection on the same session
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@needs_kubectl
def test_real_kubectl_port_forward_to_the_dashboard_service(kube: KubeSandbox) -> None:
    proc, local = _kubectl_forward(kube, "-n", "istio-system", "svc/istio-ingressgateway", ":80")
    try:
        assert "Kubeflow Central Dashboard" in _get(f"http://{local}/")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@needs_kubectl
def test_real_kubectl_port_forward_reports_a_refused_port_like_kubelet(kube: KubeSandbox) -> None:
    proc, local = _kubectl_forward(kube, "-n", PROFILE, "pod/cpu-notebook-0", ":9999")
    with pytest.raises(OSError):
        _get(f"http://{local}/")
    _out, err = proc.communicate(timeout=30)
    assert "failed to connect to localhost:9999" in err
    assert "connect: connection refused" in err
    assert proc.returncode == 1  # kubectl: "error: lost connection to pod"


@needs_kubectl
def test_the_cockpits_shell_command_opens_an_interactive_shell(kube: KubeSandbox) -> None:
    from kftui.cluster.shell import shell_argv

    argv = shell_argv(PROFILE, "cpu-notebook-0", "cpu-notebook", kubeconfig=str(kube.kubeconfig))
    assert argv[-5:] == ["cpu-notebook", "--", "sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]
    argv.remove("-it")  # no terminal in a test: same exec, stdin piped
    argv.insert(argv.index("exec") + 1, "-i")
    done = subprocess.run(argv, input="whoami\nexit 7\n", capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (7, "jovyan\n")
