"""`kftui demo`'s first screen: drawn at once, it says the sandbox is starting (and how long it has taken) until
the sandbox process reports ready; then the app shows the mode that was asked for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class SandboxStarting(Screen[None]):
    """What the demo shows while its sandbox (fake Google Cloud, Kubernetes, Kubeflow Pipelines) comes up."""

    DEFAULT_CSS = """
    SandboxStarting #starting { width: auto; max-width: 90%; height: auto; padding: 1 2; border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]

    def __init__(self, scenario: str = "demo", clock: Callable[[], float] = time.monotonic) -> None:
        """`clock` gives seconds (a fixed one makes screenshots repeatable)."""
        super().__init__(id="starting-screen")
        self.scenario = scenario
        self.clock = clock
        self.began = clock()

    def compose(self) -> ComposeResult:
        """The header, one box that says what is happening, the footer."""
        yield Header()
        with Middle(), Center():
            yield Static(self._text(), id="starting")
        yield Footer()

    def on_mount(self) -> None:
        """Tick the elapsed time so a slow start is visibly alive."""
        self.sub_title = "demo · starting the sandbox"
        self.set_interval(0.5, self._tick)

    def _text(self, failure: str = "") -> Text:
        out = Text()
        if failure:
            out.append("The sandbox did not start\n", style="bold red")
            out.append(failure)
            return out
        out.append("Starting the sandbox", style="bold")
        out.append(f" (scenario {self.scenario})\n")
        out.append("fake Google Cloud, Kubernetes and Kubeflow Pipelines on loopback; nothing leaves this machine\n",
                   style="dim")
        out.append(f"{self.clock() - self.began:.1f} s", style="dim")
        return out

    def _tick(self) -> None:
        self.query_one("#starting", Static).update(self._text())

    def failed(self, reason: str) -> None:
        """Say why before the app closes (the terminal gets the same line)."""
        self.query_one("#starting", Static).update(self._text(reason))
