"""Watch mode: the pod table, the selected pod's details and its live log, in resizable splits."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from kftui.core.kube import PodRow, human_age
from kftui.widgets.logpane import LogPane
from kftui.widgets.messages import FollowPod, LogFeed, ShowDetails
from kftui.widgets.notebooks import NotebooksView
from kftui.widgets.runs import RunsView

POD_COLUMNS = (
    ("namespace", "NAMESPACE", 25),
    ("name", "NAME", 42),
    ("ready", "READY", 5),
    ("status", "STATUS", 18),
    ("restarts", "RESTARTS", 8),
    ("age", "AGE", 6),
    ("gpus", "GPU", 3),
    ("node", "NODE", 36),
)
STATUS_STYLE = {
    "Running": "green",
    "Completed": "dim",
    "Succeeded": "dim",
    "Pending": "yellow",
    "ContainerCreating": "yellow",
    "Terminating": "magenta",
}


def known_sample(wanted: str, names: list[str], limit: int = 6) -> str:
    """A few known names for a one-line refusal, the ones closest to the typo first."""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    shown = [*close, *(n for n in names if n not in close)][:limit]
    if not shown:
        return "none"
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", … {more} more" if more > 0 else "")


class PodsChanged(Message):
    """A batch of pod events from the watch (added/modified/deleted rows, or a full re-list)."""

    def __init__(self, changes: list[tuple[str, Any]], relisted: bool = False, generation: int = 0) -> None:
        super().__init__()
        self.changes = changes
        self.relisted = relisted
        self.generation = generation


class FeedState(Message):
    """The pod feed or the log stream changed state (connecting, streaming, reconnecting ...)."""

    def __init__(self, feed: str, state: str, detail: str = "") -> None:
        super().__init__()
        self.feed = feed
        self.state = state
        self.detail = detail


class PodDetails(Message):
    """Details of the selected pod were fetched (conditions, containers, events, diagnosis)."""

    def __init__(self, key: str, body: Text) -> None:
        super().__init__()
        self.key = key
        self.body = body

    def can_replace(self, message: Message) -> bool:
        """Only the latest details matter when the selection moves fast."""
        return isinstance(message, PodDetails)


class WatchScreen(Screen[None]):
    """The cockpit: every pod live, the selected one's log following, its reason for waiting explained."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('tab-pods')", "Pods"),
        Binding("2", "show_tab('tab-notebooks')", "Notebooks"),
        Binding("3", "show_tab('tab-runs')", "Runs"),
        Binding("slash", "filter", "Filter"),
        Binding("colon", "command", ":ctx :ns"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("l", "focus_logs", "Logs"),
        Binding("d", "focus_details", "Details", show=False),
        Binding("f", "toggle_follow", "Follow"),
        Binding("plus,equals_sign", "grow_logs", "Log+", show=False),
        Binding("minus", "shrink_logs", "Log-", show=False),
        Binding("z", "zoom", "Zoom pane"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="watch")
        self.rows: dict[str, Any] = {}
        self._pod_generation = 0
        self._pod_watcher: Any = None
        self._feed_context: tuple[str | None] | None = None
        """The context the pod feed was started on (a deploy in setup may switch it)."""
        self._last_tab: str | None = None
        self._feed_source: str | None = None
        self._feed_generation = 0
        self.filter_text = ""
        self.selected_key: str | None = None
        self._log_height = 55
        self._zoomed: str | None = None

    def compose(self) -> ComposeResult:
        """Pods across the top; the log and the details side by side below; the footer lists every key."""
        app: Any = self.app
        yield Header()
        with Vertical(id="watch-top"), Vertical(id="pods-pane"), TabbedContent(id="views", initial="tab-pods"):
            with TabPane("1 Pods", id="tab-pods"):
                yield Input(placeholder="filter pods (regex, Enter keeps it, Esc clears)", id="pods-filter")
                yield DataTable(id="pods", cursor_type="row", zebra_stripes=False)
            with TabPane("2 Notebooks", id="tab-notebooks"):
                yield NotebooksView(id="notebooks-view")
            with TabPane("3 Runs", id="tab-runs"):
                yield RunsView(id="runs-view")
        yield Input(placeholder=":ctx [NAME]   :ns [NAME|all]   :pods   :nb   :setup", id="command")
        with Horizontal(id="watch-bottom"):
            prefs = app.settings
            yield LogPane(self._kube_client, id="logs-pane", max_lines=prefs.log_max_lines,
                          timestamps=prefs.log_timestamps, wrap=prefs.log_wrap)
            with VerticalScroll(id="details-pane"):
                yield Static(Text("select a pod", style="dim"), id="details")
        yield Footer()

    def on_mount(self) -> None:
        """Start the pod watch (the log pane runs its own flush timer)."""
        app: Any = self.app
        self.sub_title = self._scope_text()
        table = self.query_one("#pods", DataTable)
        for key, label, width in POD_COLUMNS:
            table.add_column(label, key=key, width=width)
        self.query_one("#pods-pane").border_title = "pods"
        self.query_one("#details-pane").border_title = "details"
        self.query_one("#logs-pane").border_title = "log"
        self._apply_log_height()
        self.set_interval(5, self._refresh_ages)
        table.focus()
        self.call_after_refresh(self.start_pod_feed, app.services)  # first frame before the client imports

    # -- pods ------------------------------------------------------------------------------------
    def on_screen_resume(self) -> None:
        """Back from setup: if a deploy switched the cluster meanwhile, follow it (k9s would need a restart)."""
        app: Any = self.app
        if self._feed_context is not None and self._feed_context != (app.services.options.context,):
            self.notify(f"now watching {app.services.options.context}")
            self._restart_feeds()

    def start_pod_feed(self, services: Any) -> None:
        """Connect in a short worker, then watch on the watcher's own daemon thread (never a pool thread)."""
        self._feed_context = (services.options.context,)
        self._pod_generation += 1
        generation = self._pod_generation
        self._stop_pod_watch()
        self.run_worker(
            lambda: self._open_pod_feed(services, generation),
            thread=True,
            exclusive=True,
            group="pods",
            name="pod-watch",
            exit_on_error=False,
            description="connecting to the cluster",
        )

    def _open_pod_feed(self, services: Any, generation: int) -> None:
        from kftui.cluster.pods import PodWatcher

        namespace = services.options.namespace
        watcher = PodWatcher(services.kube_api(), namespace=namespace)
        if generation != self._pod_generation:
            return  # superseded by a context or namespace switch while connecting
        self._pod_watcher = watcher
        self.post_message(FeedState("pods", "connecting", namespace or "all namespaces"))
        watcher.start(lambda event: self._on_pod_event(event, generation))

    def _on_pod_event(self, event: Any, generation: int) -> None:
        """Runs on the watch thread: turn a watch event into a message (post_message is thread-safe)."""
        from kftui.core.kube import WatchKind

        if event.kind == WatchKind.SYNCED:
            rows = [("modified", row) for row in event.snapshot]
            self.post_message(PodsChanged(rows, relisted=True, generation=generation))
            self.post_message(FeedState("pods", "live"))
        elif event.kind == WatchKind.ERROR:
            self.post_message(FeedState("pods", "reconnecting", event.message))
        elif event.pod is not None:
            kind = "deleted" if event.kind == WatchKind.DELETED else "modified"
            self.post_message(PodsChanged([(kind, event.pod)], generation=generation))

    def _stop_pod_watch(self) -> None:
        watcher = self._pod_watcher
        self._pod_watcher = None
        if watcher is not None:
            watcher.stop()

    def on_pods_changed(self, message: PodsChanged) -> None:
        """Apply a batch: update cells of known rows, add new ones, remove deleted ones."""
        if message.generation != self._pod_generation:
            return  # from a watch that was replaced (context or namespace switched)
        table = self.query_one("#pods", DataTable)
        keep = self._cursor_key(table)
        added = False
        if message.relisted:
            keep_keys = {self._key(row) for kind, row in message.changes if kind != "deleted"}
            for key in [k for k in self.rows if k not in keep_keys]:
                self._remove_row(table, key)
        for kind, row in message.changes:
            key = self._key(row)
            if kind == "deleted":
                self._remove_row(table, key)
                continue
            self.rows[key] = row
            if not self._matches(row):
                self._remove_row(table, key, forget=False)
                continue
            cells = self._cells(row)
            if key in table.rows:
                for (column, _, _), value in zip(POD_COLUMNS, cells, strict=True):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
                added = True
        self._arrange(table, keep, added)
        self._update_pods_title()
        if self.selected_key is None and table.row_count:
            self._select_key(str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value))

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> str | None:
        """The pod under the cursor, so a change that moves rows can put the cursor back on it."""
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _arrange(self, table: DataTable[Any], keep: str | None, added: bool) -> None:
        """Rows are added at the bottom: sort them into (namespace, name) order, the order a fresh list has."""
        if added:
            table.sort("namespace", "name", key=lambda cells: (str(cells[0]), str(cells[1])))
        if keep is not None and keep in table.rows and table.get_row_index(keep) != table.cursor_row:
            with self.prevent(DataTable.RowHighlighted):  # the same pod stays selected: no reload of its log
                table.move_cursor(row=table.get_row_index(keep))

    def _remove_row(self, table: DataTable[Any], key: str, forget: bool = True) -> None:
        if key in table.rows:
            table.remove_row(key)
        if forget:
            self.rows.pop(key, None)

    @staticmethod
    def _key(row: Any) -> str:
        return f"{row.namespace}/{row.name}"

    def _cells(self, row: PodRow) -> list[Text | str]:
        status = Text(row.status, style=STATUS_STYLE.get(row.status, "bold red"))
        return [
            Text(row.namespace, style="dim", overflow="ellipsis", no_wrap=True),
            Text(row.name, overflow="ellipsis", no_wrap=True),
            row.ready,
            status,
            str(row.restarts),
            human_age(row.created, self._now()),
            str(row.gpus or ""),
            row.node or "",
        ]

    def _now(self) -> Any:
        app: Any = self.app
        return app.services.now()

    @property
    def app_namespace(self) -> str | None:
        """The namespace being watched (None = all)."""
        app: Any = self.app
        ns: str | None = app.services.options.namespace
        return ns

    def _refresh_ages(self) -> None:
        table = self.query_one("#pods", DataTable)
        for key, row in self.rows.items():
            if key in table.rows:
                table.update_cell(key, "age", human_age(row.created, self._now()))

    def _update_pods_title(self) -> None:
        table = self.query_one("#pods", DataTable)
        scope = self.app_namespace or "all namespaces"
        shown = f"{table.row_count}/{len(self.rows)}" if self.filter_text else str(len(self.rows))
        flt = f" · filter /{self.filter_text}/" if self.filter_text else ""
        self.query_one("#pods-pane").border_title = f"pods · {scope} · {shown}{flt}"

    # -- filter ----------------------------------------------------------------------------------
    def _matches(self, row: Any) -> bool:
        if not self.filter_text:
            return True
        haystack = f"{row.namespace}/{row.name} {row.status} {row.node or ''}"
        try:
            return re.search(self.filter_text, haystack, re.IGNORECASE) is not None
        except re.error:
            return self.filter_text.lower() in haystack.lower()

    def action_filter(self) -> None:
        """`/` opens the filter (k9s habit)."""
        box = self.query_one("#pods-filter", Input)
        box.add_class("visible")
        box.focus()

    @on(Input.Changed, "#pods-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._rebuild_table()

    @on(Input.Submitted, "#pods-filter")
    def _filter_kept(self, _event: Input.Submitted) -> None:
        self.query_one("#pods", DataTable).focus()

    def action_clear_filter(self) -> None:
        """Esc drops the filter and shows every pod again."""
        box = self.query_one("#pods-filter", Input)
        box.value = ""
        box.remove_class("visible")
        self.filter_text = ""
        self._rebuild_table()
        self.query_one("#pods", DataTable).focus()

    def _rebuild_table(self) -> None:
        """Show exactly the matching pods, by key, in table order; the cursor stays on its pod if still shown."""
        table = self.query_one("#pods", DataTable)
        keep = self._cursor_key(table)
        with self.prevent(DataTable.RowHighlighted):  # removals shift the cursor over pods the user never chose
            wanted = {key for key, row in self.rows.items() if self._matches(row)}
            for row_key in [k for k in table.rows if k.value not in wanted]:
                table.remove_row(row_key)
            fresh = [key for key in wanted if key not in table.rows]
            for key in fresh:
                table.add_row(*self._cells(self.rows[key]), key=key)
            self._arrange(table, keep, bool(fresh))
        on_pods_tab = self.query_one("#views", TabbedContent).active == "tab-pods"
        if on_pods_tab and table.row_count:
            self._select_key(str(self._cursor_key(table)))  # unchanged if its pod is still shown, else what is lit
        self._update_pods_title()

    # -- k9s-style commands: switch context and namespace without leaving -----------------------
    def action_command(self) -> None:
        """`:` opens the command line."""
        box = self.query_one("#command", Input)
        box.add_class("visible")
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#command")
    def _command_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#command", Input)
        box.remove_class("visible")
        self.query_one("#pods", DataTable).focus()
        self.run_command(event.value)

    def run_command(self, text: str) -> None:
        """Interpret `ctx NAME`, `ns NAME|all`, `pods`, `nb`, `setup`; a bad one is named, never a crash."""
        words = text.strip().lstrip(":").split()
        if not words:
            return
        verb, args = words[0].lower(), words[1:]
        if verb in ("ctx", "context"):
            if args:
                self.switch_context(args[0])
            else:
                self._pick_context()
        elif verb in ("ns", "namespace"):
            if args and args[0] in ("all", "-A", "*"):
                self.switch_namespace(None)
            elif args:
                self._check_namespace(args[0])
            else:
                self._pick_namespace()
        elif verb in ("po", "pod", "pods"):
            self.action_show_tab("tab-pods")
        elif verb in ("nb", "notebook", "notebooks"):
            self.action_show_tab("tab-notebooks")
        elif verb == "setup":
            app: Any = self.app
            app.switch_to("setup")
        else:
            self.notify(f"unknown command ':{verb}' (try :ctx, :ns, :pods, :nb, :setup)", severity="warning")

    def _pick_context(self) -> None:
        from kftui.cluster.kubeconfig import load_contexts
        from kftui.screens.modals import ChooseScreen

        app: Any = self.app
        try:
            contexts = load_contexts(app.services.options.kubeconfig)
        except Exception as exc:
            app.show_error(exc, "kubeconfig")
            return
        if not contexts:
            self.notify("the kubeconfig has no contexts", severity="warning")
            return
        labels = [
            Text.assemble((c.name, "bold"), f"  {c.server}", (" (current)" if c.current else "", "dim"))
            for c in contexts
        ]
        self.app.push_screen(
            ChooseScreen("Switch context", labels),
            lambda i: self.switch_context(contexts[i].name) if i is not None else None,
        )

    @work(thread=True, exclusive=True, group="namespaces", exit_on_error=False, description="listing namespaces")
    def _pick_namespace(self) -> None:
        from kftui.cluster.objects import list_namespaces

        app: Any = self.app
        names = list_namespaces(app.services.kube_api())
        self.app.call_from_thread(self._show_namespace_picker, names)

    @work(thread=True, exclusive=True, group="namespaces", exit_on_error=False, description="checking namespace")
    def _check_namespace(self, namespace: str) -> None:
        """`:ns NAME` lists namespaces off the UI thread first, so a typo is refused instead of watching nothing."""
        from kftui.cluster.objects import list_namespaces

        app: Any = self.app
        context = app.services.options.context
        try:
            names: list[str] | None = list_namespaces(app.services.kube_api())
        except Exception:
            names = None  # RBAC may forbid listing (or the cluster is away): take the name on trust, as kubectl does
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._namespace_checked, namespace, names, context)

    def _namespace_checked(self, namespace: str, names: list[str] | None, context: str | None) -> None:
        """Switch to a namespace that exists (or could not be checked); name a missing one and change nothing."""
        app: Any = self.app
        if context != app.services.options.context:
            return  # the context changed while listing: this answer is about another cluster
        if names is None or namespace in names:
            self.switch_namespace(namespace)
            return
        self.notify(f"no namespace named '{namespace}' (known: {known_sample(namespace, names)})", severity="error",
                    markup=False)

    def _show_namespace_picker(self, names: list[str]) -> None:
        from kftui.screens.modals import ChooseScreen

        choices: list[str | None] = [None, *names]
        labels = [Text("all namespaces", style="bold"), *(Text(n) for n in names)]
        self.app.push_screen(
            ChooseScreen("Switch namespace", labels),
            lambda i: self.switch_namespace(choices[i]) if i is not None else None,
        )

    def switch_context(self, context: str) -> None:
        """Point every view at another cluster; the old watch and log stream stop at once."""
        app: Any = self.app
        from kftui.cluster.kubeconfig import load_contexts

        try:
            names = [c.name for c in load_contexts(app.services.options.kubeconfig)]
        except Exception as exc:
            app.show_error(exc, "kubeconfig")
            return
        if context not in names:
            self.notify(f"no context named '{context}' (known: {', '.join(names)})", severity="error")
            return
        app.services.options = replace(app.services.options, context=context)
        app.services.forget_kube()
        self._restart_feeds()

    def switch_namespace(self, namespace: str | None) -> None:
        """Watch one namespace, or all of them (None)."""
        app: Any = self.app
        app.services.options = replace(app.services.options, namespace=namespace)
        self._restart_feeds()

    def _restart_feeds(self) -> None:
        table = self.query_one("#pods", DataTable)
        table.clear()
        self.rows.clear()
        self.selected_key = None
        app: Any = self.app
        self.sub_title = self._scope_text()
        self.start_pod_feed(app.services)
        self.query_one(NotebooksView).poll()
        self._update_pods_title()

    def _scope_text(self) -> str:
        app: Any = self.app
        opts = app.services.options
        return f"watch · {opts.context or 'current context'} · {opts.namespace or 'all namespaces'}"

    # -- views ----------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        """Switch the top view (pods, notebooks, runs) and focus its table."""
        self.query_one("#views", TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        tables = list(pane.query(DataTable))
        if tables:
            tables[0].focus()

    @on(TabbedContent.TabActivated, "#views")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Back on the pods tab, the shared panes show the highlighted pod again (other views re-tell on show)."""
        previous, self._last_tab = self._last_tab, event.pane.id
        if event.pane.id != "tab-pods" or previous in (None, "tab-pods"):
            return
        table = self.query_one("#pods", DataTable)
        if table.row_count:
            self.selected_key = None
            self._select_key(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def on_show_details(self, message: ShowDetails) -> None:
        """A view explains its own selection in the details pane (views speak only while shown)."""
        self.selected_key = message.key
        self.query_one("#details", Static).update(message.body)

    def on_log_feed(self, message: LogFeed) -> None:
        """A view streams something that is not a pod (a local run) into the shared log pane."""
        from kftui.core.kube import LogState, LogStatus

        pane = self.query_one(LogPane)
        if message.source != self._feed_source:
            self._feed_source = message.source
            self._feed_generation = pane.attach(message.title)
            pane.border_title = f"log · {message.title}"
        if message.lines:
            pane.feed_lines(message.lines, self._feed_generation)
        if message.state:
            pane.feed_status(LogStatus(LogState(message.state), "", message.detail))

    def on_follow_pod(self, message: FollowPod) -> None:
        """A view asks for a pod's log; if the pod is gone, say so plainly instead of an error."""
        row = self.rows.get(f"{message.pod_namespace}/{message.pod}")
        if row is None:
            self._show_gone(message)
            return
        self.follow_logs(row)

    def _show_gone(self, message: FollowPod) -> None:
        self.query_one("#logs-pane").border_title = f"log · {message.pod_namespace}/{message.pod}"
        self.query_one(LogPane).gone(message.gone_note or f"pod {message.pod} does not exist (any more)")

    # -- selection, details, logs ----------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#pods")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            self._select_key(str(event.row_key.value))

    def _select_key(self, key: str) -> None:
        if key == self.selected_key:
            return
        self.selected_key = key
        row = self.rows.get(key)
        if row is None:
            return
        self.query_one("#details", Static).update(Text(f"{key}\nloading…", style="dim"))
        self.follow_logs(row)
        app: Any = self.app
        services = app.services
        self.run_worker(
            lambda: self._load_details(services, row),
            thread=True,
            exclusive=True,
            group="details",
            exit_on_error=False,
            description=f"reading {key}",
        )

    def _load_details(self, services: Any, row: Any) -> None:
        from kftui.screens.details import pod_details

        self.post_message(PodDetails(self._key(row), pod_details(services, row)))

    def on_pod_details(self, message: PodDetails) -> None:
        """Show details only if the user has not moved on."""
        if message.key == self.selected_key:
            self.query_one("#details", Static).update(message.body)

    def follow_logs(self, row: PodRow) -> None:
        """Hand the pod to the log pane: it stops the previous stream at once and follows this one."""
        self._feed_source = None
        self.query_one("#logs-pane").border_title = f"log · {row.namespace}/{row.name}"
        self.query_one(LogPane).follow(row)

    def _kube_client(self) -> Any:
        """The cluster client for the log pane (called on its reader thread)."""
        app: Any = self.app
        return app.services.kube_api()

    def on_feed_state(self, message: FeedState) -> None:
        """Explicit states instead of a spinner."""
        if message.feed == "pods" and message.state == "live":
            self.query_one("#pods-pane").border_subtitle = ""
            return
        if message.feed == "pods":
            self.query_one("#pods-pane").border_subtitle = message.state

    # -- layout ----------------------------------------------------------------------------------
    def _apply_log_height(self) -> None:
        self.query_one("#watch-bottom").styles.height = f"{self._log_height}%"
        self.query_one("#watch-top").styles.height = "1fr"

    def action_grow_logs(self) -> None:
        """Give the log pane more room."""
        self._log_height = min(85, self._log_height + 10)
        self._apply_log_height()

    def action_shrink_logs(self) -> None:
        """Give the tables more room."""
        self._log_height = max(15, self._log_height - 10)
        self._apply_log_height()

    def action_zoom(self) -> None:
        """Show only the focused pane, or everything again."""
        panes = ("#pods-pane", "#details-pane", "#logs-pane")
        focused = next((p for p in panes if self.query_one(p).has_focus_within), "#pods-pane")
        if self._zoomed:
            for pane in panes:
                self.query_one(pane).remove_class("zoomed")
            self.query_one("#watch-top").remove_class("zoomed")
            self.query_one("#watch-bottom").remove_class("zoomed")
            self._zoomed = None
            self._apply_log_height()
            return
        self._zoomed = focused
        for pane in panes:
            if pane != focused:
                self.query_one(pane).add_class("zoomed")
        if focused in ("#logs-pane", "#details-pane"):
            self.query_one("#watch-top").add_class("zoomed")
            self.query_one("#watch-bottom").styles.height = "1fr"
        else:
            self.query_one("#watch-bottom").add_class("zoomed")

    def action_focus_logs(self) -> None:
        """Jump to the log pane."""
        self.query_one(LogPane).view.focus()

    def action_focus_details(self) -> None:
        """Jump to the details pane."""
        self.query_one("#details-pane").focus()

    def action_toggle_follow(self) -> None:
        """Pause or resume autoscroll."""
        self.query_one(LogPane).action_toggle_follow()

    def on_unmount(self) -> None:
        """Stop streams at once so the app exits without waiting on sockets."""
        for pane in self.query(LogPane):  # the pane stops its own stream when it unmounts first
            pane.stop()
        self._stop_pod_watch()
