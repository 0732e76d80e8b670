"""The watch screen's feeds: a poll thread that a restart supersedes, `r` pokes and stop silences."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kftui.screens.feeds import Poller, widget_feed
from tests.helpers import wait_for


def wait(check: Callable[[], object], what: str) -> None:
    """Until `check()` holds (bounded); a stuck feed fails here, naming what it waited for."""
    wait_for(check, what=what)


def test_a_poke_lists_now_a_restart_drops_the_old_thread_and_stop_silences() -> None:
    scope = ["ns-a"]
    gate = threading.Event()
    gate.set()

    def fetch() -> str:
        gate.wait(10)
        return scope[0]

    got: list[str] = []
    poller: Poller[str] = Poller("test", fetch, seconds=60)  # only a poke or a restart lists again
    poller.start(got.append)
    wait(lambda: got == ["ns-a"], "the first listing")
    poller.poke()
    wait(lambda: got == ["ns-a", "ns-a"], "a listing at once after a poke")
    gate.clear()
    poller.poke()  # the old thread now waits inside fetch, still on the old scope
    time.sleep(0.05)
    scope[0] = "ns-b"
    poller.restart()
    gate.set()
    wait(lambda: "ns-b" in got, "the new scope's listing")
    time.sleep(0.1)
    assert got == ["ns-a", "ns-a", "ns-b"]  # the superseded thread's answer never arrived
    wait(lambda: poller.listed == 3, "the count of the new scope's listing")  # it follows the sink's call
    poller.stop()
    listed = poller.listed
    poller.poke()
    time.sleep(0.1)
    assert poller.listed == listed and got[-1] == "ns-b"


def test_only_widget_views_get_a_feed() -> None:
    class App:
        services = object()
        state = None

    assert widget_feed("pods", App()) is None
    assert type(widget_feed("notebooks", App())).__name__ == "NotebooksFeed"
    assert type(widget_feed("runs", App())).__name__ == "RunsFeed"
