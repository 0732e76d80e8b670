"""The forked first pod list of `kftui watch` against the fake API server, with the real `kubernetes` client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kftui.cluster.kubeconfig import api_client, load_contexts
from kftui.cluster.pods import list_pods
from kftui.cluster.prefetch import DISABLE_ENV, PodPrefetch, start_pod_prefetch
from kftui.cluster.watch import ResourceWatcher
from kftui.commands.launch import _pod_cells
from kftui.core.kube import WatchKind
from kftui.core.podtable import pods_model
from kftui.sandbox.kube import write_kubeconfig
from kftui.views.pods import VIEW
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, kube, wait_for
from tests.helpers import closed_port

__all__ = ["kube"]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the prefetch child needs os.fork (not on Windows)")


def started(context: str | None, namespace: str | None, kubeconfig: Path) -> PodPrefetch:
    prefetch = start_pod_prefetch(context, namespace, str(kubeconfig))
    assert prefetch is not None, "fork is available here, so a child must have been started"
    return prefetch


def reaped(pid: int) -> bool:
    """Whether the child is gone for good (no zombie left to collect)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_lists_what_the_watch_would_and_is_reaped(kube: KubeSandbox) -> None:
    prefetch = started(None, None, kube.kubeconfig)
    snapshot = prefetch.take(timeout=30)
    assert snapshot is not None, prefetch.error
    rows, rv = list_pods(api_client(path=kube.kubeconfig))
    assert sorted(snapshot.rows, key=lambda r: (r.namespace, r.name)) == sorted(rows, key=lambda r: (r.namespace,
                                                                                                     r.name))
    assert snapshot.resource_version and int(snapshot.resource_version) <= int(rv)
    assert {r.name for r in snapshot.rows} >= {"gpu-notebook-0", "train-resnet-0"}
    assert prefetch.collected(10) and reaped(prefetch.pid)
    assert prefetch.take() is None  # once only


def test_one_namespace_is_checked_then_listed_alone(kube: KubeSandbox) -> None:
    prefetch = started(None, PROFILE, kube.kubeconfig)
    assert prefetch.namespace_verdict(timeout=30) == "ok"
    snapshot = prefetch.take(timeout=30)
    assert snapshot is not None and snapshot.rows
    assert {r.namespace for r in snapshot.rows} == {PROFILE}


def test_a_missing_namespace_is_said_and_nothing_is_listed(kube: KubeSandbox) -> None:
    prefetch = started(None, "no-such-namespace", kube.kubeconfig)
    assert prefetch.namespace_verdict(timeout=30) == "missing"
    assert prefetch.namespace_verdict() == "missing"  # asked again: the same answer, no second read
    assert prefetch.take(timeout=30) is None
    assert prefetch.collected(10) and reaped(prefetch.pid)


def test_the_watch_resumes_from_the_handed_over_list(kube: KubeSandbox) -> None:
    """A pod added after the child listed arrives on the watch: nothing between list and watch is lost."""
    prefetch = started(None, PROFILE, kube.kubeconfig)
    snapshot = prefetch.take(timeout=30)
    assert snapshot is not None, prefetch.error
    kube.world.add_pod({"name": "after-the-list", "namespace": PROFILE, "node": "n1", "phase": "Running"})
    assert VIEW.watch is not None
    connected = threading.Event()

    def connect() -> object:
        connected.set()
        return api_client(path=kube.kubeconfig)

    watcher = ResourceWatcher(None, VIEW.watch, PROFILE, timeout_seconds=30,
                              first=lambda: (snapshot.rows, snapshot.resource_version), connect=connect)
    changes: list[object] = []
    thread = watcher.start(changes.append)
    try:
        wait_for(lambda: changes, what="the snapshot")
        first = changes[0]
        assert getattr(first, "kind", None) == WatchKind.SYNCED
        assert "after-the-list" not in {r.name for r in getattr(first, "snapshot", ())}
        wait_for(lambda: any(getattr(getattr(c, "row", None), "name", "") == "after-the-list" for c in changes),
                 what="the pod added after the list, on the watch")
        assert connected.is_set()
    finally:
        watcher.stop()
        thread.join(timeout=10)


def test_an_unreachable_cluster_is_an_error_not_a_crash(tmp_path: Path) -> None:
    port = closed_port()  # refuses connections for the whole test
    kubeconfig = write_kubeconfig(f"http://127.0.0.1:{port}", tmp_path / "kubeconfig", namespace=PROFILE)
    prefetch = started(None, None, kubeconfig)
    assert prefetch.take(timeout=60) is None
    assert prefetch.error, "the child says why it brought nothing"
    assert prefetch.collected(10) and reaped(prefetch.pid)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a hung API server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def test_a_hung_child_is_given_up_on_and_discard_ends_it(tmp_path: Path, silent_server: int) -> None:
    kubeconfig = write_kubeconfig(f"http://127.0.0.1:{silent_server}", tmp_path / "kubeconfig", namespace=PROFILE)
    prefetch = started(None, None, kubeconfig)
    assert prefetch.take(timeout=0.5) is None and "no answer" in prefetch.error
    assert prefetch.collected(10) and reaped(prefetch.pid)  # take() gave up: it ended the child and collected it

    other = started(None, None, kubeconfig)
    other.discard()
    assert other.collected(10) and reaped(other.pid), "discard() kills the child and collects it"
    assert other.take() is None


