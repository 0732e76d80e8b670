"""Watch mode: the views of the registry (pods, notebooks, runs, events ...) over the selected object's log and
details, in resizable splits. The screen runs each table view's watch and feeds its model; views never fetch."""

from __future__ import annotations

import difflib
import gc
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from kftui.core.kube import HEALTHY, PodRow, WatchKind
from kftui.core.sanitize import inert
from kftui.core.table import Change, Inbox, TableModel
from kftui.screens.cockpit import CockpitActions, CockpitTarget
from kftui.screens.feeds import PodLogFeed, fix_context, widget_feed
from kftui.views import VIEWS, view_for
from kftui.views.base import ViewSpec
from kftui.views.pods import pod_key
from kftui.widgets.focus import focus_now, typed_into_a_box
from kftui.widgets.footer import KeysFooter
from kftui.widgets.logpane import LogPane
from kftui.widgets.messages import FollowPod, LogFeed, Retitled, ShowDetails
from kftui.widgets.table import VirtualTable
from kftui.widgets.tableview import TableView

FREEZE_ROWS = 1000
"""A full list at least this long is moved out of the collector's reach once installed (see _drain)."""
FRAME_SECONDS = 1 / 20
STUCK_EVERY = 5.0
"""A selected pod that is not healthy has its details read again this often even when its row stays the same: new
events (another FailedMount, a scheduler's changed reason) change the story without changing the row."""
DETAILS_EVERY = 1.0
"""The selected pod's details are read again when its row changes, at most this often (a pod that changes many times
a second, as in a crash loop, costs the API one read a second)."""
FIRST_PAINT_WAIT = 2.0
FIRST_LIST_WAIT = 0.1
"""How long the first frame may wait for a prefetch child that is about to hand its list over: on the bench's
instant server the child ends right about when the UI is ready, and one frame with every row beats two."""
"""At most one table update per view this often, however fast its watch delivers (latest state wins per key)."""


def known_sample(wanted: str, names: list[str], limit: int = 6) -> str:
    """A few known names for a one-line refusal, the ones closest to the typo first."""
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    shown = [*close, *(n for n in names if n not in close)][:limit]
    if not shown:
        return "none"
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", … {more} more" if more > 0 else "")


def command_hint() -> str:
    """The `:` commands, views included, for the prompt and for a refusal."""
    return ":ctx [NAME]  :ns [NAME|all]  " + "  ".join(f":{v.aliases[0]}" for v in VIEWS) + "  :setup"


@dataclass
class Feed:
    """One table view's live data: its model, the inbox its watch thread fills, and that watch."""

    spec: ViewSpec
    model: TableModel[Any]
    inbox: Inbox[Any]
    generation: int = 0
    watcher: Any = None
    started: bool = False
    live: bool = False
    state: str = ""
    drain_at: float = 0.0
    timer: Any = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    handed: Any = None
    """The rows a prefetch child listed and the first frame already shows: the watch's first snapshot is these."""
    painted: threading.Event = field(default_factory=threading.Event, repr=False)
    """Set once the first list is on screen: work that only competes for the GIL (a client's import, the views
    not on show) waits for it, at most FIRST_PAINT_WAIT."""

    def stop(self) -> None:
        """Stop the watch thread's stream now."""
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()


class FeedPending(Message):
    """A view's watch left changes in its inbox (sent once per empty-to-full, so bursts cost one message)."""

    def __init__(self, view: str, generation: int) -> None:
        super().__init__()
        self.view = view
        self.generation = generation


class FeedState(Message):
    """A view's feed changed state (connecting, live, reconnecting ...)."""

    def __init__(self, feed: str, state: str, detail: str = "") -> None:
        super().__init__()
        self.feed = feed
        self.state = state
        self.detail = detail


