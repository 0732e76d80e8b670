"""A batch that only rewrites rows in place redraws just their screen lines; one that moves rows redraws the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region

from kftui.core.kube import PodRow
from kftui.views.pods import pods_model
from kftui.widgets.table import VirtualTable

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pod(name: str, status: str = "Running", restarts: int = 0) -> PodRow:
    return PodRow(namespace="team", name=name, ready="1/1", status=status, restarts=restarts,
                  created=NOW - timedelta(hours=1), node="n1", gpus=0)


class RecordingTable(VirtualTable):
    """The real table, noting each region it asks to redraw (None: all of it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[Region | None] = []

    def refresh(self, *regions: Region, **kwargs: Any) -> Any:
        self.asked.extend(regions or [None])
        return super().refresh(*regions, **kwargs)


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.model = pods_model()
        self.model.replace([pod(f"p{i:04d}") for i in range(500)])

    def compose(self) -> ComposeResult:
        yield RecordingTable(self.model, clock=lambda: NOW, id="t")


def line_text(table: VirtualTable, y: int) -> str:
    table.render_lines(Region(0, 0, table.size.width, table.size.height))  # resolves the frame (widths, styles)
    return table.render_line(y).text


def test_in_place_changes_are_touched_keys_and_moves_bump_the_layout() -> None:
    model = pods_model()
    model.replace([pod("a"), pod("b"), pod("c"), *(pod(f"z{i:03d}") for i in range(100))])
    model.widths()  # as a table's first frame does
    model.take_touched()
    layout = model.layout_version
    model.apply({"team/b": pod("b", status="Failed")})  # same position, same widths
    assert model.layout_version == layout and model.take_touched() == {"team/b"}
    assert model.take_touched() == set()
    model.apply({"team/c": pod("c", status="Pending")})  # as wide as the widest that is left: nothing moves
    assert model.layout_version == layout and model.take_touched() == {"team/c"}
    model.apply({"team/b": pod("b", status="CrashLoopBackOff")})  # a wider status column: widths move
    assert model.layout_version == layout + 1
    model.apply({"team/d": pod("d")})  # a new row
    assert model.layout_version == layout + 2
    model.apply({"team/a": None})  # a row gone
    assert model.layout_version == layout + 3
    model.set_sort("restarts")
    layout = model.layout_version
    model.apply({"team/c": pod("c", restarts=5)})  # its sort value changed: it moves
    assert model.layout_version == layout + 1 and model.visible()[-1] == "team/c"
    model.set_filter("Failed")
    layout = model.layout_version
    model.apply({"team/d": pod("d", status="Failed")})  # now passes the filter: it appears
    assert model.layout_version == layout + 1 and "team/d" in model.visible()


async def test_an_in_place_change_redraws_only_its_line_and_an_off_screen_one_nothing() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RecordingTable)
        await pilot.pause()
        assert "p0002" in line_text(table, 3) and "Running" in line_text(table, 3)
        table.asked.clear()
        app.model.apply({"team/p0002": pod("p0002", status="Pending")})
        table.sync()
        assert table.asked == [Region(0, 3, table.size.width, 1)]
        assert "Pending" in line_text(table, 3)
        table.asked.clear()
        app.model.apply({"team/p0400": pod("p0400", status="Failed")})  # far below the screen
        table.sync()
        assert table.asked == []
        table.asked.clear()
        app.model.apply({"team/p0001x": pod("p0001x")})  # a new row on screen: everything under it moves
        table.sync()
        assert None in table.asked
        assert "p0001x" in line_text(table, 3)
