"""The notebooks view: Kubeflow notebook servers and why each one is not ready (a model the screen's poll fills)."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from kftui.views.base import ViewSpec


def _widget(source: Any) -> Widget:
    from kftui.widgets.notebooks import NotebooksView

    return NotebooksView(source, id="notebooks-view")


def _title(widget: Any) -> str:
    known = getattr(widget, "known", None)
    title = f"notebooks · {len(known)}" if known else "notebooks"
    error = getattr(widget, "error", "")
    return f"{title} · cannot list: {error}" if error else title


VIEW = ViewSpec(id="notebooks", label="Notebooks", key="2", aliases=("nb", "notebook", "notebooks"),
                noun="notebooks", widget=_widget, title=_title)
