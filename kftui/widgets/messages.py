"""Messages the watch screen's views send upward, so each view is a self-contained widget."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message


class FollowPod(Message):
    """Ask the screen to show this pod's log (and details) in the shared panes."""

    def __init__(self, namespace: str, pod: str, container: str | None = None, gone_note: str = "") -> None:
        super().__init__()
        self.pod_namespace = namespace
        self.pod = pod
        self.container = container
        self.gone_note = gone_note
        """What to say in the log pane if the pod no longer exists (e.g. a finished run's pods were collected)."""


class ShowDetails(Message):
    """Replace the details pane's content (a view's own explanation of its selected row)."""

    def __init__(self, key: str, body: Text) -> None:
        super().__init__()
        self.key = key
        self.body = body

    def can_replace(self, message: Message) -> bool:
        """A burst of selections collapses to the last one."""
        return isinstance(message, ShowDetails)


class LogFeed(Message):
    """Lines (and a state) from a stream that is not a pod, e.g. a local pipeline run, for the shared log pane."""

    def __init__(self, source: str, title: str, lines: list[str], state: str | None = None, detail: str = "") -> None:
        super().__init__()
        self.source = source
        self.title = title
        self.lines = lines
        self.state = state
        """A LogState value (streaming, ended, error ...) or None to leave the state as it is."""
        self.detail = detail


class Retitled(Message):
    """A widget view's rows changed, so the pane title the screen shows for it (its count) may have."""

    def can_replace(self, message: Message) -> bool:
        """A burst of redraws collapses to one retitle."""
        return isinstance(message, Retitled)
