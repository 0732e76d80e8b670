"""The Textual application: setup mode and watch mode, one error handler, remembered state."""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from kftui import settings as settings_mod
from kftui.core.sanitize import inert, inert_lines
from kftui.factory import Services
from kftui.widgets.help import HELP_BINDING


def _setup_screen() -> Screen[Any]:
    from kftui.screens.setup import SetupScreen

    return SetupScreen()


def _watch_screen() -> Screen[Any]:
    from kftui.screens.watch import WatchScreen

    return WatchScreen()


def _collect_again() -> None:
    """After the first frame: what start-up built stays (frozen out of every later collection), and the
    collector launch paused runs again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class ParsedOnce(Stylesheet):
    """Textual parses every CSS text three times before the first frame: for the first screen; when entering the
    mode refreshes the CSS (new variables empty the cache, and the re-parse runs in a throwaway stylesheet); and
    when the next widget's CSS arrives, into the emptied cache. One text's rules under one set of variables never
    change, so here each is parsed once (watch mode: 23 ms of parsing before the first frame becomes 15 ms)."""

    _parsed: ClassVar[dict[tuple[object, ...], list[RuleSet]]] = {}

    def _parse_rules(self, css: str, read_from: CSSLocation, is_default_rules: bool = False, tie_breaker: int = 0,
                     scope: str = "") -> list[RuleSet]:
        """Textual's parse, remembered across the resets (keyed by the variables, so a new theme parses anew)."""
        key = (css, read_from, is_default_rules, tie_breaker, scope, *sorted(self._variables.items()))
        rules = self._parsed.get(key)
        if rules is None:
            rules = self._parsed[key] = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
        return rules

    def reparse(self) -> None:
        """Textual's re-parse builds a fresh stylesheet to keep this one whole if the CSS is bad; `parse` already
        keeps it whole (it replaces the rules only on success), and goes through the remembered parses."""
        self.parse()


class KftuiApp(App[None]):
    """kftui: the wizard on one side, the cockpit on the other, switched with one key."""

    CSS_PATH = "app.tcss"
    TITLE = "kftui"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, Any]] = {"setup": _setup_screen, "watch": _watch_screen}
    BINDINGS: ClassVar[list[BindingType]] = [
        HELP_BINDING,
        Binding("f2", "toggle_mode", "Setup/Watch", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
    ]

    def __init__(
        self,
        services: Services | None = None,
        mode: str | None = None,
        state: settings_mod.State | None = None,
        persist: bool = True,
        settings: settings_mod.Settings | None = None,
    ) -> None:
        self.services = services or Services()
        if not persist:  # a throwaway session (tests): answers live in memory, never in the user's file
            self.services.use_state(settings_mod.StateStore(None, initial=state))
        self.store = self.services.state
        """The one owner of state.json: the app, the steps and the commands all change it through here."""
        loaded = self.store.read()
        self._state_problem = " ".join(self.store.take_problems())
        start = mode or loaded.opening_mode
        # Textual starts in DEFAULT_MODE; pointing it at the wanted mode avoids drawing a blank first frame.
        self.DEFAULT_MODE = start  # type: ignore[misc]
        super().__init__()
        self.stylesheet = ParsedOnce(variables=self.get_css_variables())
        self.state = loaded
        """The answers as last read or written (screens read it; changes go through `remember`)."""
        self.start_mode = start
        self.persist = persist
        self.settings = settings or settings_mod.Settings()
        """Preferences from settings.json (`kftui` reads them at launch; tests pass their own)."""

    def on_mount(self) -> None:
        """Apply the theme the settings name, or say why not; say if the state file had to be set aside."""
        self.call_after_refresh(_collect_again)
        if self._state_problem:
            self.notify(inert_lines(self._state_problem), title="state file unreadable", severity="warning", timeout=15,
                        markup=False)
        wanted = self.settings.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            known = ", ".join(sorted(self.available_themes)[:8])
            self.notify(f"settings.json: theme {wanted!r} is not a Textual theme (e.g. {known}); kept the default",
                        severity="warning", timeout=10, markup=False)

    def action_keys(self) -> None:
        """`?` on any screen: its keys, read from its live bindings."""
        from kftui.widgets.help import show_keys

        show_keys(self)

    def action_toggle_mode(self) -> None:
        """Swap between setup and watch; each mode keeps its screen alive, so nothing restarts."""
        self.switch_to("setup" if self.current_mode == "watch" else "watch")

    def switch_to(self, mode: str) -> None:
        """Show a mode (its screen is built on the first visit)."""
        self.switch_mode(mode)

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        """Put the mode switch and re-checks in the command palette too."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Setup mode", "The wizard: account, project, billing, APIs ...", lambda: self.switch_to("setup")
        )
        yield SystemCommand("Watch mode", "Pods, logs, notebooks, pipeline runs", lambda: self.switch_to("watch"))

    def remember(self, **answers: Any) -> None:
        """Store these answers now (only these: what a step or another kftui wrote meanwhile stays)."""
        self.state.answers.update(answers)  # shown at once, even if the file cannot be written
        self._change(lambda state: state.answers.update(answers))

    def save_state(self) -> None:
        """Record that setup passed; the answers were stored one by one as they were given."""
        passed = self.state.setup_passed
        self._change(lambda state: setattr(state, "setup_passed", state.setup_passed or passed))

    def _change(self, edit: Any) -> None:
        """Apply one edit through the store and adopt what is on disk now (a step's writes included)."""
        from kftui.errors import ConfigError

        try:
            with self.store.change() as state:
                edit(state)
        except ConfigError as exc:
            self.notify(f"could not save state: {inert(str(exc))}", severity="warning", markup=False)
            return
        self.state = self.store.current

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error handler: any failed worker becomes a plain-language message, never a traceback."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        self.show_error(event.worker.error, context=event.worker.description or event.worker.name)

    def show_error(self, error: BaseException, context: str = "") -> None:
        """Explain an error through the diagnosis engine and show it without a traceback."""
        from kftui.widgets.modals import explain_error

        diagnosis = explain_error(error)
        where = f"{context}: " if context else ""
        self.notify(
            inert_lines(f"{where}{diagnosis.explanation}"), title=inert(diagnosis.title), severity="error", timeout=12,
            markup=False,
        )
