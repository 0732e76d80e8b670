"""Field ownership for server-side apply: managers own leaf fields; an applier changing another's field conflicts.

The model is the API server's, coarsened in one place: every list is atomic (owned whole), where the real
structured-merge-diff merges associative lists item by item. Maps merge key by key, `status` and the server's own
metadata are never owned, an applier that stops sending a field it alone owned removes it, and `--force-conflicts`
takes the field from its other owners. Conflict messages and causes follow the apiserver's wording.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str, ...]

SERVER_META = frozenset({"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                         "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"})


def leaves(obj: Mapping[str, Any]) -> dict[Path, Any]:
    """Every owned leaf of an object: path -> value (lists and empty maps are leaves)."""
    out: dict[Path, Any] = {}

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                walk(v, (*path, str(k)))
        else:
            out[path] = value

    for key, value in obj.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata" and isinstance(value, Mapping):
            for mk, mv in value.items():
                if mk not in SERVER_META:
                    walk(mv, ("metadata", str(mk)))
            continue
        walk(value, (str(key),))
    return out


def path_text(path: Path) -> str:
    """A path as the apiserver prints it: `.spec.template.spec.containers`."""
    return "".join(f".{p}" for p in path)


def _lookup(obj: Mapping[str, Any], path: Path) -> tuple[bool, Any]:
    """(found, value) of a path in an object."""
    cur: Any = obj
    for p in path:
        if not isinstance(cur, Mapping) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur


def _remove(obj: dict[str, Any], path: Path) -> None:
    """Delete a path from an object, dropping maps it leaves empty."""
    trail: list[tuple[dict[str, Any], str]] = []
    cur: Any = obj
    for p in path[:-1]:
        if not isinstance(cur, dict) or p not in cur:
            return
        trail.append((cur, p))
        cur = cur[p]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    for parent, key in reversed(trail):
        if isinstance(parent.get(key), dict) and not parent[key]:
            parent.pop(key)
        else:
            break


def merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply's merge: maps merge key by key, everything else (lists included) replaces; shares the inputs' parts."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and value:
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Manager:
    """One managedFields entry's identity: an applier (by name) or an updater (by name and apiVersion)."""

    name: str
    operation: str
    api_version: str

    def shown(self) -> str:
        """How the apiserver names a manager in a conflict: `"kubectl"` or `"helm" using apps/v1`."""
        quoted = json.dumps(self.name)
        return f"{quoted} using {self.api_version}" if self.operation == "Update" else quoted


@dataclass
class Ownership:
    """Who owns which leaves of one object."""

    owners: dict[Manager, set[Path]] = field(default_factory=dict)
    times: dict[Manager, str] = field(default_factory=dict)

    def managed_fields(self) -> list[dict[str, Any]]:
        """metadata.managedFields in the API's FieldsV1 shape."""
        out: list[dict[str, Any]] = []
        for m, paths in self.owners.items():
            if not paths:
                continue
            tree: dict[str, Any] = {}
            for p in sorted(paths):
                node = tree
                for part in p:
                    node = node.setdefault(f"f:{part}", {})
            entry: dict[str, Any] = {"manager": m.name, "operation": m.operation, "apiVersion": m.api_version,
                                     "time": self.times.get(m, ""), "fieldsType": "FieldsV1", "fieldsV1": tree}
            out.append(entry)
        return out


@dataclass(frozen=True, slots=True)
class Conflict:
    """One field another manager owns with a different value."""

    manager: Manager
    path: Path


class ApplyConflictError(Exception):
    """An apply changed fields other managers own: the 409 body's message and causes."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        """Keep the conflicts in the apiserver's order (by manager, then path)."""
        self.conflicts = sorted(conflicts, key=lambda c: (c.manager.shown(), c.path))
        super().__init__(self.message())

    def message(self) -> str:
        """`Apply failed with N conflict(s): ...`, worded as the apiserver words it."""
        cs = self.conflicts
        if len(cs) == 1:
            return f"Apply failed with 1 conflict: conflict with {cs[0].manager.shown()}: {path_text(cs[0].path)}"
        lines: list[str] = []
        last: Manager | None = None
        for c in cs:
            if c.manager != last:
                lines.append(f"conflicts with {c.manager.shown()}:")
                last = c.manager
            lines.append(f"- {path_text(c.path)}")
        return f"Apply failed with {len(cs)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict[str, str]]:
        """The Status causes: one FieldManagerConflict per field."""
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {c.manager.shown()}",
                 "field": path_text(c.path)} for c in self.conflicts]


def _owned_prefix(paths: set[Path], path: Path) -> Iterator[Path]:
    """Owned paths equal to, above or below a path (a whole list owned vs. a field inside it)."""
    for p in paths:
        n = min(len(p), len(path))
        if p[:n] == path[:n]:
            yield p


def apply(current: Mapping[str, Any] | None, applied: Mapping[str, Any], own: Ownership, manager: Manager,
          force: bool, now: str) -> dict[str, Any]:
    """The object after `manager` applies `applied` (ApplyConflictError unless forced); updates `own` in place."""
    want = leaves(applied)
    have = leaves(current) if current is not None else {}
    conflicts: list[Conflict] = []
    for other, paths in own.owners.items():
        if other == manager:
            continue
        for path in want:
            for owned in _owned_prefix(paths, path):
                if have.get(owned, _MISSING) != _value_at(want, applied, owned):
                    conflicts.append(Conflict(other, owned))
    conflicts = list(dict.fromkeys(conflicts))
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    for c in conflicts:
        own.owners[c.manager].discard(c.path)
    before = own.owners.get(manager, set())
    result = merge(current or {}, applied)
    dropped = [gone for gone in before - set(want)
               if not any(gone in paths for m, paths in own.owners.items() if m != manager)]
    if dropped:
        result = copy.deepcopy(result)  # removal edits maps in place; never those the old object still holds
        for gone in dropped:
            _remove(result, gone)
    own.owners[manager] = set(want)
    own.times[manager] = now
    _forget_empty(own)
    return result


_MISSING = object()


def _value_at(want: Mapping[Path, Any], applied: Mapping[str, Any], path: Path) -> Any:
    """The applied value at a path (a leaf, or the subtree above leaves), or a marker when not applied."""
    if path in want:
        return want[path]
    found, value = _lookup(applied, path)
    return value if found else _MISSING


def update(old: Mapping[str, Any] | None, new: Mapping[str, Any], own: Ownership, manager: Manager,
           now: str) -> None:
    """A create, update or patch: the manager takes every leaf it changed (or, on create, every leaf)."""
    after = leaves(new)
    before = leaves(old) if old is not None else {}
    changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
    if not changed:
        return
    for other, paths in own.owners.items():
        if other != manager:
            paths.difference_update({p for p in paths if any(_owned_prefix(changed, p))})
    own.owners.setdefault(manager, set()).update(changed)
    gone = set(before) - set(after)
    for owned in own.owners.values():
        owned.difference_update(gone)
    own.times[manager] = now
    _forget_empty(own)


def _forget_empty(own: Ownership) -> None:
    """Managers left owning nothing disappear from managedFields, as on a real server."""
    for m in [m for m, paths in own.owners.items() if not paths]:
        own.owners.pop(m)
        own.times.pop(m, None)


def default_manager(user_agent: str) -> str:
    """The field manager the apiserver defaults from a User-Agent (`kubectl-patch/v1.32 ...` -> `kubectl-patch`)."""
    name = user_agent.split("/", 1)[0].strip() or "unknown"
    return name[:128]
