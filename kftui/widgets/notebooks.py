"""The notebooks view: every Kubeflow notebook server, its phase, and in plain words why it is not ready."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from kftui.core.diagnosis import Diagnosis
from kftui.core.kube import NotebookPhase, NotebookRow
from kftui.core.sanitize import inert
from kftui.core.table import Column, TableModel
from kftui.widgets.messages import FollowPod, Retitled, ShowDetails

PHASE_STYLE = {
    NotebookPhase.READY: "green",
    NotebookPhase.WAITING: "yellow",
    NotebookPhase.WARNING: "bold red",
    NotebookPhase.STOPPED: "dim",
    NotebookPhase.TERMINATING: "magenta",
    NotebookPhase.UNAVAILABLE: "red",
}
COLUMNS = (
    ("namespace", "NAMESPACE", 25),
    ("name", "NAME", 22),
    ("phase", "PHASE", 9),
    ("gpus", "GPU", 3),
    ("why", "WHY", 48),
    ("image", "IMAGE", 60),
)


NotebookItem = tuple[NotebookRow, Diagnosis | None]


class NotebooksSource(Protocol):
    """What the screen hands the view: a poll of the cluster's notebooks (kftui.screens.feeds.NotebooksFeed)."""

    def start(self, sink: Callable[[Any], None]) -> None:
        """Deliver listings (`.items`, or None with `.error`) to `sink` from the poll thread."""

    def poke(self) -> None:
        """Poll now."""

    def stop(self) -> None:
        """No more listings."""


class NotebooksLoaded(Message):
    """A fresh list of notebooks with a diagnosis for each one that is not ready (or why there is none)."""

    def __init__(self, items: list[NotebookItem] | None, error: str = "") -> None:
        super().__init__()
        self.items = items
        self.error = error


def _why(item: NotebookItem) -> str:
    row, diagnosis = item
    return diagnosis.title if diagnosis is not None and diagnosis.known else row.message


def _key(item: NotebookItem) -> str:
    return f"{item[0].namespace}/{item[0].name}"


MODEL_COLUMNS: tuple[Column[NotebookItem], ...] = (
    Column("namespace", "NAMESPACE", lambda i, _: i[0].namespace),
    Column("name", "NAME", lambda i, _: i[0].name),
    Column("phase", "PHASE", lambda i, _: str(i[0].phase)),
    Column("gpus", "GPU", lambda i, _: str(i[0].gpus or "")),
    Column("why", "WHY", lambda i, _: _why(i)),
    Column("image", "IMAGE", lambda i, _: i[0].image),
)


def notebooks_model() -> TableModel[NotebookItem]:
    """Notebooks by namespace/name; every poll replaces the rows (latest state wins), sorted as kubectl lists."""
    return TableModel(MODEL_COLUMNS, key=_key, haystack=lambda i: f"{_key(i)} {i[0].phase} {_why(i)}",
                      sort="namespace", tie=lambda i: i[0].name)


def notebook_details(row: NotebookRow, diagnosis: Diagnosis | None) -> Text:
    """What the dashboard hides in a tooltip, said up front with the fix."""
    from kftui.widgets.modals import diagnosis_text

    out = Text()
    out.append(f"notebook {inert(row.namespace)}/{inert(row.name)}\n", style="bold")
    out.append(f"{row.phase}", style=PHASE_STYLE.get(row.phase, ""))
    out.append(f" · {inert(row.message)}\n" if row.message else "\n")
    out.append(f"image {inert(row.image)}\n", style="dim")
    if row.gpus:
        out.append(f"{row.gpus} GPU requested\n", style="dim")
    if diagnosis is not None and diagnosis.known:
        out.append("\nWhy\n", style="bold underline")
        out.append_text(diagnosis_text(diagnosis))
    if row.events:
        out.append("\nRecent events\n", style="bold underline")
        for ev in list(row.events)[-8:]:
            warn = ev.get("type") == "Warning"
            out.append(f"{inert(ev.get('reason'))} ", style="bold yellow" if warn else "bold")
            out.append(f"{inert(ev.get('message'))}\n")
    return out


