"""The one table of watch views: WatchScreen builds its tabs, keys, `:` commands and feeds from it, in order.

A new view is one file in this package exporting VIEW (plus its test), and one line here.
"""

from __future__ import annotations

from kftui.views.base import ViewSpec
from kftui.views.events import VIEW as EVENTS
from kftui.views.notebooks import VIEW as NOTEBOOKS
from kftui.views.pods import VIEW as PODS
from kftui.views.runs import VIEW as RUNS

VIEWS: tuple[ViewSpec, ...] = (PODS, NOTEBOOKS, RUNS, EVENTS)


def view_for(word: str) -> ViewSpec | None:
    """The view a `:` word names (an alias or its id), if any."""
    word = word.lower()
    return next((v for v in VIEWS if word == v.id or word in v.aliases), None)
