"""The k9s keys and stern view on the real watch screen, against the UI sandbox (still world, pinned clock)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from kftui.screens.tail import TailScreen
from kftui.widgets.forwards import ForwardList
from kftui.widgets.help import HelpScreen
from kftui.widgets.textview import TextScreen
from tests.helpers import press, until
from tests.ui.test_watch_screen import PROFILE, SIZE, select_pod, still_app

ECR_POD = f"{PROFILE}/ecr-notebook-0"


async def _watch(pilot: Any) -> Any:
    screen = pilot.app.screen
    await until(pilot, lambda: screen.pods_live and ECR_POD in screen.pods.rows, "the pod list")
    await select_pod(pilot, ECR_POD)
    return screen


async def test_help_lists_every_cockpit_key_of_the_watch_screen(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await _watch(pilot)
        await press(pilot, "question_mark")
        shown = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, "help")
        described = {what for _where, _keys, what in shown.rows}
        assert {"YAML", "Describe", "Shell", "Port-forward", "Delete", "New notebook", "Apply fix", "Filter"} <= described


async def test_y_and_d_on_the_selected_pod(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _watch(pilot)
        await press(pilot, "y")
        yaml_view = await until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen, "the YAML")
        assert "name: ecr-notebook-0" in yaml_view.text
        await press(pilot, "escape")
        await until(pilot, lambda: app.screen is screen, "back to watch")
        await press(pilot, "d")
        described = await until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen, "describe")
        assert described.text.startswith("Name:           ecr-notebook-0\nNamespace:      kubeflow-user-example-com")


async def test_colon_logs_opens_stern_and_colon_pf_lists_forwards(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _watch(pilot)
        screen.run_command("logs ^ml-pipeline -n kubeflow")
        tail = await until(pilot, lambda: isinstance(app.screen, TailScreen) and app.screen, "the tail screen")
        assert tail.query_spec.pod_regex == "^ml-pipeline"
        await until(pilot, lambda: tail.containers, "a container to join")
        await press(pilot, "escape")
        await until(pilot, lambda: app.screen is screen, "back to watch")
        screen.run_command("pf")
        listing = await until(pilot, lambda: isinstance(app.screen, ForwardList) and app.screen, "the :pf list")
        assert listing.rows == []


@pytest.mark.parametrize("bad", ["logs", "logs a[", "logs x --since 5d"])
async def test_bad_logs_queries_are_one_warning(env: Any, bad: str) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _watch(pilot)
        screen.run_command(bad)
        said = await until(pilot, lambda: [n.message for n in app._notifications if ":logs" in n.message],
                           "the warning")
        assert app.screen is screen
        assert said[0].startswith(":logs: ")


async def test_the_header_names_the_context_and_its_cluster(env: Any) -> None:
    from kftui.cluster.kubeconfig import current_context

    ctx = current_context()
    assert ctx is not None
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _watch(pilot)
        await until(pilot, lambda: ctx.name in screen.sub_title, "the context's name in the header")
        assert "current context" not in screen.sub_title
        assert screen.sub_title.endswith("all namespaces")


async def test_a_lost_pod_watch_says_reconnecting_then_that_it_is_back(tmp_path: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from kftui.app import KftuiApp
    from kftui.factory import Services
    from kftui.sandbox import Sandbox

    with Sandbox("demo", tmp_path, still=True, faults=["kube:GET:/api/v1/pods=reset,after=0,times=2"]) as sb:
        sb.start()
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        app = KftuiApp(services=Services(now=lambda: sb.epoch), mode="watch", persist=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = pilot.app.screen
            said = await until(pilot, lambda: [n.message for n in app._notifications if "reconnected" in n.message],
                               "the reconnected note", timeout=60)
            assert said[0].startswith("pods: reconnected after 1 attempt")
            assert screen.pods_live


async def test_escape_leaves_a_zoomed_pane_before_it_clears_the_filter(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _watch(pilot)
        await press(pilot, "slash", *"notebook", "enter")
        await press(pilot, "z")
        await until(pilot, lambda: screen._zoomed, "the zoom")
        await press(pilot, "escape")
        await until(pilot, lambda: not screen._zoomed, "out of the zoom")
        assert screen.pods.filter_text == "notebook"  # one level only
        await press(pilot, "escape")
        await until(pilot, lambda: screen.pods.filter_text == "", "the filter cleared")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH (s runs the real kubectl exec)")
async def test_s_hands_the_terminal_to_kubectl_exec_or_says_the_command(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await _watch(pilot)
        await select_pod(pilot, f"{PROFILE}/cpu-notebook-0")
        await press(pilot, "s")  # headless: no terminal to hand over, so the exact command is said
        said = await until(pilot, lambda: [n.message for n in app._notifications if "kubectl" in n.message], "it")
        assert "exec -it -n kubeflow-user-example-com cpu-notebook-0 -c cpu-notebook" in said[0]
        assert said[0].endswith("-- sh -c command -v bash >/dev/null && exec bash || exec sh")
