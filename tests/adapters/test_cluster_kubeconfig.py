"""Kubeconfig contexts and clients: the real loader against files on disk and the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from kftui.cluster.kubeconfig import api_client, current_context, load_contexts
from kftui.cluster.pods import list_pods
from kftui.errors import ConfigError
from kftui.sandbox.kube import write_kubeconfig
from tests.adapters.kube_fixtures import PROFILE, demo_scenario, running_kube


def test_contexts_from_kubeconfig_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = write_kubeconfig("http://127.0.0.1:1", tmp_path / "a", context="first", namespace="team-a")
    b = write_kubeconfig("http://127.0.0.1:2", tmp_path / "b", context="second")
    b.write_text(b.read_text().replace("current-context: second", "current-context: first"))
    monkeypatch.setenv("KUBECONFIG", f"{a}:{b}")
    contexts = load_contexts()
    assert [(c.name, c.server, c.namespace, c.current) for c in contexts] == [
        ("first", "http://127.0.0.1:1", "team-a", True), ("second", "http://127.0.0.1:2", "default", False)]
    current = current_context()
    assert current is not None and current.source == a


@pytest.mark.parametrize(("content", "needle"), [
    ("clusters: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ("contexts: {a: 1}\n", "`contexts` must be a list"),
])
def test_invalid_kubeconfig_names_the_file(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "broken"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_contexts(path)
    assert str(path) in str(err.value) and needle in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        api_client(path=path)


def test_missing_or_unreadable_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_contexts(tmp_path / "nope")
    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ConfigError, match=str(folder)):
        load_contexts(folder)


def test_unknown_context_is_a_config_error(tmp_path: Path) -> None:
    path = write_kubeconfig("http://127.0.0.1:1", tmp_path / "k")
    with pytest.raises(ConfigError, match="k"):
        api_client("no-such-context", path)


def test_two_clients_for_two_clusters_do_not_share_state(tmp_path: Path) -> None:
    with running_kube(demo_scenario(), tmp_path / "one") as one, running_kube(demo_scenario(), tmp_path / "two") as two:
        two.world.add_pod({"name": "only-in-two", "namespace": PROFILE, "node": "n1"})
        rows_one, _ = list_pods(api_client(path=one.kubeconfig), PROFILE)
        rows_two, _ = list_pods(api_client(path=two.kubeconfig), PROFILE)
    assert "only-in-two" not in {r.name for r in rows_one}
    assert "only-in-two" in {r.name for r in rows_two}
