"""The runs view: pipeline runs and their task trees (a model the screen's runs feed fills)."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from kftui.views.base import ViewSpec


def _widget(source: Any) -> Widget:
    from kftui.widgets.runs import RunsView

    return RunsView(source, id="runs-view")


def _title(widget: Any) -> str:
    items = getattr(widget, "items", {})
    return f"runs · {len(items)}" if getattr(widget, "loaded_once", False) else "runs"


VIEW = ViewSpec(id="runs", label="Runs", key="3", aliases=("runs", "run", "pipelines", "pr"), noun="runs",
                widget=_widget, title=_title, lazy=True)
