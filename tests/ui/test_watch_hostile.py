"""Hostile names and events in watch mode: OSC title changes, CSI blink and bidi overrides are shown inert.

The hostile pod and event are put into a still sandbox of this module only (never into the demo scenario).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Services
from kftui.sandbox import Sandbox
from kftui.sandbox.kube.objects import pinned_now
from tests.helpers import press, until

PROFILE = "kubeflow-user-example-com"
EVIL_POD = "evil\x1b]0;pwned\x07-\x1b[5mblink\u202e-0"
EVIL_REASON = "\x1b]2;owned\x1b\\Failed"
EVIL_MESSAGE = "pull \x1b[5mBLINK\x1b[0m \u202eexe.txt\u202c \x9b31m done"
RAW = ("\x1b", "\x07", "\u202e", "\u202c", "\x9b")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox("demo", tmp_path_factory.mktemp("hostile"), still=True)
    sb.start()
    world = sb.kube.state
    with pinned_now(int(sb.epoch.timestamp()) * 1_000_000_000):  # ages counted from the still clock: repeatable
        add_hostile(world)
    try:
        yield sb
    finally:
        sb.stop()


def add_hostile(world: Any) -> None:
    world.add_pod({"name": EVIL_POD, "namespace": PROFILE, "node": "gke-kubeflow-cpu-pool-3f6a2b1c-m9p4",
                   "phase": "Running"})
    world.add_event({"namespace": PROFILE, "involvedObject": {"kind": "Pod", "name": EVIL_POD}, "type": "Warning",
                     "reason": EVIL_REASON, "message": EVIL_MESSAGE, "count": 3, "source": "kubelet"})


@pytest.fixture
def env(hostile: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    for key, value in hostile.env.items():
        monkeypatch.setenv(key, value)
    return hostile


def still_app(sandbox: Sandbox) -> KftuiApp:
    return KftuiApp(services=Services(now=lambda: sandbox.epoch), mode="watch", persist=False)


def drawn(widget: Any) -> str:
    """What a Line-API widget draws, line by line."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def select_evil(pilot: Any) -> str:
    screen = pilot.app.screen
    key = f"{PROFILE}/{EVIL_POD}"
    await until(pilot, lambda: key in screen.rows, what="the hostile pod listed")
    table = screen.query_one("#pods")
    for _ in range(100):
        table.move_to(key)
        await pilot.pause(0.05)
        if screen.selected_key == key:
            break
    return key


async def test_hostile_pod_name_and_event_reach_no_terminal_control(env: Sandbox) -> None:
    app = still_app(env)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        await select_evil(pilot)
        details = screen.query_one("#details")
        await until(pilot, lambda: "Recent events" in str(details.render()), what="the pod's events in details")
        await pilot.pause(0.2)
        table_text = drawn(screen.query_one("#pods"))
        assert "evil␛]0;pwned^G-␛[5mblink<U+202E>-0"[:30] in table_text.replace("…", "")
        shown = str(details.render())
        assert "␛]2;owned␛\\Failed" in shown and "␛[5mBLINK␛[0m" in shown and "<U+202E>exe.txt<U+202C>" in shown
        assert "<9B>31m" in shown
        titles = [str(screen.query_one("#logs-pane").border_title), str(screen.query_one("#top-pane").border_title),
                  screen.sub_title or "", app.title]
        for text in (table_text, shown, *titles):
            assert not any(ch in text for ch in RAW), repr(text)
        assert "pwned" not in app.title and "owned" not in (screen.sub_title or "")
        await press(pilot, "4")
        model = screen.view_model("events")
        await until(pilot, lambda: any(r.object == EVIL_POD for r in model.rows.values()), what="hostile event")
        await pilot.pause(0.2)
        events_text = drawn(screen.query_one("#events"))
        assert "␛]2;owned" in events_text and not any(ch in events_text for ch in RAW)
        await press(pilot, "colon", *"ns [/evil\x1b]0;x\x07", "enter")  # a hostile typed command: said, never markup
        said = await until(pilot, lambda: [str(n.message) for n in app._notifications if "namespace" in str(n.message)],
                           what="the refusal")
        assert not any(ch in said[0] for ch in RAW)


def test_snapshot_hostile_pod_and_event_rendered_inert(env: Sandbox, snap_compare: Any) -> None:
    async def ready(pilot: Any) -> None:
        await select_evil(pilot)
        details = pilot.app.screen.query_one("#details")
        await until(pilot, lambda: "Recent events" in str(details.render()), what="events in details")
        status = pilot.app.screen.query_one("#log-status")
        await until(pilot, lambda: "connecting" not in str(status.render()), what="the log stream settled")
        await pilot.pause(0.2)

    assert snap_compare(still_app(env), terminal_size=(120, 40), run_before=ready)