class PodDetails(Message):
    """Details of the selected pod were fetched (conditions, containers, events, diagnosis)."""

    def __init__(self, key: str, body: Text, seq: int | None = None) -> None:
        super().__init__()
        self.key = key
        self.body = body
        self.seq = seq
        """Which read of the details this is: an older read that ends late never replaces a newer one."""

    def can_replace(self, message: Message) -> bool:
        """Only the latest details of a pod matter. Another pod's must not be replaced: a load for a pod the user
        has left, ending late, would evict the details of the pod now selected (and then be dropped itself)."""
        return isinstance(message, PodDetails) and message.key == self.key


class WatchScreen(CockpitActions, Screen[None]):
    """The cockpit: every view live, the selected object's log following, its reason for waiting explained."""

    AUTO_FOCUS = f"#{VIEWS[0].id}"
    """The first view's table, as on_mount would focus it: Textual's default (the first focusable widget, the tabs)
    would restyle the top pane for a focus that moves on at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(v.key, f"show_view('{v.id}')", v.label) for v in VIEWS),
        Binding("slash", "filter", "Filter", priority=True),  # priority: see widgets/focus.py
        Binding("colon", "command", ":cmd", priority=True),
        Binding("escape", "clear_filter", "Back (unzoom, clear filter)", show=False),
        Binding("l", "focus_logs", "Logs"),
        *CockpitActions.COCKPIT_BINDINGS,
        Binding("i", "focus_details", "Details pane", show=False),
        Binding("f", "toggle_follow", "Follow"),
        Binding("plus,equals_sign", "grow_logs", "Log+", show=False),
        Binding("minus", "shrink_logs", "Log-", show=False),
        Binding("z", "zoom", "Zoom pane"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__(id="watch")
        self.feeds: dict[str, Feed] = {}
        for spec in VIEWS:
            if spec.model is not None:
                model = spec.model()
                self.feeds[spec.id] = Feed(spec, model, Inbox(model.prepare))
        self.pods: TableModel[PodRow] = self.feeds["pods"].model
        """Every pod of the watched scope: the one place pod rows live (the pods table draws from it)."""
        self._feed_context: tuple[str | None] | None = None
        """The context the feeds were started on (a deploy in setup may switch it)."""
        self._last_tab: str | None = None
        self._feed_source: str | None = None
        self._feed_generation = 0
        self.selected_key: str | None = None
        self._details_row: PodRow | None = None
        """The row the details pane was last read for: when the selected pod's row differs, it is read again."""
        self._details_seq = 0
        self._details_shown = 0
        self._details_at = 0.0
        self._details_due: Any = None
        self._details_body: Text | None = None
        self._pane_titles: list[tuple[str, tuple[Any, ...]] | None] = [None, None]
        self._log_height = 55
        self._zoomed: str | None = None

    def compose(self) -> ComposeResult:
        """The views across the top; the log and the details side by side below; the footer lists every key."""
        app: Any = self.app
        yield Header()
        with (Vertical(id="watch-top"), Vertical(id="top-pane"),
              TabbedContent(id="views", initial=VIEWS[0].tab)):
            for spec in VIEWS:
                with TabPane(f"{spec.key} {spec.label}", id=spec.tab):
                    if not spec.lazy:
                        yield self._view_widget(spec)  # a lazy one is built when first shown
        yield Input(placeholder=command_hint(), id="command")
        with Horizontal(id="watch-bottom"):
            prefs = app.settings
            yield LogPane(PodLogFeed(self._kube_client), id="logs-pane", max_lines=prefs.log_max_lines,
                          timestamps=prefs.log_timestamps, wrap=prefs.log_wrap)
            with VerticalScroll(id="details-pane"):
                yield Static(Text("select a pod", style="dim"), id="details")
        yield KeysFooter()

    def _view_widget(self, spec: ViewSpec) -> Widget:
        feed = self.feeds.get(spec.id)
        if feed is not None:
            return TableView(feed.model, noun=spec.noun or spec.id, table_id=spec.id, placeholder=spec.placeholder,
                             clock=self._now, keys=spec.keys, actions=spec.actions, id=f"{spec.id}-view")
        assert spec.widget is not None, f"view {spec.id} has neither a model nor a widget"
        return spec.widget(widget_feed(spec.id, self.app, gate=self.feeds["pods"].painted))

    def on_mount(self) -> None:
        """A key per view, then the first view's watch (the log pane runs its own flush timer)."""
        app: Any = self.app
        named = app.services.pod_kubeconfig_scope()  # the prefetch child read the kubeconfig already
        if named is not None:
            self.sub_title = self._scope_text(*named)
        else:  # read it after the first frame: a YAML parser's import must not hold that frame up
            self.sub_title = self._scope_text(ask=False)
            self.call_after_refresh(self._name_scope)
        self.query_one("#details-pane").border_title = "details"
        self.query_one("#logs-pane").border_title = "log"
        self._apply_log_height()
        self.set_interval(5, self._refresh_ages)
        self.set_interval(1, self._sync_title)  # widget views (notebooks, runs) retitle themselves
        self.set_interval(STUCK_EVERY, self._recheck_stuck)
        self._sync_title()
        self._focus_view()
        self._feed_context = (app.services.options.context,)
        # warm the quota contact (gcloud, the IAM policy) once the first list is in: details then wait less
        self.set_timer(1.0, lambda: self.run_worker(lambda: fix_context(app), thread=True, group="fix-context",
                                                    exit_on_error=False, description="finding the quota contact"))
        self.query_one("#pods", VirtualTable).on_painted = self._first_rows_painted
        for feed in self.feeds.values():
            if feed.spec.eager:
                feed.started = True
                if feed.spec.id == "pods" and app.services.pod_prefetch_pending():
                    self._file_handed_list(feed)
                if feed.handed is None and app.services.pod_prefetch_pending():
                    self.start_feed(feed)  # the child is still listing: the watch thread takes its list when it comes
                else:  # after the first frame: the watch's imports and thread must not hold up the first paint
                    self.call_after_refresh(self.start_feed, feed)

    def _file_handed_list(self, feed: Feed) -> None:
        """The child's list, if it is arriving now, straight into the model: the first frame then shows it."""
        app: Any = self.app
        if not app.services.pod_prefetch_ready(FIRST_LIST_WAIT):
            return  # still listing (a real cluster takes its time): the watch thread takes it when it comes
        snapshot = app.services.take_pod_prefetch()
        if snapshot is None:
            return
        if snapshot.prepared is not None:  # filed by the child as this model files a row
            feed.model.replace_prepared(snapshot.prepared)
        else:
            feed.model.replace(snapshot.rows)
        feed.handed = snapshot
        feed.live = True

    def _first_rows_painted(self) -> None:
        """The first pods are on screen: the views not on show may poll now, and the first pod is selected."""
        self.feeds["pods"].painted.set()
        table = self.query_one("#pods", VirtualTable)
        if self.selected_key is None and table.cursor_key is not None and self._active_view().id == "pods":
            self._select_key(table.cursor_key)

    # -- feeds -----------------------------------------------------------------------------------
    def on_screen_resume(self) -> None:
        """Back from setup: if a deploy switched the cluster meanwhile, follow it (k9s would need a restart)."""
        app: Any = self.app
        if self._feed_context is not None and self._feed_context != (app.services.options.context,):
            self.notify(f"now watching {inert(app.services.options.context)}", markup=False)
            self._restart_feeds()

    def start_feed(self, feed: Feed) -> None:
        """Connect in a short worker, then watch on the watcher's own daemon thread (never a pool thread)."""
        app: Any = self.app
        services = app.services
        with feed.lock:  # a connecting worker of the previous generation checks under the same lock
            feed.stop()
            feed.started = True
            feed.live = feed.handed is not None  # a child's list on screen is as live as a list of our own
            feed.generation += 1
            generation = feed.generation
            feed.inbox = Inbox(feed.model.prepare)  # a late change of an old watch lands nowhere the UI reads
        self.run_worker(
            lambda: self._open_feed(feed, services, generation),
            thread=True,
            exclusive=True,
            group=f"feed-{feed.spec.id}",
            name=f"{feed.spec.id}-watch",
            exit_on_error=False,
            description=f"connecting to the cluster ({feed.spec.noun or feed.spec.id})",
        )

    def start_pod_feed(self, _services: Any = None) -> None:
        """(Re)start the pods view's watch."""
        self.start_feed(self.feeds["pods"])

    def _open_feed(self, feed: Feed, services: Any, generation: int) -> None:
        from kftui.cluster.watch import ResourceWatcher

        assert feed.spec.watch is not None, f"table view {feed.spec.id} names nothing to watch"
        namespace = services.options.namespace
        handed = feed.handed
        if handed is not None:  # already shown: the watch starts from its version, with a client built after
            def connect_later() -> Any:
                feed.painted.wait(FIRST_PAINT_WAIT)
                return services.kube_api()

            watcher = ResourceWatcher(None, feed.spec.watch, namespace=namespace, connect=connect_later,
                                      first=lambda: (handed.rows, handed.resource_version))
        elif feed.spec.id == "pods" and services.pod_prefetch_pending():
            # the list a child made while the UI started: shown first; the client (a slow import) is built after
            def first() -> tuple[tuple[Any, ...], str] | None:
                snapshot = services.take_pod_prefetch()
                return None if snapshot is None else (snapshot.rows, snapshot.resource_version)

            def connect() -> Any:
                feed.painted.wait(FIRST_PAINT_WAIT)
                return services.kube_api()

            watcher = ResourceWatcher(None, feed.spec.watch, namespace=namespace, first=first, connect=connect)
        else:
            watcher = ResourceWatcher(services.kube_api(), feed.spec.watch, namespace=namespace)
        with feed.lock:
            if generation != feed.generation:
                return  # superseded by a context or namespace switch while connecting
            feed.watcher = watcher
            inbox = feed.inbox
        view = feed.spec.id
        if handed is None:
            self.post_message(FeedState(view, "connecting", namespace or "all namespaces"))
        watcher.start(lambda change: self._on_change(change, view, generation, inbox))

    def _on_change(self, change: Change[Any], view: str, generation: int, inbox: Inbox[Any]) -> None:
        """Runs on the watch thread: fold into the inbox; wake the UI only when the inbox was empty."""
        if change.kind == WatchKind.SYNCED:
            feed = self.feeds[view]
            handed, feed.handed = feed.handed, None
            if handed is not None and change.snapshot is handed.rows:
                pass  # the child's list, filed before the first frame: nothing to fold again
            elif inbox.reset(change.snapshot):
                self.post_message(FeedPending(view, generation))
            self.post_message(FeedState(view, "live", getattr(change, "message", "") or ""))
        elif change.kind == WatchKind.ERROR:
            self.post_message(FeedState(view, "reconnecting", change.message))
        elif change.row is not None:
            row = None if change.kind == WatchKind.DELETED else change.row
            feed = self.feeds[view]
            if inbox.put(feed.model.key_of(change.row), row):
                self.post_message(FeedPending(view, generation))

    def on_feed_pending(self, message: FeedPending) -> None:
        """Changes are waiting: fold them now, or at the next frame if the last fold was less than a frame ago."""
        feed = self.feeds.get(message.view)
        if feed is None or message.generation != feed.generation:
            return  # from a watch that was replaced (context or namespace switched)
        wait = feed.drain_at + FRAME_SECONDS - time.monotonic()
        if wait > 0:
            if feed.timer is None:
                feed.timer = self.set_timer(wait, lambda: self._drain(feed))
            return
        self._drain(feed)

    def _drain(self, feed: Feed) -> None:
        """One batch into the model, one table update, the title, and a first selection."""
        feed.timer = None
        feed.drain_at = time.monotonic()
        relisted = feed.inbox.has_snapshot
        if not feed.inbox.drain_into(feed.model):
            return
        if relisted and len(feed.model) >= FREEZE_ROWS:
            gc.freeze()  # the new rows are long-lived and acyclic: keep full collections from walking them
        view = self.query_one(f"#{feed.spec.id}-view", TableView)
        view.synced()
        if self._active_view().id != feed.spec.id:
            return
        table = view.table
        if feed.spec.id == "pods" and feed.painted.is_set() and self.selected_key is None \
                and table.cursor_key is not None:
            self._select_key(table.cursor_key)  # (the first list's first pod is selected once it is drawn)
        elif feed.spec.id == "pods":
            self._follow_selected()

    @property
    def pods_live(self) -> bool:
        """Whether the pod list has been received and the watch runs (for status and benches)."""
        return self.feeds["pods"].live

    @property
    def rows(self) -> dict[str, PodRow]:
        """Every known pod by namespace/name (filtered or not)."""
        return self.pods.rows

    @property
    def filter_text(self) -> str:
        """The pod filter in force."""
        return self.pods.filter_text

    @property
    def _inbox(self) -> Inbox[PodRow]:
        return self.feeds["pods"].inbox

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
        """Ages are drawn from the clock: redrawing the visible rows of the active view is all it takes."""
        view = self._active_widget()
        if isinstance(view, TableView):
            view.table.refresh()

    # -- views, titles ---------------------------------------------------------------------------
    def _active_view(self) -> ViewSpec:
        active = self.query_one("#views", TabbedContent).active
        return next((v for v in VIEWS if v.tab == active), VIEWS[0])

    def _active_widget(self) -> Widget | None:
        spec = self._active_view()
        pane = self.query_one(f"#{spec.tab}", TabPane)
        return next(iter(pane.children), None)

    def _sync_title(self) -> None:
        """The top pane's title and state line belong to the view on show."""
        spec = self._active_view()
        widget = self._active_widget()
        if isinstance(widget, TableView):
            feed = self.feeds[spec.id]
            self._set_pane_title(widget.title(self.app_namespace or "all namespaces"),
                                 Text(feed.state) if feed.state else Text())
            return
        words = spec.title(widget) if spec.title is not None and widget is not None else spec.noun or spec.id
        self._set_pane_title(Text(inert(words)), Text())

    def _set_pane_title(self, title: Text, subtitle: Text) -> None:
        """Set only what differs: each set repaints the whole top pane, and the title is asked for every batch."""
        pane = self.query_one("#top-pane")
        shown = self._pane_titles
        for i, (name, text) in enumerate((("border_title", title), ("border_subtitle", subtitle))):
            seen = (text.plain, tuple(text.spans))
            if shown[i] != seen:
                setattr(pane, name, text if text.plain else "")
                shown[i] = seen

    def on_retitled(self, message: Retitled) -> None:
        """A widget view (notebooks, runs) redrew: its count belongs in the pane title now, not at the next tick."""
        message.stop()
        self._sync_title()

    @on(TableView.Changed)
    def _view_changed(self, event: TableView.Changed) -> None:
        spec = self._active_view()
        if event.view.id == f"{spec.id}-view":
            self._sync_title()
            cursor = self.query_one(f"#{spec.id}", VirtualTable).cursor_key
            if spec.id == "pods" and cursor is not None and cursor != self.selected_key:
                self._highlight(spec, cursor)  # a filter or sort moved the cursor: the panes follow it

    def _focus_view(self, tries: int = 5) -> None:
        pane = self.query_one(f"#{self._active_view().tab}", TabPane)
        tables = [*pane.query(VirtualTable), *pane.query(DataTable)]
        if tables:
            tables[0].focus()
        elif tries > 0:
            self.call_after_refresh(self._focus_view, tries - 1)  # the view is being built: focus it once there

    def action_show_view(self, view: str) -> None:
        """Switch the top view and focus its table; a view's watch starts the first time it is shown."""
        spec = next(v for v in VIEWS if v.id == view)
        self.query_one("#views", TabbedContent).active = spec.tab
        self._focus_view()

    def action_show_tab(self, tab: str) -> None:
        """Switch by TabPane id (tab-pods ...)."""
        self.action_show_view(tab.removeprefix("tab-"))

    @on(TabbedContent.TabActivated, "#views")
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A view on show: start its feed if it never ran, retitle, and let the shared panes show its selection."""
        previous, self._last_tab = self._last_tab, event.pane.id
        spec = self._active_view()
        feed = self.feeds.get(spec.id)
        if feed is not None and not feed.started:
            self.start_feed(feed)
        pane = self.query_one(f"#{spec.tab}", TabPane)
        if not pane.children:
            await pane.mount(self._view_widget(spec))
            self._focus_view()
        self._sync_title()
        if previous in (None, spec.tab) or feed is None:
            return
        table = self.query_one(f"#{spec.id}", VirtualTable)
        if table.cursor_key is not None:
            self.selected_key = None
            self._highlight(spec, table.cursor_key)

    @on(VirtualTable.Highlighted)
    def _row_highlighted(self, event: VirtualTable.Highlighted) -> None:
        spec = self._active_view()
        if event.key is None or event.table.id != spec.id:
            return  # a hidden view does not take over the shared panes
        self._highlight(spec, event.key)

    def _highlight(self, spec: ViewSpec, key: str) -> None:
        if spec.id == "pods":
            self._select_key(key)
            return
        row = self.feeds[spec.id].model.rows.get(key)
        if row is None or spec.select is None or key == self.selected_key:
            return
        for message in spec.select(row):
            self.post_message(message)

    def view_model(self, view: str) -> TableModel[Any]:
        """A table view's model (for tests and the bench)."""
        return self.feeds[view].model

    # -- filter ----------------------------------------------------------------------------------
    def action_filter(self) -> None:
        """`/` opens the active view's filter (k9s habit); a second `/` selects it, so typing replaces it. In a text
        box it is a character, and in the log pane its search: handed on."""
        typed_into_a_box(self)
        focused = self.focused
        in_logs = focused is not None and self.query_one(LogPane) in focused.ancestors_with_self
        widget = self._active_widget()
        if in_logs or not isinstance(widget, TableView):
            raise SkipAction()
        widget.open_filter()

    def action_clear_filter(self) -> None:
        """Esc goes back one level: out of a zoomed pane first, then drops the active view's filter."""
        if self._zoomed:
            self.action_zoom()
            return
        widget = self._active_widget()
        if isinstance(widget, TableView):
            widget.clear_filter()

    # -- k9s-style commands: switch context and namespace without leaving -----------------------
    def action_command(self) -> None:
        """`:` opens the command line (in a text box, `:` is a character)."""
        typed_into_a_box(self)
        box = self.query_one("#command", Input)
        box.add_class("visible")
        box.value = ""
        focus_now(box)

    @on(Input.Submitted, "#command")
    def _command_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#command", Input)
        box.remove_class("visible")
        self.run_command(event.value)
        self._focus_view()  # after: focusing a hidden view's table would switch the tabs back to it

    def run_command(self, text: str) -> None:
        """Interpret `ctx NAME`, `ns NAME|all`, a view's alias (`pods`, `nb`, `runs`, `events`...), `setup`."""
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
        elif view_for(verb) is not None:
            self.action_show_view(view_for(verb).id)  # type: ignore[union-attr]
        elif verb == "setup":
            app: Any = self.app
            app.switch_to("setup")
        elif verb in ("pf", "port-forward", "portforward"):
            self.show_forwards()
        elif verb in ("logs", "tail", "stern"):
            self._open_tail(" ".join(args))
        else:
            self.notify(f"unknown command ':{inert(verb)}' (try {command_hint()})", severity="warning", markup=False)

    def _pick_context(self) -> None:
        from kftui.cluster.kubeconfig import load_contexts
        from kftui.widgets.modals import ChooseScreen

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
        from kftui.widgets.modals import ChooseScreen

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
        """Every view starts again on the new scope: table views from an empty model, widget views re-poll."""
        app: Any = self.app
        self._feed_context = (app.services.options.context,)
        self.selected_key = None
        self.sub_title = self._scope_text()
        for feed in self.feeds.values():
            with feed.lock:
                feed.stop()
                feed.generation += 1
                feed.inbox = Inbox(feed.model.prepare)
            feed.model.replace([])
            feed.live = False
            feed.handed = None  # the child listed the old scope
            self.query_one(f"#{feed.spec.id}-view", TableView).synced()
            if feed.started or feed.spec.eager:
                self.start_feed(feed)
        for spec in VIEWS:
            children = self.query_one(f"#{spec.tab}", TabPane).children
            if spec.widget is not None and children:
                source = getattr(children[0], "source", None)
                if source is not None:
                    source.restart()  # the widget view's feed polls the new scope now
        self._sync_title()

    def _scope_text(self, context: str | None = None, cluster: str | None = None, ask: bool = True) -> str:
        """What is watched, as the header says it: the context and its cluster by name, and the namespace."""
        app: Any = self.app
        opts = app.services.options
        where = context or opts.context or "current context"
        if cluster and cluster != where:
            where += f" (cluster {cluster})"
        text = inert(f"watch · {where} · {opts.namespace or 'all namespaces'}")
        if context is None and ask:
            self._name_scope()
        return text

    @work(thread=True, exclusive=True, group="scope-name", description="reading the kubeconfig context")
    def _name_scope(self) -> None:
        """The kubeconfig read off the UI thread; the header then names the real context and cluster."""
        from kftui.cluster.kubeconfig import current_context

        app: Any = self.app
        opts = app.services.options
        try:
            chosen = current_context(opts.kubeconfig, opts.context)
        except Exception:  # an unreadable kubeconfig is said by the feeds; the header keeps its words
            return
        if chosen is not None:
            self.app.call_from_thread(setattr, self, "sub_title", self._scope_text(chosen.name, chosen.cluster))

    # -- shared panes ----------------------------------------------------------------------------
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
    def _select_key(self, key: str) -> None:
        if key == self.selected_key:
            return
        self.selected_key = key
        row = self.rows.get(key)
        if row is None:
            return
        self.query_one("#details", Static).update(Text(f"{inert(key)}\nloading…", style="dim"))
        self._details_body = None
        self.follow_logs(row)
        self._read_details(row, quiet=False)

    def _read_details(self, row: PodRow, quiet: bool) -> None:
        """Read the details of the pod this row is, in a worker; `quiet`: a re-read, whose failure (the pod went
        away meanwhile) keeps what is shown instead of saying so in a toast."""
        app: Any = self.app
        services = app.services
        self._details_row = row
        self._details_at = time.monotonic()
        self._details_seq += 1
        seq = self._details_seq
        self.run_worker(
            lambda: self._load_details(services, row, seq, quiet),
            thread=True,
            exclusive=True,
            group="details",
            exit_on_error=False,
            description=f"reading {pod_key(row)}",
        )

    def _shown_row(self) -> PodRow | None:
        """The row the details pane shows, while that pod is still the one selected."""
        shown = self._details_row
        return shown if shown is not None and pod_key(shown) == self.selected_key else None

    def _follow_selected(self) -> None:
        """After a batch: if the selected pod changed, its details are read again (at most every DETAILS_EVERY s);
        if it is gone, the pane says so above what it last showed."""
        shown = self._shown_row()
        if shown is None:
            return
        key = pod_key(shown)
        row = self.rows.get(key)
        if row == shown:
            return
        if row is None:
            self._details_row = None
            gone = Text(f"{inert(key)} is gone from the cluster (deleted); what it last showed:\n\n", style="yellow")
            if self._details_body is not None:
                gone.append_text(self._details_body)
            self.query_one("#details", Static).update(gone)
            return
        wait = self._details_at + DETAILS_EVERY - time.monotonic()
        if wait > 0:
            if self._details_due is None:
                self._details_due = self.set_timer(wait, self._details_due_now)
            return
        self._read_details(row, quiet=True)

    def _recheck_stuck(self) -> None:
        """A stuck pod's story is in its events: read its details again now and then while it is selected."""
        shown = self._shown_row()
        if shown is None or shown.status in HEALTHY:
            return
        row = self.rows.get(pod_key(shown))
        if row is not None and time.monotonic() - self._details_at >= STUCK_EVERY - 0.5:
            self._read_details(row, quiet=True)

    def _details_due_now(self) -> None:
        self._details_due = None
        self._follow_selected()

    def _load_details(self, services: Any, row: Any, seq: int, quiet: bool) -> None:
        from kftui.screens.details import pod_details

        key = pod_key(row)

        def again() -> None:  # the contact was found after all: the same details, now with its address
            if self.selected_key == key:
                self.post_message(PodDetails(key, pod_details(services, row, fix_context(self.app, wait=0)), seq))

        try:
            body = pod_details(services, row, fix_context(self.app, wait=0, then=again))
        except Exception:
            if quiet:
                return  # a re-read: the details shown stay, and the next change reads again
            raise
        self.post_message(PodDetails(key, body, seq))

    def on_pod_details(self, message: PodDetails) -> None:
        """Show details only if the user has not moved on, and never an older read over a newer one."""
        if message.key != self.selected_key:
            return
        if message.seq is not None:
            if message.seq < self._details_shown:
                return
            self._details_shown = message.seq
        self._details_body = message.body
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
        """Explicit states instead of a spinner, under the pane of the view they belong to."""
        feed = self.feeds.get(message.feed)
        if feed is None:
            return
        was_down = feed.state.startswith("reconnecting")
        feed.live = message.state == "live"
        if feed.live and was_down and message.detail:  # back after a lost connection: say so once
            self.notify(inert(f"{message.feed}: {message.detail}"), markup=False)
        detail = f": {message.detail}" if message.detail else ""
        feed.state = "" if feed.live else inert(f"{message.state}{detail}")[:160]
        self._sync_title()

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
        panes = ("#top-pane", "#details-pane", "#logs-pane")
        focused = next((p for p in panes if self.query_one(p).has_focus_within), "#top-pane")
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

    def cockpit_target(self) -> CockpitTarget | None:
        """The object under the cursor of the active view, for the k9s keys (y d s F ctrl+d a)."""
        spec = self._active_view()
        if spec.id == "pods":
            row = self.pods.rows.get(self.selected_key or "")
            if row is None:
                return None
            return CockpitTarget("pods", row.namespace, row.name, row.containers[0] if row.containers else None)
        if spec.id == "notebooks":
            widget: Any = self._active_widget()
            table = widget.query_one(DataTable) if widget is not None else None
            if table is None or not table.row_count:
                return None
            key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "")
            known = getattr(widget, "known", {}).get(key)
            return CockpitTarget("notebooks", known[0].namespace, known[0].name, port=8888) if known else None
        if spec.id in self.feeds:
            cursor = self.query_one(f"#{spec.id}", VirtualTable).cursor_key
            row = self.feeds[spec.id].model.rows.get(cursor or "")
            if row is not None and spec.id == "events" and getattr(row, "kind", "") == "Pod":
                pod = str(getattr(row, "object", "")).rpartition("/")[2]
                return CockpitTarget("pods", row.namespace, pod)
        return None

    def _open_tail(self, text: str) -> None:
        """`:logs REGEX [-l SEL] ...`: every matching pod's log in one pane (stern)."""
        from kftui.screens.tail import TailScreen, parse_query

        try:
            query = parse_query(text, self.app_namespace)
        except ValueError as exc:
            self.notify(inert(str(exc)), severity="warning", markup=False)
            return
        app: Any = self.app
        self.app.push_screen(TailScreen(query, app.services.kube_api, app.settings.log_max_lines))

    def on_unmount(self) -> None:
        """Stop streams at once so the app exits without waiting on sockets."""
        self.stop_forwards()
        for pane in self.query(LogPane):  # the pane stops its own stream when it unmounts first
            pane.stop()
        for feed in self.feeds.values():
            feed.stop()
