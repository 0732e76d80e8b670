"""`:logs`: every matching pod's log in one pane, stern's way, against the sandbox's API server."""

from __future__ import annotations

import pytest
from textual.app import App

from kftui.cluster.kubeconfig import api_client
from kftui.screens.tail import TailQuery, TailScreen, parse_query
from kftui.widgets.logview import LogView
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, kube
from tests.helpers import press, until

__all__ = ["kube"]  # the shared fixture, used by name


def test_queries_read_like_stern_and_bad_parts_are_named() -> None:
    assert parse_query("^ml-pipeline -c api --since 10m --tail 50 -A", PROFILE) == TailQuery(
        "^ml-pipeline", None, None, "api", 600, 50)
    assert parse_query("-l app=ml-pipeline", "kubeflow").selector == "app=ml-pipeline"
    for text, words in (("", "give a pod regex"), ("a[", "is not a regex"), ("x --since 5d", "--since"),
                        ("x --tail ٥", "--tail"), ("x y", "unexpected 'y'"), ("x -l", "-l needs a value")):
        with pytest.raises(ValueError, match=words):
            parse_query(text, None)


class TailApp(App[None]):
    def __init__(self, screen: TailScreen) -> None:
        super().__init__()
        self.tail = screen

    def on_mount(self) -> None:
        self.push_screen(self.tail)


async def test_lines_of_every_matching_pod_arrive_prefixed_and_search_counts_them(kube: KubeSandbox) -> None:
    screen = TailScreen(TailQuery("^ml-pipeline", "kubeflow"), lambda: api_client(path=kube.kubeconfig))
    app = TailApp(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        view = screen.query_one("#tail-log", LogView)
        await until(pilot, lambda: len({p for p, _ in screen.containers}) >= 3, "three ml-pipeline pods to join")
        await until(pilot, lambda: len({line.split("/")[0] for line in view.lines}) >= 3, "lines of all three")
        lines = list(view.lines)
        assert any(line.startswith("[ml-pipeline-6f8d7c9b4-2hjkp/ml-pipeline-api-server] ") for line in lines)
        assert all(line.startswith("[ml-pipeline") for line in lines)
        await press(pilot, "slash")
        await press(pilot, *"Starting")
        await press(pilot, "enter")
        await until(pilot, lambda: screen.matches, "a search match")
        expected = sum(1 for line in view.lines if "Starting" in line)
        assert len(screen.matches) == expected
        status = str(screen.query_one("#tail-status").render())
        assert f"match 1/{expected}" in status
        await press(pilot, "escape")
        await until(pilot, lambda: app.screen is not screen, "the tail screen to close")
    assert screen._engine is not None
    assert screen._engine.stopped is True
