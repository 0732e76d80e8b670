"""The runs view's model: server and local runs by key, newest first, filtered by state and experiment (no Textual).

Each poll replaces the rows (the latest state of every run wins); a run just submitted is filed at once. What the
table shows is a view over the model, computed in one pass and cached until the rows or the filters change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from kftui.core.runs import LocalRunRecord, RunRow, RunState

Item = RunRow | LocalRunRecord
LOCAL = "local"
"""The experiment of runs made with `kftui runs local` (kfp.local on this machine)."""
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def item_key(item: Item) -> str:
    """`run:ID` for a server run, `local:ID` for a local one (ids of the two kinds may collide)."""
    return f"local:{item.id}" if isinstance(item, LocalRunRecord) else f"run:{item.id}"


def experiment_of(item: Item) -> str:
    """The experiment column (local runs count as one experiment)."""
    return LOCAL if isinstance(item, LocalRunRecord) else item.experiment


def started(item: Item) -> datetime:
    """When a run began (the sort key; unknown sorts last)."""
    moment = item.started if isinstance(item, LocalRunRecord) else item.created
    return moment or _EARLIEST


class RunsModel:
    """Every run the view knows, by key; `visible()` is the filtered, newest-first view the table draws."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self._order: list[str] = []
        self.version = 0
        """Bumped by every change of the rows."""
        self._visible: tuple[tuple[int, frozenset[RunState] | None, str | None], list[str]] | None = None

    def replace(self, items: Iterable[Item]) -> None:
        """A poll: exactly these runs, each in its latest state."""
        self.items = {item_key(i): i for i in items}
        self._resort()

    def put(self, item: Item) -> str:
        """One run now (just submitted); the next poll confirms it. Returns its key."""
        key = item_key(item)
        self.items[key] = item
        self._resort()
        return key

    def _resort(self) -> None:
        self._order = sorted(self.items, key=lambda k: started(self.items[k]), reverse=True)
        self.version += 1

    def visible(self, states: frozenset[RunState] | None = None, experiment: str | None = None) -> list[str]:
        """Keys passing both filters, newest first (cached until the rows or the filters change)."""
        wanted = (self.version, states, experiment)
        if self._visible is not None and self._visible[0] == wanted:
            return self._visible[1]
        keys = [k for k in self._order
                if (states is None or self.items[k].state in states)
                and (experiment is None or experiment_of(self.items[k]) == experiment)]
        self._visible = (wanted, keys)
        return keys

    def experiments(self) -> list[str]:
        """Every experiment seen, sorted (what `e` cycles through)."""
        return sorted({experiment_of(i) for i in self.items.values()})

    def __len__(self) -> int:
        return len(self.items)
