"""The k9s keys (? y d F ctrl+d, :pf) on a screen that mixes them in, acting on the sandbox's API server."""

from __future__ import annotations

import urllib.request
from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from kftui.factory import Options, Services
from kftui.screens.cockpit import CockpitActions, CockpitTarget
from kftui.widgets.forwards import ForwardAsk, ForwardList, parse_port
from kftui.widgets.help import HELP_BINDING, HelpScreen, show_keys
from kftui.widgets.modals import ConfirmScreen
from kftui.widgets.textview import TextScreen
from tests.adapters.kube_fixtures import PROFILE, KubeSandbox, kube
from tests.helpers import press, until

__all__ = ["kube"]  # the shared fixture, used by name


class Harness(CockpitActions, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(CockpitActions.COCKPIT_BINDINGS)

    def __init__(self, target: CockpitTarget) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        yield Static("pods")
        yield Footer()

    def cockpit_target(self) -> CockpitTarget | None:
        return self.target


class CockpitApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [HELP_BINDING]  # as KftuiApp binds it

    def __init__(self, services: Services, target: CockpitTarget) -> None:
        super().__init__()
        self.services = services
        self.target = target

    def on_mount(self) -> None:
        self.push_screen(Harness(self.target))

    def action_keys(self) -> None:
        show_keys(self)


def _app(kube: KubeSandbox, pod: str = "cpu-notebook-0") -> CockpitApp:
    return CockpitApp(Services(Options(kubeconfig=str(kube.kubeconfig))),
                      CockpitTarget("pods", PROFILE, pod, "cpu-notebook", 8888))


async def test_question_mark_lists_the_cockpit_keys(kube: KubeSandbox) -> None:
    app = _app(kube)
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, "help")
        keys = {(k, w) for _where, k, w in help_screen.rows}
        assert {("y", "YAML"), ("d", "Describe"), ("s", "Shell"), ("F", "Port-forward"), ("ctrl+d", "Delete")} <= keys


async def test_y_shows_the_pods_yaml_and_d_describes_it(kube: KubeSandbox) -> None:
    app = _app(kube, "ecr-notebook-0")
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "y")
        shown = await until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen, "the YAML")
        assert shown.language == "yaml"
        assert "name: ecr-notebook-0" in shown.text
        await press(pilot, "escape")
        await until(pilot, lambda: isinstance(app.screen, Harness), "back to the view")
        await press(pilot, "d")
        described = await until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen, "describe")
        assert "Reason:         ImagePullBackOff" in described.text
        assert "Events:" in described.text


async def test_ctrl_d_asks_with_the_kubectl_command_and_deletes_on_yes(kube: KubeSandbox) -> None:
    app = _app(kube)
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "ctrl+d")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, "the question")
        assert confirm.command == f"kubectl delete pod cpu-notebook-0 -n {PROFILE}"
        await press(pilot, "y")
        await until(pilot, lambda: kube.world.get("pods", PROFILE, "cpu-notebook-0") is None, "the pod to go")


async def test_ctrl_d_answered_no_deletes_nothing(kube: KubeSandbox) -> None:
    app = _app(kube)
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await press(pilot, "n")
        await until(pilot, lambda: isinstance(app.screen, Harness), "back")
        assert kube.world.get("pods", PROFILE, "cpu-notebook-0") is not None


async def test_shift_f_forwards_and_pf_lists_and_stops(kube: KubeSandbox) -> None:
    app = _app(kube)
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "F")
        ask = await until(pilot, lambda: isinstance(app.screen, ForwardAsk) and app.screen, "the port question")
        ask.query_one("#forward-local", Input).value = "0"
        ask.query_one("#forward-local", Input).focus()
        await press(pilot, "enter")
        screen = await until(pilot, lambda: isinstance(app.screen, Harness) and app.screen, "back")
        forwards = await until(pilot, lambda: screen._forwards and screen._forwards.active, "a running forward")
        with urllib.request.urlopen(forwards[0].url, timeout=30) as resp:
            assert "JupyterLab" in resp.read().decode()
        screen.show_forwards()
        listing = await until(pilot, lambda: isinstance(app.screen, ForwardList) and app.screen, "the :pf list")
        assert listing.rows[0][0] == forwards[0].url
        await press(pilot, "ctrl+d")
        await until(pilot, lambda: not screen._forwards.active, "the forward to stop")


