"""The notebooks view: every Kubeflow notebook server, its phase, and in plain words why it is not ready."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from kftui.core.diagnosis import Diagnosis
from kftui.core.kube import NotebookPhase, NotebookRow
from kftui.core.sanitize import inert
from kftui.widgets.messages import FollowPod, ShowDetails

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
POLL_SECONDS = 5.0


class NotebooksLoaded(Message):
    """A fresh list of notebooks with a diagnosis for each one that is not ready."""

    def __init__(self, rows: list[tuple[NotebookRow, Diagnosis | None]]) -> None:
        super().__init__()
        self.rows = rows


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
    """Notebook servers in every namespace the user can list, polled and updated by key."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.known: dict[str, tuple[NotebookRow, Diagnosis | None]] = {}

    def compose(self) -> ComposeResult:
        """One table."""
        yield DataTable(id="notebooks", cursor_type="row")

    def on_mount(self) -> None:
        """Columns, then the first poll; each poll re-arms the next only after it finished."""
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.call_after_refresh(self.poll)

    def action_refresh(self) -> None:
        """Poll now."""
        self.poll()

    @work(thread=True, exclusive=True, group="notebooks", description="listing notebooks", exit_on_error=False)
    def poll(self) -> None:
        """List notebooks and explain each one that is not ready (runs in a worker)."""
        from kftui.cluster.notebooks import list_notebooks
        from kftui.diagnose import diagnose_events

        app: Any = self.app
        rows = list_notebooks(app.services.kube_api(), app.services.options.namespace)
        known = known_context(app)
        out: list[tuple[NotebookRow, Diagnosis | None]] = []
        for row in rows:
            diagnosis = None
            if row.phase not in (NotebookPhase.READY, NotebookPhase.STOPPED):
                diagnosis = diagnose_events(list(row.events), namespace=row.namespace, pod=row.pod_name,
                                            notebook=row.name, **known)
            out.append((row, diagnosis))
        self.post_message(NotebooksLoaded(out))

    def on_notebooks_loaded(self, message: NotebooksLoaded) -> None:
        """Update rows by key, drop vanished ones, then schedule the next poll."""
        table = self.query_one(DataTable)
        fresh = {f"{r.namespace}/{r.name}": (r, d) for r, d in message.rows}
        for key in [k for k in self.known if k not in fresh]:
            table.remove_row(key)
        for key, (row, diagnosis) in fresh.items():
            why = diagnosis.title if diagnosis is not None and diagnosis.known else row.message
            cells = [
                Text(inert(row.namespace), style="dim", overflow="ellipsis", no_wrap=True),
                Text(inert(row.name)),
                Text(str(row.phase), style=PHASE_STYLE.get(row.phase, "")),
                str(row.gpus or ""),
                Text(inert(why), overflow="ellipsis", no_wrap=True),
                Text(inert(row.image), style="dim", overflow="ellipsis", no_wrap=True),
            ]
            if key in table.rows:
                for (column, _, _), value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
        self.known = fresh
        self.border_title = f"notebooks · {len(fresh)}"
        self.set_timer(POLL_SECONDS, self.poll)

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
