"""The key footer, rebuilt only when the keys it shows change.

Textual's Footer rebuilds all of its key widgets on every bindings signal (each focus move sends one), even when
the keys are the same; at start-up that is five rebuilds in 0.2 s, each restyling some twenty widgets while the
first pod list is being read. The keys a footer shows are a small tuple, so comparing it first is cheap.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """Footer that skips a rebuild when the shown keys, their labels and their enabled state are unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As Footer; the last shown keys start unknown so the first signal always builds."""
        super().__init__(*args, **kwargs)
        self._shown: tuple[object, ...] | None = None

    def shown_keys(self) -> tuple[object, ...]:
        """What compose() would draw: each shown binding's key, label, action, group, enabled and tooltip."""
        keys: list[object] = [self.compact, self.show_command_palette]
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                group = binding.group
                keys.append((binding.key, binding.key_display, binding.description, binding.action,
                             None if group is None else (group.description, group.compact), enabled, tooltip))
        return tuple(keys)

    def compose(self) -> ComposeResult:
        """Footer's keys with `?` first: on an 80-column terminal the last keys are cut, and `?` lists them all."""
        keys = list(super().compose())
        first = [w for w in keys if isinstance(w, FooterKey) and w.key == "question_mark"]
        yield from first
        yield from (w for w in keys if not any(w is f for f in first))

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Rebuild only when the keys differ from the ones on screen (the signal fires on every focus move)."""
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)
            return
        shown = self.shown_keys()
        if shown == self._shown:
            return
        self._shown = shown
        super().bindings_changed(screen)
