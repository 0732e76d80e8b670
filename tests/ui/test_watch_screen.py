"""Watch mode against the sandbox's Kubernetes: live pods by key, details with the reason, notebooks, switching."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.settings import Settings, State
from kftui.widgets.logpane import LogPane
from kftui.widgets.notebooks import NotebooksView
from tests.helpers import press, settled, until

SIZE = (120, 40)
PROFILE = "kubeflow-user-example-com"



def text_of(widget: Any) -> str:
    return str(widget.render())




def still_app(sandbox: Any) -> KftuiApp:
    """The app against the still sandbox with its clock pinned, so ages read the same every run."""
    return KftuiApp(services=Services(now=lambda: sandbox.epoch), mode="watch", persist=False)


async def select_pod(pilot: Any, key: str) -> None:
    """Put the cursor on a pod and wait until the screen selected it (a batch that re-sorts rows meanwhile may
    move the cursor, as it would under a user's hand, so the move is repeated until it holds)."""
    screen = pilot.app.screen
    table = screen.query_one("#pods")
    for _ in range(100):
        table.move_to(key)
        await pilot.pause(0.05)
        if screen.selected_key == key:
            return
    raise AssertionError(f"could not select {key}")


def shown_keys(screen: Any) -> list[str]:
    """The pod table's row keys top to bottom (the order on screen, not the order rows were added)."""
    return list(screen.query_one("#pods").keys)


def cursor_key(screen: Any) -> str:
    return str(screen.query_one("#pods").cursor_key)


def notes(app: KftuiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_pods_show_kubectl_statuses_and_gpus(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        assert screen.rows[f"{PROFILE}/ecr-notebook-0"].status == "ImagePullBackOff"
        assert screen.rows[f"{PROFILE}/gpu-notebook-0"].status == "Pending"
        assert screen.rows[f"{PROFILE}/gpu-notebook-0"].gpus == 1
        table = screen.query_one("#pods")
        assert table.cell_text(f"{PROFILE}/ecr-notebook-0", "status") == "ImagePullBackOff"


async def test_stuck_gpu_notebook_pod_explains_the_quota(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: f"{PROFILE}/gpu-notebook-0" in screen.rows, what="gpu notebook pod")
        await select_pod(pilot, f"{PROFILE}/gpu-notebook-0")
        details = screen.query_one("#details")
        await until(pilot, lambda: "Why" in text_of(details), what="diagnosis in details")
        shown = text_of(details)
        assert "quota" in shown.lower()
        assert "FailedScaleUp" in shown


async def test_notebooks_view_names_each_reason(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        view = app.screen.query_one(NotebooksView)
        await until(pilot, lambda: len(view.known) >= 3, what="notebooks listed")
        _ecr_row, ecr_diag = view.known[f"{PROFILE}/ecr-notebook"]
        _gpu_row, gpu_diag = view.known[f"{PROFILE}/gpu-notebook"]
        assert ecr_diag is not None and ecr_diag.cause == "image-pull-auth"
        assert gpu_diag is not None and gpu_diag.cause == "scale-up-quota"
        secret = next(f.command or "" for f in ecr_diag.fixes if "create secret docker-registry" in (f.command or ""))
        assert f"kubectl -n {PROFILE} " in secret  # the user's own namespace, not a placeholder
        table = view.query_one("#notebooks")
        assert str(table.get_cell(f"{PROFILE}/ecr-notebook", "phase")) == "warning"


async def test_namespace_switch_with_colon_command(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await press(pilot, "colon")
        await press(pilot, *"ns kubeflow", "enter")
        await until(
            pilot,
            lambda: screen.rows and all(k.startswith("kubeflow/") for k in screen.rows),
            what="only kubeflow pods",
        )
        assert app.services.options.namespace == "kubeflow"
        await press(pilot, "colon")
        await press(pilot, *"nonsense", "enter")
        await pilot.pause()
        assert app.services.options.namespace == "kubeflow"


async def test_clearing_the_filter_restores_the_table_order(env: Any) -> None:
    """Rows a filter hid come back where they belong (kubeflow before kubeflow-user-...), the cursor stays put."""
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        before = shown_keys(screen)
        assert before == sorted(before, key=lambda k: tuple(k.split("/"))), "pods listed in (namespace, name) order"
        assert any(k.startswith("kubeflow/") for k in before) and any(k.startswith(f"{PROFILE}/") for k in before)
        await select_pod(pilot, f"{PROFILE}/gpu-notebook-0")
        await press(pilot, "slash", *"gpu", "enter")
        await until(pilot, lambda: screen.query_one("#pods").row_count < len(before), what="filter applied")
        filtered = shown_keys(screen)
        assert f"{PROFILE}/gpu-notebook-0" in filtered and all("gpu" in f"{k} {screen.rows[k].node}" for k in filtered)
        assert cursor_key(screen) == f"{PROFILE}/gpu-notebook-0"
        await press(pilot, "escape")
        await until(pilot, lambda: screen.query_one("#pods").row_count == len(before), what="filter cleared")
        assert shown_keys(screen) == before
        assert cursor_key(screen) == f"{PROFILE}/gpu-notebook-0"
        assert screen.selected_key == f"{PROFILE}/gpu-notebook-0"


async def test_unknown_namespace_is_refused_and_named(env: Any) -> None:
    """`:ns no-such-ns` says which namespaces exist and changes nothing: same scope, same pods, same selection."""
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await select_pod(pilot, f"{PROFILE}/ecr-notebook-0")
        await until(pilot, lambda: "Why" in text_of(screen.query_one("#details")), what="details shown")
        scope, pods, details = app.services.options.namespace, shown_keys(screen), text_of(screen.query_one("#details"))
        await press(pilot, "colon", *"ns no-such-ns", "enter")
        said = await until(pilot, lambda: [n for n in notes(app) if "no-such-ns" in n], what="refusal said")
        assert len(said) == 1 and "\n" not in said[0]
        assert said[0].startswith("no namespace named 'no-such-ns'") and "kubeflow" in said[0]
        await pilot.pause()
        assert app.services.options.namespace == scope
        assert shown_keys(screen) == pods
        assert screen.selected_key == f"{PROFILE}/ecr-notebook-0"
        assert text_of(screen.query_one("#details")) == details
        await press(pilot, "colon", *f"ns {PROFILE}", "enter")  # a real one still switches
        await until(pilot, lambda: app.services.options.namespace == PROFILE, what="switched")
        await until(
            pilot,
            lambda: screen.rows and all(k.startswith(f"{PROFILE}/") for k in screen.rows),
            what="only the profile's pods",
        )


@pytest.fixture
def no_namespace_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The demo world for a user whose RBAC forbids listing namespaces: the sandbox's fault plan answers the
    apiserver's own 403 (`namespaces is forbidden: User ... cannot list resource "namespaces" ...`)."""
    from kftui.sandbox import Sandbox

    sb = Sandbox("demo", tmp_path / "work", still=True, faults=["kube:GET:/api/v1/namespaces=status,status=403"])
    for key, value in sb.start().items():
        monkeypatch.setenv(key, value)
    yield sb
    sb.stop()


async def test_namespace_is_taken_on_trust_when_listing_is_forbidden(no_namespace_list: Any) -> None:
    """A user whose RBAC cannot list namespaces can still watch the one they name."""
    app = still_app(no_namespace_list)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await press(pilot, "colon", *"ns kubeflow", "enter")
        await until(pilot, lambda: app.services.options.namespace == "kubeflow", what="switched without a list")
        hits = [f["hits"] for f in no_namespace_list.faults.describe()]
        assert hits and hits[0] >= 1, "the namespace list was asked for (and refused) first"
        assert not [n for n in notes(app) if "no namespace" in n]


async def test_pod_added_and_deleted_shows_up(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    world = sandbox.kube.state
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        world.add_pod({"name": "late-arrival", "namespace": "default", "node": "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x"})
        await until(pilot, lambda: "default/late-arrival" in screen.rows, timeout=5, what="new pod")
        assert "default/late-arrival" in screen.query_one("#pods").keys
        keys = shown_keys(screen)
        assert keys == sorted(keys, key=lambda k: tuple(k.split("/"))), "a late pod takes its place, not the bottom"
        assert keys[-1] != "default/late-arrival"
        world.delete_pod("default", "late-arrival")
        await until(pilot, lambda: "default/late-arrival" not in screen.rows, timeout=5, what="pod removed")


def test_snapshot_watch_pods(env: Any, snap_compare: Any) -> None:
    async def ready(pilot: Any) -> None:
        screen = pilot.app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods")
        await select_pod(pilot, f"{PROFILE}/ecr-notebook-0")
        await until(pilot, lambda: "Why" in text_of(screen.query_one("#details")), what="details")
        await until(pilot, lambda: "not-started" in text_of(screen.query_one("#log-status")), what="log state")

    assert snap_compare(still_app(env), terminal_size=SIZE, run_before=ready)


def test_snapshot_notebooks_view(env: Any, snap_compare: Any) -> None:
    async def ready(pilot: Any) -> None:
        await press(pilot, "2")
        view = pilot.app.screen.query_one(NotebooksView)
        await until(pilot, lambda: len(view.known) >= 3, what="notebooks")
        await until(pilot, lambda: f"{PROFILE}/gpu-notebook-0" in pilot.app.screen.rows, what="its pod")
        await press(pilot, "down", "down")
        await until(pilot, lambda: "Why" in text_of(pilot.app.screen.query_one("#details")), what="details")
        await until(pilot, lambda: "not-started" in text_of(pilot.app.screen.query_one("#log-status")),
                    what="its pod's log state")
        await settled(pilot)

    assert snap_compare(still_app(env), terminal_size=SIZE, run_before=ready)


def second_context(kubeconfig: Path, name: str) -> None:
    """Add a context to the kubeconfig that reaches the same sandbox cluster under another name."""
    data = yaml.safe_load(kubeconfig.read_text())
    first = data["contexts"][0]
    data["contexts"].append({"name": name, "context": dict(first["context"])})
    kubeconfig.write_text(yaml.safe_dump(data))


async def test_context_switch_by_command_and_after_a_deploy(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`:ctx NAME` re-points every view; a context a deploy switched to (in setup) is picked up on return."""
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(Path(sandbox.env["KUBECONFIG"]).read_text())
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    second_context(kubeconfig, "gke_demo_us-central1-a_second")
    second_context(kubeconfig, "gke_demo_us-central1-a_third")
    app = KftuiApp(mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await press(pilot, "colon", *"ctx gke_demo_us-central1-a_second", "enter")
        await until(pilot, lambda: app.services.options.context == "gke_demo_us-central1-a_second", what="switch")
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed again")
        assert "gke_demo_us-central1-a_second" in screen.sub_title
        await press(pilot, "colon", *"ctx no-such-context", "enter")
        await pilot.pause()
        assert app.services.options.context == "gke_demo_us-central1-a_second"  # refused, said, nothing changed
        await press(pilot, "f2")
        await until(pilot, lambda: app.screen is not screen, what="setup shown")
        app.services.use_context("gke_demo_us-central1-a_third")  # what the deploy step does when it finishes
        await press(pilot, "f2")
        await until(pilot, lambda: app.screen is screen, what="watch shown again")
        await until(pilot, lambda: "gke_demo_us-central1-a_third" in screen.sub_title, what="new context shown")
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods from the new context")


async def test_settings_reach_the_log_pane(env: Any) -> None:
    """settings.json's line limit, timestamps, wrap and theme are what watch mode starts with."""
    prefs = Settings(log_max_lines=2000, log_timestamps=True, log_wrap=True, theme="nord")
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False, settings=prefs)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.screen.query_one(LogPane).view
        assert view.ring.limit == 2000 and view.show_timestamps and view.wrap
        assert app.theme == "nord"


async def test_notebook_fixes_carry_what_setup_learned(env: Any) -> None:
    """With the project and GPU answered in setup, the quota fix names them instead of PROJECT_ID/GPU_TYPE."""
    answers = {"project": "robot-ml-demo", "gpu_type": "nvidia-tesla-t4", "zone": "us-central1-a"}
    app = KftuiApp(services=Services(now=lambda: env.epoch), mode="watch", persist=False,
                   state=State(answers=answers))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "2")
        view = app.screen.query_one(NotebooksView)
        await until(pilot, lambda: f"{PROFILE}/gpu-notebook" in view.known, what="notebooks listed")

        def fix_commands() -> str:
            _row, diag = view.known[f"{PROFILE}/gpu-notebook"]
            assert diag is not None and diag.fixes
            return " ".join(f.command or "" for f in diag.fixes)

        # the contact lookup (gcloud, the IAM policy) may end after the first listing: the view lists again then
        commands = await until(pilot, lambda: "--email ada" in fix_commands() and fix_commands(),
                               what="the contact in the fixes")
        assert "PROJECT_ID" not in commands and "GPU_TYPE" not in commands, commands
        assert "robot-ml-demo" in commands
        # the contact, as the GPU step finds it: the ADC is a service account, so the project's owner/editor
        assert "EMAIL" not in commands and "--email ada.lovelace@example.com" in commands, commands
        await press(pilot, "1")  # the pod's details say the same fix with the same values
        await until(pilot, lambda: f"{PROFILE}/gpu-notebook-0" in app.screen.rows, what="gpu notebook pod")
        await select_pod(pilot, f"{PROFILE}/gpu-notebook-0")
        details = app.screen.query_one("#details")
        # the details show at once, and again with the contact's address if its lookup ends later
        await until(pilot, lambda: "--email ada" in text_of(details), what="the quota fix in details, with the contact")
        shown = text_of(details)
        assert "--email ada.lovelace@example.com" in shown and "EMAIL" not in shown and "PROJECT_ID" not in shown


async def test_filter_with_markup_characters_never_crashes_and_esc_in_the_box_clears(env: Any) -> None:
    """`[/` (any regex character class) is text to the title, not Rich markup; Esc pressed in the box clears."""
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        total = len(screen.rows)
        await press(pilot, "slash", *"notebook-[0-9]")
        await until(pilot, lambda: screen.filter_text == "notebook-[0-9]", what="filter typed")
        shown = shown_keys(screen)
        assert shown and all("notebook-" in k for k in shown)
        await press(pilot, *"[/")
        await pilot.pause()
        assert screen.filter_text == "notebook-[0-9][/" and shown_keys(screen) == []  # text, since not a regex
        assert "[/" in str(screen.query_one("#top-pane").border_title)
        assert app.screen.query_one("#pods-filter").has_focus
        await press(pilot, "escape")  # in the box itself
        await until(pilot, lambda: screen.filter_text == "", what="filter cleared")
        assert len(shown_keys(screen)) == total
        assert not screen.query_one("#pods-filter").has_class("visible")


async def test_a_second_slash_replaces_the_filter(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await press(pilot, "slash", *"gpu", "enter")
        await until(pilot, lambda: screen.filter_text == "gpu", what="first filter")
        assert screen.query_one("#pods").has_focus
        await press(pilot, "slash", *"istio")
        await until(pilot, lambda: screen.filter_text == "istio", what="second filter replaced the first")
        assert shown_keys(screen) and all(k.startswith("istio-system/") for k in shown_keys(screen))


async def test_sort_keys_keep_the_cursor_on_its_pod(env: Any) -> None:
    """shift+letter sorts by a column (k9s), again reverses; the selected pod stays selected."""
    app = still_app(env)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        await select_pod(pilot, f"{PROFILE}/gpu-notebook-0")
        await press(pilot, "T")
        keys = shown_keys(screen)
        restarts = [screen.rows[k].restarts for k in keys]
        assert restarts == sorted(restarts) and screen.pods.sort_column == "restarts"
        await press(pilot, "T")
        assert [screen.rows[k].restarts for k in shown_keys(screen)] == sorted(restarts, reverse=True)
        assert cursor_key(screen) == f"{PROFILE}/gpu-notebook-0" == screen.selected_key
        await press(pilot, "N")
        names = [screen.rows[k].name for k in shown_keys(screen)]
        assert names == sorted(names)


@pytest.mark.parametrize("size", [(80, 24), (220, 60)], ids=["80x24", "220x60"])
def test_snapshot_pods_view_follows_the_terminal(env: Any, snap_compare: Any, size: tuple[int, int]) -> None:
    """Small: the name keeps its room and the cut columns are marked (»); large: the name column grows."""

    async def ready(pilot: Any) -> None:
        screen = pilot.app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods")
        await select_pod(pilot, f"{PROFILE}/gpu-notebook-0")
        await until(pilot, lambda: "Why" in text_of(screen.query_one("#details")), what="details")
        await until(pilot, lambda: "connecting" not in text_of(screen.query_one("#log-status")), what="log state")

    assert snap_compare(still_app(env), terminal_size=size, run_before=ready)


async def test_columns_scroll_sideways_when_cut(env: Any) -> None:
    app = still_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10, what="pods listed")
        table = screen.query_one("#pods")
        assert table.render_line(0).text.rstrip().endswith("»")
        await press(pilot, "right", "right", "right", "right", "right", "right", "right", "right")
        header = table.render_line(0).text
        assert header.startswith("«") and "NODE" in header
        await press(pilot, "home")
        assert table.cursor == 0
