"""What a watch view is: one entry of the registry that WatchScreen loops over for tabs, keys, `:` and feeds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from kftui.core.table import TableModel, WatchSpec


@dataclass(frozen=True)
class ViewSpec:
    """One view: its tab key and label, its `:` aliases, and either a model fed by a watch or its own widget.

    A table view names a model factory and what to watch; the screen runs the watch and the model gets the rows,
    so a view never calls an adapter. `select` says what the shared panes show for the highlighted row (details,
    a pod's log) as messages; `keys` and `actions` are the view's own keys, bound on its table.
    """

    id: str
    label: str
    key: str
    aliases: tuple[str, ...]
    noun: str = ""
    """What the title counts ("pods", "events")."""
    model: Callable[[], TableModel[Any]] | None = None
    watch: WatchSpec[Any] | None = None
    widget: Callable[[Any], Widget] | None = None
    """For a view that is its own widget (notebooks, runs) instead of a table over a model; it is given the feed
    the screen made for it (kftui.screens.feeds.widget_feed), so it never calls an adapter itself."""
    title: Callable[[Any], str] | None = None
    """A widget view's title from its widget (plain text; the screen makes it inert); default: the noun."""
    select: Callable[[Any], list[Message]] | None = None
    keys: tuple[Binding, ...] = ()
    actions: Mapping[str, Callable[[Any], None]] = field(default_factory=dict)
    """Named actions the keys call as `view('NAME')`; each gets the view's TableView widget."""
    placeholder: str = "filter (regex, !regex excludes; Enter keeps it, Esc clears)"
    eager: bool = False
    """Start the feed at launch (the first view); others start when first shown."""
    lazy: bool = False
    """Build a widget view only when first shown (one whose mount starts a heavy client, e.g. kfp's)."""

    @property
    def tab(self) -> str:
        """The TabPane id."""
        return f"tab-{self.id}"
