"""Boxes that keys open, in time for the keys typed after them.

A terminal hands over what was typed (or pasted) in one read. Textual forwards each key to the focused widget's
queue as it comes, so by the time the key that opens a box has been handled there, the keys after it are already
queued for the table: `/gpu` typed at speed filtered nothing and sent `g`, `p`, `u` to the table, where letters are
bindings (`d` opens Describe, `l` the logs). The keys that open a box are therefore priority bindings, handled as
they arrive, and the box takes the focus at once, so the next key is forwarded to it.
"""

from __future__ import annotations

from textual.actions import SkipAction
from textual.widget import Widget
from textual.widgets import Input


def focus_now(box: Widget) -> None:
    """Focus `box` before the next key is forwarded (`Widget.focus()` takes effect a turn of the app's queue later)."""
    if box.focusable:
        box.screen.set_focus(box)
    else:  # its style is not applied yet: Textual's way, a turn later
        box.focus()


def typed_into_a_box(widget: Widget) -> None:
    """In a priority binding's action: with a text box focused, the key is a character for it, so hand it on."""
    if isinstance(widget.screen.focused, Input):
        raise SkipAction()