def test_turned_off_by_the_environment(kube: KubeSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "0")
    assert start_pod_prefetch(None, None, str(kube.kubeconfig)) is None


def test_the_child_loads_only_the_client_parts_one_get_needs() -> None:
    """In a fresh process (as the child is): the light load keeps the API and model modules out, and a client
    built from a kubeconfig still works with the real classes."""
    code = (
        "import sys\n"
        "from kftui.cluster.prefetch import _light_client\n"
        "_light_client()\n"
        "import kubernetes.client, kubernetes.config\n"
        "loaded = [m for m in sys.modules if m.startswith('kubernetes.client.')]\n"
        "assert 'kubernetes.client.api.core_v1_api' not in sys.modules, 'the API modules were imported'\n"
        "assert not any(m.startswith('kubernetes.client.models.') for m in loaded), 'models were imported'\n"
        "assert kubernetes.client.ApiClient.__module__ == 'kubernetes.client.api_client'\n"
        "assert callable(kubernetes.config.new_client_from_config)\n"
        "print(len(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert 0 < int(done.stdout) < 20


def test_rows_come_in_batches_filed_as_the_pods_table_files_them(kube: KubeSandbox) -> None:
    """The child sends the rows a few at a time with the table's own cells, so the first frame only stores them."""
    prefetch = start_pod_prefetch(None, None, str(kube.kubeconfig), _pod_cells, batch=2)
    assert prefetch is not None
    snapshot = prefetch.take(timeout=30)
    assert snapshot is not None, prefetch.error
    assert len(snapshot.rows) > 4, "the sandbox has pods enough for several batches of two"
    rows, _ = list_pods(api_client(path=kube.kubeconfig))
    assert sorted(r.name for r in snapshot.rows) == sorted(r.name for r in rows)
    model = pods_model()
    assert snapshot.prepared is not None
    assert list(snapshot.prepared) == [model.prepare(row) for row in snapshot.rows]
    assert prefetch.collected(10) and reaped(prefetch.pid)


def test_a_kubeconfig_that_is_not_yaml_is_said_by_the_child(tmp_path: Path) -> None:
    bad = tmp_path / "config"
    bad.write_text("apiVersion: v1\ncontexts: [\n  - name: x\n  : : :\n")
    prefetch = started(None, None, bad)
    problem = prefetch.kubeconfig_problem(timeout=30)
    assert problem is not None and problem.startswith(f"kubeconfig {bad} is not valid YAML (line "), problem
    assert prefetch.named_scope() is None
    assert prefetch.take(timeout=30) is None and "kubeconfig" in prefetch.error
    assert prefetch.collected(10) and reaped(prefetch.pid)


def test_the_child_names_the_context_and_its_cluster(kube: KubeSandbox) -> None:
    prefetch = started(None, None, kube.kubeconfig)
    try:
        assert prefetch.kubeconfig_problem(timeout=30) == ""
        current = next(c for c in load_contexts(kube.kubeconfig) if c.current)
        assert prefetch.named_scope() == (current.name, current.cluster)
    finally:
        prefetch.discard()


def test_the_child_defers_what_one_get_never_uses_and_each_still_works(kube: KubeSandbox) -> None:
    """In a fresh process (as the child is): a GET through the light client loads none of the deferred modules;
    then every name the client and its loader took from them works, against the real modules."""
    code = f"""
import sys
from kftui.cluster.prefetch import DEFERRED, _Deferred, _light_client
_light_client()
from kftui.cluster._http import get_json
from kftui.cluster.kubeconfig import api_client
assert get_json(api_client(path={str(kube.kubeconfig)!r}), "/api/v1/pods")["items"]
waiting = sorted(n for n, m in sys.modules.items() if isinstance(m, _Deferred))
assert waiting == sorted(n for n, _ in DEFERRED), waiting
import kubernetes.client.api_client as ac, kubernetes.client.rest as rest, kubernetes.config.kube_config as kc
assert ac.parse("2024-01-01T00:00:00Z").year == 2024
assert rest.should_bypass_proxies("http://127.0.0.1:1", no_proxy="127.0.0.1")
assert kc.google.auth.transport.requests.Request.__module__ == "google.auth.transport.requests"
assert issubclass(kc.oauthlib.oauth2.rfc6749.errors.InvalidClientIdError, Exception)
assert kc.OAuth2Session(client_id="kftui").client_id == "kftui"
pool = ac.ThreadPool(1)
assert pool.apply(len, ("abc",)) == 3
pool.close()
import requests
assert callable(requests.get) and sys.modules["requests.utils"].should_bypass_proxies.__module__ == "requests.utils"
assert not any(isinstance(m, _Deferred) for m in sys.modules.values()), "all real once one was used"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