def test_port_fields_name_their_rule() -> None:
    assert parse_port("8888", "pod port") == 8888
    assert parse_port("0", "local port", allow_zero=True) == 0
    for bad in ("0", "65536", "٨٠", "80a", ""):
        with pytest.raises(ValueError, match="pod port: a port from 1 to 65535"):
            parse_port(bad, "pod port")


async def test_c_opens_the_notebook_form_and_creates_the_notebook(kube: KubeSandbox) -> None:
    from kftui.widgets.notebook_form import NotebookForm

    app = CockpitApp(Services(Options(kubeconfig=str(kube.kubeconfig), namespace=PROFILE)),
                     CockpitTarget("notebooks", PROFILE, "cpu-notebook"))
    async with app.run_test(size=(100, 40)) as pilot:
        await press(pilot, "c")
        form = await until(pilot, lambda: isinstance(app.screen, NotebookForm) and app.screen, "the form")
        form.query_one("#nb-name", Input).value = "lab"
        form.query_one("#nb-cpu", Input).value = "lots"
        await press(pilot, "ctrl+s")
        await pilot.pause()
        assert "cpu: cores as a number" in str(form.query_one("#nb-error").render())
        form.query_one("#nb-cpu", Input).value = "1"
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: kube.world.get("notebooks", PROFILE, "lab") is not None, "the notebook")
        notebook = kube.world.get("notebooks", PROFILE, "lab")
        assert notebook is not None
        assert notebook["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1"


async def test_a_offers_the_diagnosed_fix_fills_values_and_confirms_the_exact_command(kube: KubeSandbox) -> None:
    from kftui.widgets.fixes import FixPicker, ValuesForm

    kube.world.add_event({"namespace": PROFILE, "involvedObject": {"kind": "Pod", "name": "gpu-notebook-0"},
                          "type": "Warning", "reason": "FailedScaleUp", "source": "cluster-autoscaler",
                          "message": "Node scale up in zones us-central1-c associated with this pod failed: GCE quota "
                                     "exceeded. Pod is at risk of not being scheduled.", "age_seconds": 1})
    app = CockpitApp(Services(Options(kubeconfig=str(kube.kubeconfig), project="robot-ml-demo")),
                     CockpitTarget("pods", PROFILE, "gpu-notebook-0"))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "a")
        picker = await until(pilot, lambda: isinstance(app.screen, FixPicker) and app.screen, "the fixes")
        index = next(i for i, f in enumerate(picker.fixes) if str(f.command).startswith("kftui quota request"))
        picker.dismiss(index)
        form = await until(pilot, lambda: isinstance(app.screen, ValuesForm) and app.screen, "the values form")
        assert "EMAIL" in form.names
        assert "PROJECT_ID" not in form.names  # the project came from the context
        for name in form.names:
            form.query_one(f"#value-{name}", Input).value = "me@example.org"
        form.query_one(f"#value-{form.names[-1]}", Input).focus()
        await press(pilot, "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.command is not None
        assert confirm.command.startswith("kftui quota request")
        assert "--project robot-ml-demo" in confirm.command
        assert "--email me@example.org" in confirm.command
        await press(pilot, "y")  # headless: no terminal to hand over, so the command is said instead of run
        await until(pilot, lambda: isinstance(app.screen, Harness), "back to the view")


async def test_o_stops_and_starts_the_selected_notebook_after_asking(kube: KubeSandbox) -> None:
    app = CockpitApp(Services(Options(kubeconfig=str(kube.kubeconfig))),
                     CockpitTarget("notebooks", PROFILE, "cpu-notebook"))
    async with app.run_test(size=(100, 30)) as pilot:
        await press(pilot, "o")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, "the question")
        assert confirm.command == f"kftui notebook stop cpu-notebook -n {PROFILE}"
        await press(pilot, "y")
        await until(pilot, lambda: "kubeflow-resource-stopped" in (
            kube.world.get("notebooks", PROFILE, "cpu-notebook") or {}).get("metadata", {}).get("annotations", {}),
            "the culling annotation")
        await until(pilot, lambda: kube.world.get("pods", PROFILE, "cpu-notebook-0") is None, "its pod to go")
        await until(pilot, lambda: isinstance(app.screen, Harness), "back")
        await press(pilot, "o")
        again = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, "the question")
        assert again.command == f"kftui notebook start cpu-notebook -n {PROFILE}"
        await press(pilot, "y")
        await until(pilot, lambda: kube.world.get("pods", PROFILE, "cpu-notebook-0") is not None, "its pod back")