def known_context(app: Any) -> dict[str, str]:
    """What setup learned (project, GPU, zone, cluster), so fix commands carry values instead of PLACEHOLDERS."""
    answers = getattr(getattr(app, "state", None), "answers", {}) or {}
    zone = str(answers.get("zone") or "")
    known = {"project": answers.get("project") or app.services.options.project, "gpu": answers.get("gpu_type"),
             "zone": zone, "region": zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else "",
             "cluster": answers.get("cluster_name")}
    return {k: str(v) for k, v in known.items() if v and v != "none"}


class NotebooksView(Vertical):
    """Notebook servers of the watched scope, from a model the screen's notebooks feed fills; drawn by key."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]

    def __init__(self, source: NotebooksSource, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.model = notebooks_model()
        self.error = ""
        """Why the last poll could not list the notebooks ("" when it could)."""
        self.loaded_once = False

    @property
    def known(self) -> dict[str, NotebookItem]:
        """Every notebook listed, by namespace/name, with its diagnosis."""
        return self.model.rows

    def compose(self) -> ComposeResult:
        """One table."""
        yield DataTable(id="notebooks", cursor_type="row")

    def on_mount(self) -> None:
        """Columns, then the feed: its listings arrive as messages, one model update each."""
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.source.start(self._listed)

    def _listed(self, listing: Any) -> None:
        """The feed's poll thread: one message per listing."""
        self.post_message(NotebooksLoaded(listing.items, listing.error))

    def on_unmount(self) -> None:
        """The feed stops with the view."""
        self.source.stop()

    def action_refresh(self) -> None:
        """Poll now."""
        self.source.poke()

    def on_notebooks_loaded(self, message: NotebooksLoaded) -> None:
        """Fold the listing into the model, then draw what changed by key (a failed poll keeps the rows)."""
        message.stop()
        self.error = message.error
        if message.items is not None:
            self.model.replace(message.items)
            self.loaded_once = True
        self._redraw()

    def _cells(self, item: NotebookItem) -> list[Text | str]:
        row = item[0]
        return [
            Text(inert(row.namespace), style="dim", overflow="ellipsis", no_wrap=True),
            Text(inert(row.name)),
            Text(str(row.phase), style=PHASE_STYLE.get(row.phase, "")),
            str(row.gpus or ""),
            Text(inert(_why(item)), overflow="ellipsis", no_wrap=True),
            Text(inert(row.image), style="dim", overflow="ellipsis", no_wrap=True),
        ]

    def _redraw(self) -> None:
        """Cells updated in place when the order holds; else the rows again, the cursor kept on its notebook."""
        table = self.query_one(DataTable)
        visible = self.model.visible()
        current = [str(k.value) for k in table.rows]
        items = self.model.rows
        if current == visible:
            for key in visible:
                for (column, _, _), value in zip(COLUMNS, self._cells(items[key]), strict=True):
                    table.update_cell(key, column, value)
        else:
            cursor = current[table.cursor_row] if 0 <= table.cursor_row < len(current) else None
            table.clear()
            for key in visible:
                table.add_row(*self._cells(items[key]), key=key)
            if cursor in visible:
                table.move_cursor(row=visible.index(cursor), animate=False)
        self.border_title = f"notebooks · {len(items)}"
        self.post_message(Retitled())

    def _shown(self) -> bool:
        """Whether the notebooks tab is showing: a hidden view must not take over the shared panes."""
        return all(node.display for node in self.ancestors_with_self if isinstance(node, Widget))

    def on_show(self) -> None:
        """The tab came up: the shared panes show this view's selection again."""
        self.announce()

    def announce(self) -> None:
        """Re-send the highlighted notebook's details and log (the view just became the active one)."""
        table = self.query_one(DataTable)
        if table.row_count:
            self._select(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select(str(event.row_key.value or ""))

    def _select(self, key: str) -> None:
        if key not in self.known or not self._shown():
            return
        row, diagnosis = self.known[key]
        self.post_message(ShowDetails(f"notebook:{key}", notebook_details(row, diagnosis)))
        self.post_message(
            FollowPod(row.namespace, row.pod_name, gone_note=f"notebook {row.name} has no pod: {row.message}")
        )
