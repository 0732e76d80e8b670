"""`c` in the Notebooks view: the dashboard's "New notebook" form, checked by the same rules as `kftui notebook`."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from kftui.core.sanitize import inert
from kftui.core.spawner import NotebookSpec, problems

FIELDS = (
    ("name", "Name", ""),
    ("image", "Image", "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:latest"),  # the web app default
    ("cpu", "CPU (cores or millicores)", "0.5"),
    ("memory", "Memory (Gi or Mi)", "1.0Gi"),
    ("gpus", "NVIDIA GPUs (0-16)", "0"),
    ("gpu_type", "GPU type (GKE accelerator, optional)", ""),
    ("volume", "Workspace volume size", "5Gi"),
    ("pull_secret", "Image pull secret (optional)", ""),
)


def spec_from(values: dict[str, str], namespace: str) -> tuple[NotebookSpec | None, str]:
    """The spec the answers make, or the first rule they break (naming the field)."""
    gpus_text = values.get("gpus", "0").strip() or "0"
    if not gpus_text.isascii() or not gpus_text.isdigit():
        return None, "gpu: a whole number of GPUs from 0 to 16"
    spec = NotebookSpec(values.get("name", "").strip(), namespace, values.get("image", "").strip(),
                        values.get("cpu", "").strip(), values.get("memory", "").strip(), int(gpus_text),
                        values.get("gpu_type", "").strip() or None, values.get("volume", "").strip() or "5Gi",
                        None, values.get("pull_secret", "").strip() or None)
    found = problems(spec)
    return (None, found[0]) if found else (spec, "")


class NotebookForm(ModalScreen[NotebookSpec | None]):
    """One field a line; ctrl+s (or Enter on the last field) creates; Esc cancels; the broken rule is shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Create"),
    ]
    DEFAULT_CSS = """
    NotebookForm { align: center middle; }
    NotebookForm > VerticalScroll { width: 100%; height: 100%; border: round $accent; background: $surface;
                                    padding: 0 1; }
    NotebookForm #nb-error { color: $error; }
    """

    def __init__(self, namespace: str) -> None:
        """The notebook goes to this profile namespace."""
        super().__init__()
        self.namespace = namespace

    def compose(self) -> ComposeResult:
        """Labels and inputs, prefilled with the web app's defaults."""
        with VerticalScroll() as box:
            box.border_title = Text(f"new notebook · {inert(self.namespace)}")
            box.border_subtitle = Text("ctrl+s creates · Esc cancels")
            for name, label, default in FIELDS:
                yield Label(label)
                yield Input(default, id=f"nb-{name}")
            yield Static("", id="nb-error")

    def values(self) -> dict[str, str]:
        """What is typed now."""
        return {name: self.query_one(f"#nb-{name}", Input).value for name, _label, _default in FIELDS}

    def action_submit(self) -> None:
        """Create if every rule holds, else say the first one broken."""
        spec, problem = spec_from(self.values(), self.namespace)
        if spec is None:
            self.query_one("#nb-error", Static).update(Text(problem))
            return
        self.dismiss(spec)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on; on the last field it creates."""
        event.stop()
        if event.input.id == f"nb-{FIELDS[-1][0]}":
            self.action_submit()
        else:
            self.focus_next()

    def action_cancel(self) -> None:
        """Nothing is made."""
        self.dismiss(None)
