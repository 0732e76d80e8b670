"""The notebooks view: Kubeflow notebook servers and why each one is not ready (its own polling widget)."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from kftui.views.base import ViewSpec


def _widget() -> Widget:
    from kftui.widgets.notebooks import NotebooksView

    return NotebooksView(id="notebooks-view")


def _title(widget: Any) -> str:
    known = getattr(widget, "known", None)
    return f"notebooks · {len(known)}" if known else "notebooks"


VIEW = ViewSpec(id="notebooks", label="Notebooks", key="2", aliases=("nb", "notebook", "notebooks"),
                noun="notebooks", widget=_widget, title=_title)
