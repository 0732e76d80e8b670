"""Watch mode: the pod table, the selected pod's details and its live log, in resizable splits."""

from __future__ import annotations

import difflib
import time
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from kftui.core.kube import PodRow
from kftui.core.sanitize import inert
from kftui.core.table import Inbox
from kftui.views.pods import pod_key, pods_model
from kftui.widgets.filterbox import FilterBox
from kftui.widgets.logpane import LogPane
from kftui.widgets.messages import FollowPod, LogFeed, ShowDetails
from kftui.widgets.notebooks import NotebooksView
from kftui.widgets.runs import RunsView
from kftui.widgets.table import VirtualTable

FRAME_SECONDS = 1 / 20
"""At most one table update per this long, however fast the watch delivers (latest state wins per pod)."""


def known_sample(wanted: str, names: list[str], limit: int = 6) -> str:
    """A few known names for a one-line refusal, the ones closest to the typo first."""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    shown = [*close, *(n for n in names if n not in close)][:limit]
    if not shown:
        return "none"
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", … {more} more" if more > 0 else "")


class PodsPending(Message):
    """The pod watch left changes in the inbox (sent once per empty-to-full, so bursts cost one message)."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation

    def can_replace(self, message: Message) -> bool:
        """One wake-up is as good as many."""
        return isinstance(message, PodsPending)


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
        self.pods = pods_model()
        """Every pod of the watched scope: the one place pod rows live (the table draws from it)."""
        self._inbox: Inbox[PodRow] = Inbox()
        self._drain_at = 0.0
        self._drain_timer: Any = None
        self._pod_generation = 0
        self._pod_watcher: Any = None
        self._feed_context: tuple[str | None] | None = None
        """The context the pod feed was started on (a deploy in setup may switch it)."""
        self._last_tab: str | None = None
        self._feed_source: str | None = None
        self._feed_generation = 0
        self.selected_key: str | None = None
        self._log_height = 55
        self._zoomed: str | None = None

    def compose(self) -> ComposeResult:
        """Pods across the top; the log and the details side by side below; the footer lists every key."""
        app: Any = self.app
        yield Header()
        with Vertical(id="watch-top"), Vertical(id="pods-pane"), TabbedContent(id="views", initial="tab-pods"):
            with TabPane("1 Pods", id="tab-pods"):
                yield FilterBox(placeholder="filter pods (regex, !regex excludes; Enter keeps it, Esc clears)",
                                id="pods-filter")
                yield VirtualTable(self.pods, clock=self._now, id="pods")
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
        table = self.query_one("#pods", VirtualTable)
        for column in self.pods.columns:
            if column.sort_key:
                table._bindings.bind(column.sort_key, f"sort('{column.key}')", f"Sort {column.label.lower()}",
                                     show=False)
        self._update_pods_title()
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
            self.notify(f"now watching {inert(app.services.options.context)}", markup=False)
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
        inbox = self._inbox
        self.post_message(FeedState("pods", "connecting", namespace or "all namespaces"))
        watcher.start(lambda event: self._on_pod_event(event, generation, inbox))

    def _on_pod_event(self, event: Any, generation: int, inbox: Inbox[PodRow]) -> None:
        """Runs on the watch thread: fold the event into the inbox; wake the UI only when the inbox was empty."""
        from kftui.core.kube import WatchKind

        if event.kind == WatchKind.SYNCED:
            if inbox.reset(event.snapshot):
                self.post_message(PodsPending(generation))
            self.post_message(FeedState("pods", "live"))
        elif event.kind == WatchKind.ERROR:
            self.post_message(FeedState("pods", "reconnecting", event.message))
        elif event.pod is not None:
            row = None if event.kind == WatchKind.DELETED else event.pod
            if inbox.put(pod_key(event.pod), row):
                self.post_message(PodsPending(generation))

    def _stop_pod_watch(self) -> None:
        watcher = self._pod_watcher
        self._pod_watcher = None
        if watcher is not None:
            watcher.stop()

    def on_pods_pending(self, message: PodsPending) -> None:
        """Changes are waiting: fold them now, or at the next frame if the last fold was less than a frame ago."""
        if message.generation != self._pod_generation:
            return  # from a watch that was replaced (context or namespace switched)
        wait = self._drain_at + FRAME_SECONDS - time.monotonic()
        if wait > 0:
            if self._drain_timer is None:
                self._drain_timer = self.set_timer(wait, self._drain_pods)
            return
        self._drain_pods()

    def _drain_pods(self) -> None:
        """One batch into the model, one table update, the title, and a first selection."""
        self._drain_timer = None
        self._drain_at = time.monotonic()
        if not self._inbox.drain_into(self.pods):
            return
        table = self.query_one("#pods", VirtualTable)
        table.sync()
        self._update_pods_title()
        if self.selected_key is None and table.cursor_key is not None and self._on_pods_tab():
            self._select_key(table.cursor_key)

    @property
    def rows(self) -> dict[str, PodRow]:
        """Every known pod by namespace/name (filtered or not)."""
        return self.pods.rows

    @property
    def filter_text(self) -> str:
        """The pod filter in force."""
        return self.pods.filter_text

    def _on_pods_tab(self) -> bool:
        return self.query_one("#views", TabbedContent).active == "tab-pods"

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
        """Ages are drawn from the clock: redrawing the visible rows is all it takes."""
        if self._on_pods_tab():
            self.query_one("#pods", VirtualTable).refresh()

    def _update_pods_title(self) -> None:
        """pods · scope · shown/total · filter: a Text, so nothing typed or received is read as markup."""
        scope = inert(self.app_namespace or "all namespaces")
        title = Text.assemble("pods · ", scope, " · ")
        if self.filter_text:
            title.append(f"{self.pods.shown}/{len(self.pods)}")
            title.append(" · filter /")
            title.append(inert(self.filter_text), style="bold")
            title.append("/")
        else:
            title.append(str(len(self.pods)))
        self.query_one("#pods-pane").border_title = title

    # -- filter ----------------------------------------------------------------------------------
    def action_filter(self) -> None:
        """`/` opens the filter (k9s habit); a second `/` selects what is there, so typing replaces it."""
        box = self.query_one("#pods-filter", FilterBox)
        box.add_class("visible")
        box.focus()
        box.select_all()

    @on(Input.Changed, "#pods-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#pods-filter")
    def _filter_kept(self, _event: Input.Submitted) -> None:
        self.query_one("#pods", VirtualTable).focus()

    @on(FilterBox.Cleared, "#pods-filter")
    def _filter_cleared(self, _event: FilterBox.Cleared) -> None:
        self.action_clear_filter()

    def action_clear_filter(self) -> None:
        """Esc drops the filter and shows every pod again."""
        box = self.query_one("#pods-filter", FilterBox)
        with self.prevent(Input.Changed):
            box.value = ""
        box.remove_class("visible")
        self._apply_filter("")
        self.query_one("#pods", VirtualTable).focus()

    def _apply_filter(self, text: str) -> None:
        """One pass over the model; the cursor stays on its pod if still shown, else on what is lit there."""
        self.pods.set_filter(text)
        table = self.query_one("#pods", VirtualTable)
        with self.prevent(VirtualTable.Highlighted):
            table.sync()
        if self._on_pods_tab() and table.cursor_key is not None:
            self._select_key(table.cursor_key)  # unchanged if its pod is still shown
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
        self.query_one("#pods", VirtualTable).focus()
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
            self.notify(f"unknown command ':{inert(verb)}' (try :ctx, :ns, :pods, :nb, :setup)", severity="warning",
                        markup=False)

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
            Text.assemble((inert(c.name), "bold"), f"  {inert(c.server)}", (" (current)" if c.current else "", "dim"))
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
        self.notify(f"no namespace named '{inert(namespace)}' (known: {inert(known_sample(namespace, names))})",
                    severity="error",
                    markup=False)

    def _show_namespace_picker(self, names: list[str]) -> None:
        from kftui.screens.modals import ChooseScreen

        choices: list[str | None] = [None, *names]
        labels = [Text("all namespaces", style="bold"), *(Text(inert(n)) for n in names)]
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
            self.notify(f"no context named '{inert(context)}' (known: {inert(', '.join(names))})", severity="error",
                        markup=False)
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
        self._inbox = Inbox()
        self.pods.replace([])
        self.query_one("#pods", VirtualTable).sync()
        self.selected_key = None
        app: Any = self.app
        self.sub_title = self._scope_text()
        self.start_pod_feed(app.services)
        self.query_one(NotebooksView).poll()
        self._update_pods_title()

    def _scope_text(self) -> str:
        app: Any = self.app
        opts = app.services.options
        return inert(f"watch · {opts.context or 'current context'} · {opts.namespace or 'all namespaces'}")

    # -- views ----------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        """Switch the top view (pods, notebooks, runs) and focus its table."""
        self.query_one("#views", TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        tables = [*pane.query(VirtualTable), *pane.query(DataTable)]
        if tables:
            tables[0].focus()

    @on(TabbedContent.TabActivated, "#views")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Back on the pods tab, the shared panes show the highlighted pod again (other views re-tell on show)."""
        previous, self._last_tab = self._last_tab, event.pane.id
        if event.pane.id != "tab-pods" or previous in (None, "tab-pods"):
            return
        table = self.query_one("#pods", VirtualTable)
        if table.cursor_key is not None:
            self.selected_key = None
            self._select_key(table.cursor_key)

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
            pane.border_title = Text(f"log · {inert(message.title)}")
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
        self.query_one("#logs-pane").border_title = Text(f"log · {inert(message.pod_namespace)}/{inert(message.pod)}")
        self.query_one(LogPane).gone(message.gone_note or f"pod {message.pod} does not exist (any more)")

    # -- selection, details, logs ----------------------------------------------------------------
    @on(VirtualTable.Highlighted, "#pods")
    def _row_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key is not None:
            self._select_key(event.key)

    def _select_key(self, key: str) -> None:
        if key == self.selected_key:
            return
        self.selected_key = key
        row = self.rows.get(key)
        if row is None:
            return
        self.query_one("#details", Static).update(Text(f"{inert(key)}\nloading…", style="dim"))
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

        self.post_message(PodDetails(pod_key(row), pod_details(services, row)))

    def on_pod_details(self, message: PodDetails) -> None:
        """Show details only if the user has not moved on."""
        if message.key == self.selected_key:
            self.query_one("#details", Static).update(message.body)

    def follow_logs(self, row: PodRow) -> None:
        """Hand the pod to the log pane: it stops the previous stream at once and follows this one."""
        self._feed_source = None
        self.query_one("#logs-pane").border_title = Text(f"log · {inert(row.namespace)}/{inert(row.name)}")
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
            self.query_one("#pods-pane").border_subtitle = Text(inert(message.state))

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
