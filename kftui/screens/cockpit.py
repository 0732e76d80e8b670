"""The k9s habits every watch view shares: ? help, y YAML, d describe, s shell, F port-forward, ctrl+d delete.

A mixin for the watch screen: it asks the screen which object is selected (`cockpit_target()`), reads and acts
through the cluster adapters in workers, and shows results in the help and text screens. Every action that
changes something asks first and shows the equivalent kubectl command.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import work
from textual.app import SuspendNotSupported
from textual.binding import Binding, BindingType

from kftui.core.sanitize import inert


@dataclass(frozen=True)
class CockpitTarget:
    """The object under the cursor: its resource plural, namespace, name and (for pods) the container."""

    resource: str
    namespace: str
    name: str
    container: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        """As kubectl names it."""
        return f"{self.resource[:-1]}/{self.name} in {self.namespace}"


COCKPIT_BINDINGS: list[BindingType] = [
    Binding("y", "cockpit_yaml", "YAML"),
    Binding("d", "cockpit_describe", "Describe"),
    Binding("s", "cockpit_shell", "Shell"),
    Binding("F", "cockpit_forward", "Port-forward"),
    Binding("ctrl+d", "cockpit_delete", "Delete"),
    Binding("c", "cockpit_new_notebook", "New notebook", show=False),
    Binding("a", "cockpit_apply_fix", "Apply fix", show=False),
    Binding("o", "cockpit_stop_start", "Stop/start notebook", show=False),
]


class CockpitActions:
    """Mixed into a Screen that knows its selection and its services."""

    COCKPIT_BINDINGS: ClassVar[list[BindingType]] = COCKPIT_BINDINGS
    _forwards: Any = None

    def cockpit_target(self) -> CockpitTarget | None:
        """The selected object (the screen says)."""
        return None

    def cockpit_namespace(self) -> str | None:
        """Where a new notebook goes: the namespace being watched, else the context's own (the screen may say)."""
        from kftui.cluster.kubeconfig import current_context

        options = self.cockpit_services().options
        if options.namespace:
            return str(options.namespace)
        try:
            ctx = current_context(options.kubeconfig)
        except Exception:  # an unreadable kubeconfig: the form is not offered
            return None
        return ctx.namespace if ctx and ctx.namespace != "default" else None

    def cockpit_services(self) -> Any:
        """The app's Services (kube client, options)."""
        return getattr(self, "app").services  # noqa: B009 - a mixin: the Screen provides app

    def _say(self, text: str, severity: str = "information") -> None:
        """A notification of outside text, never read as markup."""
        getattr(self, "notify")(inert(text), severity=severity, markup=False)  # noqa: B009

    def action_cockpit_yaml(self) -> None:
        """The selected object's YAML, read fresh."""
        target = self.cockpit_target()
        if target is None:
            self._say("nothing selected", "warning")
            return
        self._read(target, describe=False)

    def action_cockpit_describe(self) -> None:
        """kubectl describe of the selected pod."""
        target = self.cockpit_target()
        if target is None:
            self._say("nothing selected", "warning")
            return
        self._read(target, describe=True)

    @work(thread=True, exclusive=True, group="cockpit-read", description="reading the object")
    def _read(self, target: CockpitTarget, describe: bool) -> None:
        """Read off the UI thread; show in a text screen."""
        from kftui.cluster.inspect import events_for, get_object
        from kftui.core.describe import describe_pod
        from kftui.errors import KftuiError
        from kftui.widgets.textview import TextScreen, object_yaml

        screen: Any = self
        try:
            client = self.cockpit_services().kube_api()
            obj = get_object(client, target.resource, target.namespace, target.name)
            if describe and target.resource == "pods":
                now = self.cockpit_services().now()  # the app's clock (a pinned one keeps snapshots still)
                text, lang = describe_pod(obj, events_for(client, target.namespace, target.name), now), None
            else:
                text, lang = object_yaml(obj), "yaml"
        except KftuiError as exc:
            screen.app.call_from_thread(self._say, str(exc), "error")
            return
        title = f"{'describe' if describe else 'yaml'} · {target.label}"
        default = f"{target.name}.{'txt' if describe else 'yaml'}"
        screen.app.call_from_thread(screen.app.push_screen, TextScreen(title, text, lang, default))

    def action_cockpit_shell(self) -> None:
        """A real `kubectl exec -it` in the selected container; the TUI steps aside until it ends."""
        from kftui.cluster.shell import shell_argv
        from kftui.errors import KftuiError

        target = self.cockpit_target()
        if target is None or target.resource != "pods":
            self._say("a shell needs a pod: select one in the pods view", "warning")
            return
        options = self.cockpit_services().options
        try:
            argv = shell_argv(target.namespace, target.name, target.container, options.context, options.kubeconfig)
        except KftuiError as exc:
            self._say(str(exc), "error")
            return
        screen: Any = self
        try:
            with screen.app.suspend():
                code = subprocess.call(argv)
        except SuspendNotSupported:
            self._say(f"this terminal cannot hand over to a shell; run: {' '.join(argv)}", "warning")
            return
        self._say(f"shell in {target.label} ended (exit {code})", "information" if code == 0 else "warning")

    def action_cockpit_forward(self) -> None:
        """Forward a local port to the selected pod or notebook (ports asked first), and say the URL."""
        from kftui.widgets.forwards import ForwardAsk

        target = self.cockpit_target()
        if target is None or target.resource not in ("pods", "notebooks", "services"):
            self._say("port-forward needs a pod, a notebook or a service", "warning")
            return
        screen: Any = self
        screen.app.push_screen(ForwardAsk(target.label, target.port or 8888),
                               lambda ports: self._start_forward(target, ports) if ports else None)

    @work(thread=True, exclusive=True, group="cockpit-forward", description="starting a port-forward")
    def _start_forward(self, target: CockpitTarget, ports: tuple[int, int]) -> None:
        """Resolve and bind off the UI thread."""
        from kftui.cluster.forward import ForwardError, Forwards, Target

        screen: Any = self
        remote, local = ports
        if self._forwards is None:
            self._forwards = Forwards()
        if target.resource == "notebooks":
            spec = Target(target.namespace, "pod", f"{target.name}-0", remote,
                          f"/notebook/{target.namespace}/{target.name}/", f"notebook {target.name}")
        else:
            spec = Target(target.namespace, "svc" if target.resource == "services" else "pod", target.name, remote)
        try:
            fw = self._forwards.start(self.cockpit_services().kube_api(), spec, local,
                                      on_event=lambda m: screen.app.call_from_thread(self._say, m, "warning"))
        except (ForwardError, OSError) as exc:
            screen.app.call_from_thread(self._say, f"port-forward: {exc}", "error")
            return
        screen.app.call_from_thread(self._say, f"forwarding {fw.url} -> {target.label}:{remote} (:pf lists forwards)")

    def show_forwards(self) -> None:
        """`:pf`: the active forwards, with a key to stop one."""
        from kftui.widgets.forwards import ForwardList

        screen: Any = self
        items = list(self._forwards.active) if self._forwards is not None else []
        rows = [(fw.url, fw.target.describe()) for fw in items]

        def stop(index: int | None) -> None:
            if index is not None and self._forwards is not None and index < len(items):
                self._forwards.stop(items[index])
                self._say(f"stopped {items[index].url}")

        screen.app.push_screen(ForwardList(rows), stop)

    def action_cockpit_delete(self) -> None:
        """Delete the selected object after a confirmation that names it and shows the kubectl command."""
        from kftui.widgets.modals import ConfirmScreen

        target = self.cockpit_target()
        if target is None:
            self._say("nothing selected", "warning")
            return
        kind = {"pods": "pod", "notebooks": "notebooks.kubeflow.org", "services": "service"}.get(target.resource,
                                                                                                   target.resource)
        command = f"kubectl delete {kind} {target.name} -n {target.namespace}"
        screen: Any = self
        screen.app.push_screen(ConfirmScreen(f"Delete {inert(target.label)}?", inert(command)),
                               lambda yes: self._delete(target) if yes else None)

    @work(thread=True, exclusive=True, group="cockpit-delete", description="deleting")
    def _delete(self, target: CockpitTarget) -> None:
        """The deletion, off the UI thread."""
        from kftui.cluster.inspect import delete_object
        from kftui.errors import KftuiError

        screen: Any = self
        try:
            delete_object(self.cockpit_services().kube_api(), target.resource, target.namespace, target.name)
        except KftuiError as exc:
            screen.app.call_from_thread(self._say, str(exc), "error")
            return
        screen.app.call_from_thread(self._say, f"deleted {target.label}")

    def action_cockpit_new_notebook(self) -> None:
        """The new-notebook form; the notebook then comes up live in the Notebooks view."""
        from kftui.widgets.notebook_form import NotebookForm

        namespace = self.cockpit_namespace()
        if namespace is None:
            self._say("a notebook needs a profile namespace: pick one with :ns NAME first", "warning")
            return
        screen: Any = self
        screen.app.push_screen(NotebookForm(namespace), lambda spec: self._create_notebook(spec) if spec else None)

    @work(thread=True, exclusive=True, group="cockpit-notebook", description="creating a notebook")
    def _create_notebook(self, spec: Any) -> None:
        """Check the image, then make the PVC and Notebook, as `kftui notebook create` does."""
        from kftui.cluster.images import check_image
        from kftui.cluster.spawn import create_notebook
        from kftui.errors import KftuiError

        screen: Any = self
        report = check_image(spec.image)
        if not report.error and not report.ok:
            failed = next(c.message for c in report.checks if c.status == "fail")
            screen.app.call_from_thread(self._say, f"not created: the image {failed}", "error")
            return
        try:
            made = create_notebook(self.cockpit_services().kube_api(), spec)
        except KftuiError as exc:
            screen.app.call_from_thread(self._say, str(exc), "error")
            return
        unchecked = f" (image not checked: {report.error})" if report.error else ""
        screen.app.call_from_thread(self._say, f"created {', '.join(made)}{unchecked}; it comes up in the Notebooks "
                                    "view")

    def action_cockpit_apply_fix(self) -> None:
        """The selected pod's diagnosis, its fixes with commands, then values, confirmation and the real run."""
        target = self.cockpit_target()
        if target is None or target.resource != "pods":
            self._say("select a pod that is stuck: its diagnosis has the fixes", "warning")
            return
        self._diagnose_for_fix(target)

    @work(thread=True, exclusive=True, group="cockpit-fix", description="reading the diagnosis")
    def _diagnose_for_fix(self, target: CockpitTarget) -> None:
        """Events through the engine, as the details pane reads them."""
        from kftui.cluster.inspect import events_for
        from kftui.diagnose import diagnose_events

        screen: Any = self
        events = events_for(self.cockpit_services().kube_api(), target.namespace, target.name)
        context = {"namespace": target.namespace, "pod": target.name}
        project = getattr(self.cockpit_services().options, "project", None)
        if project:
            context["project"] = project
        diagnosis = diagnose_events(events, **context)
        fixes = [f for f in diagnosis.fixes if f.command]
        if not diagnosis.known or not fixes:
            screen.app.call_from_thread(self._say, f"no fix to apply for {target.label}: nothing kftui recognises is "
                                        "wrong with it", "warning")
            return
        screen.app.call_from_thread(self._pick_fix, diagnosis.title, fixes, context)

    def _pick_fix(self, title: str, fixes: list[Any], known: dict[str, str]) -> None:
        """FixPicker, then the values, then the confirmation."""
        from kftui.core.placeholders import placeholders
        from kftui.widgets.fixes import FixPicker, ValuesForm

        screen: Any = self

        def picked(index: int | None) -> None:
            if index is None:
                return
            command = str(fixes[index].command)
            names = placeholders(command)
            if names:
                prefill = {"PROJECT_ID": known.get("project", ""), "PROJECT": known.get("project", ""),
                           "NAMESPACE": known.get("namespace", "")}
                screen.app.push_screen(ValuesForm(command, names, prefill),
                                       lambda values: self._confirm_fix(command, values) if values else None)
            else:
                self._confirm_fix(command, {})

        screen.app.push_screen(FixPicker(title, fixes), picked)

    def _confirm_fix(self, command: str, values: dict[str, str]) -> None:
        """Show the exact command; run it in the user's terminal only on yes."""
        from kftui.core.placeholders import fill
        from kftui.widgets.modals import ConfirmScreen

        final = fill(command, values)
        screen: Any = self
        screen.app.push_screen(ConfirmScreen("Run this fix now, in this terminal?", inert(final)),
                               lambda yes: self._run_fix(final) if yes else None)

    def _run_fix(self, command: str) -> None:
        """The TUI steps aside, the command runs as if typed (prompts included), and its exit code is said."""
        screen: Any = self
        try:
            with screen.app.suspend():
                print(f"$ {inert(command)}", flush=True)
                code = subprocess.call(["sh", "-c", command])
                if code != 0:
                    input(f"exit {code}; press Enter to go back to kftui ")
        except SuspendNotSupported:
            self._say(f"this terminal cannot hand over; run it yourself: {command}", "warning")
            return
        self._say(f"fix finished (exit {code})", "information" if code == 0 else "error")

    def action_cockpit_stop_start(self) -> None:
        """Stop a running notebook or start a stopped one (the culling annotation), after asking."""

        target = self.cockpit_target()
        if target is None or target.resource != "notebooks":
            self._say("stop/start needs a notebook: select one in the Notebooks view", "warning")
            return
        self._ask_stop_start(target)

    @work(thread=True, exclusive=True, group="cockpit-culling", description="reading the notebook")
    def _ask_stop_start(self, target: CockpitTarget) -> None:
        """Whether it is stopped now decides the question."""
        from kftui.cluster.inspect import get_object
        from kftui.cluster.spawn import STOPPED
        from kftui.errors import KftuiError
        from kftui.widgets.modals import ConfirmScreen

        screen: Any = self
        try:
            nb = get_object(self.cockpit_services().kube_api(), "notebooks", target.namespace, target.name)
        except KftuiError as exc:
            screen.app.call_from_thread(self._say, str(exc), "error")
            return
        stopped = STOPPED in (nb.get("metadata", {}).get("annotations") or {})
        verb = "start" if stopped else "stop"
        command = f"kftui notebook {verb} {target.name} -n {target.namespace}"
        note = "" if stopped else " (its pod goes; the volume stays)"
        question = f"{verb.capitalize()} {inert(target.label)}?{note}"
        screen.app.call_from_thread(screen.app.push_screen, ConfirmScreen(question, inert(command)),
                                    lambda yes: self._set_stopped(target, not stopped) if yes else None)

    @work(thread=True, exclusive=True, group="cockpit-culling-set", description="stopping or starting")
    def _set_stopped(self, target: CockpitTarget, stop: bool) -> None:
        """The annotation, off the UI thread."""
        from kftui.cluster.spawn import set_stopped
        from kftui.errors import KftuiError

        screen: Any = self
        try:
            set_stopped(self.cockpit_services().kube_api(), target.namespace, target.name, stop)
        except KftuiError as exc:
            screen.app.call_from_thread(self._say, str(exc), "error")
            return
        screen.app.call_from_thread(self._say, f"{'stopped' if stop else 'started'} {target.label}")

    def stop_forwards(self) -> None:
        """End every forward (call from the screen's unmount)."""
        if self._forwards is not None:
            self._forwards.stop_all()
