"""Field ownership for server-side apply: managers own fields; an applier changing another's field conflicts.

The model is the API server's structured-merge-diff, for the built-in schemas the deploy meets: keyed lists
(`x-kubernetes-list-type: map`) merge item by item, matched by their keys (containers by name, ports by
containerPort and protocol, volumeMounts by mountPath, ...), `set` lists by value, every other list is atomic
(owned whole). Each item is owned as such (`k:{"name":"x"}` with its `.` marker) and field by field, so two
managers can each own their own container, and a conflict names the one item field (`.spec...containers[name="x"]
.image`). Maps merge key by key, `status` and the server's own metadata are never owned, an applier that stops
sending a field (or an item) it alone owned removes it, and `--force-conflicts` takes only the conflicting fields.
Custom resources are treated as schemaless (atomic lists), as the server does for CRDs that preserve unknown fields.
Conflict messages and causes follow the apiserver's wording.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = tuple[str, str]
"""A list item in a path: ("k", '{"name":"x"}') for a keyed list, ("v", '"x"') for a set."""
Element = str | Item
Path = tuple[Element, ...]

SERVER_META = frozenset({"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                         "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"})

# --------------------------------------------------------------------------------------------------
# The schema: which lists are keyed (from the Kubernetes API's +listType / +listMapKey markers)
# --------------------------------------------------------------------------------------------------

POD_SPEC_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",), "volumes": ("name",),
    "imagePullSecrets": ("name",), "hostAliases": ("ip",), "resourceClaims": ("name",),
    "schedulingGates": ("name",), "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
"""PodSpec's keyed lists (tolerations, readinessGates and the rest are atomic)."""
CONTAINER_LISTS: dict[str, tuple[str, ...]] = {
    "ports": ("containerPort", "protocol"), "env": ("name",), "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
}
"""Container's keyed lists (args, command, envFrom are atomic)."""
CONTAINER_FIELDS = frozenset({"containers", "initContainers", "ephemeralContainers"})
POD_SPECS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",), "PodTemplate": ("template", "spec"),
    **dict.fromkeys(("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Job"),
                    ("spec", "template", "spec")),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each built-in kind carries a PodSpec."""
WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}
"""Key fields the schema defaults (a port without a protocol is keyed as TCP)."""


ListSchema = Mapping[tuple[str, ...], tuple[str, ...]]
"""A custom resource's keyed lists: field path (`*` for any key of a map) -> keys, () for a set."""


@dataclass(frozen=True, slots=True)
class Schema:
    """What the list rules are looked up by: the kind, and for a custom resource its CRD's lists."""

    kind: str
    custom: ListSchema | None = None
    """None for built-in kinds (the table above); a CRD's `x-kubernetes-list-type`s for its resources."""


Kind = Schema | str


def _custom_keys(custom: ListSchema, where: tuple[str, ...]) -> tuple[str, ...] | None:
    """A CRD's rule for this path, `*` standing for any key of an additionalProperties map."""
    found = custom.get(where)
    if found is not None:
        return found
    for pattern, keys in custom.items():
        if "*" in pattern and len(pattern) == len(where) and all(p in ("*", w) for p, w in zip(pattern, where,
                                                                                                  strict=True)):
            return keys
    return None


def list_keys(kind: Kind, where: Sequence[str]) -> tuple[str, ...] | None:
    """The keys of a keyed list at this field path, () for a set, None for an atomic list."""
    where = tuple(where)
    if isinstance(kind, Schema):
        if kind.custom is not None and where[:1] != ("metadata",):
            return _custom_keys(kind.custom, where)
        kind = kind.kind
    if where == ("metadata", "ownerReferences"):
        return ("uid",)
    if where == ("metadata", "finalizers"):
        return ()
    if kind in WEBHOOK_KINDS and where == ("webhooks",):
        return ("name",)
    if kind == "Service" and where == ("spec", "ports"):
        return ("port", "protocol")
    anchor = POD_SPECS.get(kind)
    if anchor is not None and where[:len(anchor)] == anchor:
        rest = where[len(anchor):]
        if len(rest) == 1:
            return POD_SPEC_LISTS.get(rest[0])
        if len(rest) == 2 and rest[0] in CONTAINER_FIELDS:
            return CONTAINER_LISTS.get(rest[1])
    return None


def _compact(value: Any) -> str:
    """JSON as the apiserver writes a key in managedFields (no spaces, sorted names)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def items_of(kind: Kind, where: Sequence[str], items: Sequence[Any], live: bool = False) -> list[Item] | None:
    """Each item's path element, or None when the list is atomic (or its items cannot be keyed: then the server
    refuses an applied list, and kftui's sandbox keeps it whole)."""
    keys = list_keys(kind, where)
    if keys is None:
        return None
    out: list[Item] = []
    for item in items:
        if keys == ():
            out.append(("v", _compact(item)))
            continue
        if not isinstance(item, Mapping):
            return None
        key: dict[str, Any] = {}
        for k in keys:
            if k in item:
                key[k] = item[k]
            elif k in KEY_DEFAULTS:
                key[k] = KEY_DEFAULTS[k]
            else:
                return None
        out.append(("k", _compact(key)))
    if not live and len(set(out)) != len(out):
        return None
    return out


def _kind(*objs: Mapping[str, Any] | None) -> str:
    """The kind the schema is looked up by (the applied object's, else the live one's)."""
    for obj in objs:
        if obj and obj.get("kind"):
            return str(obj["kind"])
    return ""


def _fields(path: Path) -> tuple[str, ...]:
    """A path's field names only (list items left out): where the schema is looked up."""
    return tuple(e for e in path if isinstance(e, str))


PRESENT = "\x00item"
"""The value of an item's own path (`.`): the item exists."""


def leaves(obj: Mapping[str, Any], custom: ListSchema | None = None) -> dict[Path, Any]:
    """Every owned path of an object: leaf fields with their values, keyed-list items themselves (PRESENT), set
    items, atomic lists and empty maps whole."""
    out: dict[Path, Any] = {}
    kind = Schema(_kind(obj), custom)

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, Mapping) and value:
            for k, v in value.items():
                walk(v, (*path, str(k)))
        elif isinstance(value, list) and value:
            elements = items_of(kind, _fields(path), value)
            if elements is None:
                out[path] = value
                return
            for element, item in zip(elements, value, strict=True):
                here = (*path, element)
                out[here] = PRESENT if element[0] == "k" else item
                if element[0] == "k":
                    for k, v in item.items():
                        walk(v, (*here, str(k)))
        elif isinstance(value, list) and list_keys(kind, _fields(path)) is not None:
            return  # an empty keyed list owns nothing (structured-merge-diff's rule)
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


def _element_text(element: Element) -> str:
    """One path element as the apiserver prints it in a conflict."""
    if isinstance(element, str):
        return f".{element}"
    kind, text = element
    if kind == "v":
        return f"[={text}]"
    key = json.loads(text)
    return "[" + ",".join(f"{k}={_compact(v)}" for k, v in key.items()) + "]"


def path_text(path: Path) -> str:
    """A path as the apiserver prints it: `.spec.template.spec.containers[name="web"].image`."""
    return "".join(_element_text(p) for p in path)


def _sort_key(path: Path) -> tuple[tuple[int, str], ...]:
    """Paths sort by their elements, fields before items."""
    return tuple((0, e) if isinstance(e, str) else (1, e[0] + e[1]) for e in path)


def _find(items: list[Any], kind: Kind, where: tuple[str, ...], element: Item) -> int | None:
    """The index of the item a path element names in a list, if any."""
    elements = items_of(kind, where, items, live=True)
    if elements is None:
        return None
    try:
        return elements.index(element)
    except ValueError:
        return None


def _lookup(obj: Mapping[str, Any], path: Path, kind: Kind = "") -> tuple[bool, Any]:
    """(found, value) of a path in an object."""
    cur: Any = obj
    kind = kind or _kind(obj)
    for n, p in enumerate(path):
        if isinstance(p, str):
            if not isinstance(cur, Mapping) or p not in cur:
                return False, None
            cur = cur[p]
        else:
            index = _find(cur, kind, _fields(path[:n]), p) if isinstance(cur, list) else None
            if index is None:
                return False, None
            cur = cur[index]
    return True, PRESENT if path and not isinstance(path[-1], str) and path[-1][0] == "k" else cur


def _remove(obj: dict[str, Any], path: Path, kind: Kind) -> None:
    """Delete a path (a field or a list item) from an object, dropping maps and lists it leaves empty."""
    trail: list[tuple[Any, Any]] = []
    cur: Any = obj
    for n, p in enumerate(path):
        if isinstance(p, str):
            if not isinstance(cur, dict) or p not in cur:
                return
            trail.append((cur, p))
            cur = cur[p]
        else:
            index = _find(cur, kind, _fields(path[:n]), p) if isinstance(cur, list) else None
            if index is None:
                return
            trail.append((cur, index))
            cur = cur[index]
    parent, at = trail.pop()
    parent.pop(at)
    while trail:
        parent, at = trail.pop()
        if isinstance(parent[at], dict | list) and not parent[at]:
            parent.pop(at)
        else:
            break


def merge(base: Mapping[str, Any], patch: Mapping[str, Any], kind: Kind = "", where: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    """Apply's merge: maps key by key, keyed and set lists item by item, atomic lists replaced; shares the inputs'
    parts."""
    kind = kind or _kind(patch, base)
    out = dict(base)
    for key, value in patch.items():
        current = out.get(key)
        here = (*where, str(key))
        if isinstance(value, Mapping) and isinstance(current, Mapping) and value:
            out[key] = merge(current, value, kind, here)
        elif isinstance(value, list) and isinstance(current, list) and value:
            out[key] = _merge_list(current, value, kind, here)
        else:
            out[key] = value
    return out


def _merge_list(lhs: list[Any], rhs: list[Any], kind: Kind, where: tuple[str, ...]) -> list[Any]:
    """structured-merge-diff's order: shared items in the applied order, live-only items where they stood, new
    applied items where the applier put them."""
    left, right = items_of(kind, where, lhs, live=True), items_of(kind, where, rhs)
    if left is None or right is None:
        return rhs
    left_items: dict[Item, Any] = {}
    for element, item in zip(left, lhs, strict=True):
        left_items.setdefault(element, item)
    right_items = dict(zip(right, rhs, strict=True))

    def merged_item(element: Item) -> Any:
        mine, theirs = left_items.get(element), right_items[element]
        if element[0] == "k" and isinstance(mine, Mapping) and isinstance(theirs, Mapping):
            return merge(mine, theirs, kind, where)
        return theirs

    shared = [e for e in right if e in left_items]
    upcoming = iter(shared)
    next_shared = next(upcoming, None)
    done: set[Item] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(left) or ri < len(right):
        if li < len(left) and ri < len(right):
            element = left[li]
            if element == right[ri]:
                done.add(element)
                out.append(merged_item(element))
                li, ri = li + 1, ri + 1
                next_shared = next(upcoming, None)
                continue
            if element in right_items and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(left):
            element = left[li]
            if element not in right_items:
                out.append(lhs[li])
                li += 1
                continue
            if element in done:
                li += 1
        if ri < len(right):
            element = right[ri]
            done.add(element)
            out.append(merged_item(element))
            ri += 1
            if next_shared == element:
                next_shared = next(upcoming, None)
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
        """metadata.managedFields in the API's FieldsV1 shape (`f:` fields, `k:`/`v:` items, `.` for an item
        that is owned itself and has owned fields)."""
        out: list[dict[str, Any]] = []
        for m, paths in self.owners.items():
            if not paths:
                continue
            tree: dict[str, Any] = {}
            for p in sorted(paths, key=_sort_key):
                node = tree
                for part in p:
                    node = node.setdefault(f"f:{part}" if isinstance(part, str) else f"{part[0]}:{part[1]}", {})
                if not isinstance(p[-1], str):
                    node.setdefault(".", {})
            _drop_lone_dots(tree)
            entry: dict[str, Any] = {"manager": m.name, "operation": m.operation, "apiVersion": m.api_version,
                                     "time": self.times.get(m, ""), "fieldsType": "FieldsV1", "fieldsV1": tree}
            out.append(entry)
        return out


def _drop_lone_dots(tree: dict[str, Any]) -> None:
    """An item owned without any of its fields is `k:{...}: {}`; with fields, it carries `.: {}` beside them."""
    for key, child in tree.items():
        if key == ".":
            continue
        if set(child) == {"."}:
            child.clear()
        else:
            _drop_lone_dots(child)


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


def _clashes(current: Mapping[str, Any] | None, applied: Mapping[str, Any], want: Mapping[Path, Any],
             path: Path, owned: Path, kind: Kind) -> bool:
    """Whether applying `path` changes the value of `owned` (another manager's): the same field with another
    value, a field inside an atomic value the applier replaces, or an atomic value above the applier's field."""
    if want.get(path) == PRESENT and len(owned) > len(path):
        return False  # the applier names the item; fields of it it does not send stay the other's
    before = _lookup(current, owned, kind) if current is not None else (False, None)
    after = (True, want[owned]) if owned in want else _lookup(applied, owned, kind)
    if not after[0]:
        return False  # the applier does not set that field: no change to it
    return before != after


def apply(current: Mapping[str, Any] | None, applied: Mapping[str, Any], own: Ownership, manager: Manager,
          force: bool, now: str, custom: ListSchema | None = None) -> dict[str, Any]:
    """The object after `manager` applies `applied` (ApplyConflictError unless forced); updates `own` in place.

    `custom` is a custom resource's list rules from its CRD (None: the built-in schemas)."""
    kind = Schema(_kind(applied, current), custom)
    want = leaves(applied, custom)
    conflicts: list[Conflict] = []
    for other, paths in own.owners.items():
        if other == manager:
            continue
        for path in want:
            for owned in _owned_prefix(paths, path):
                if _clashes(current, applied, want, path, owned, kind):
                    conflicts.append(Conflict(other, owned))
    conflicts = list(dict.fromkeys(conflicts))
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    for c in conflicts:
        own.owners[c.manager].discard(c.path)
    before = own.owners.get(manager, set())
    result = merge(current or {}, applied, kind)
    others = [paths for m, paths in own.owners.items() if m != manager]
    dropped = [gone for gone in before - set(want)
               if not any(p[:len(gone)] == gone for paths in others for p in paths)]
    if dropped:
        result = copy.deepcopy(result)  # removal edits maps in place; never those the old object still holds
        removed: list[Path] = []
        for gone in sorted(dropped, key=len):  # an item before its fields: once it goes, they go with it
            if any(gone[:len(r)] == r for r in removed) or _is_key_field(gone):
                continue
            _remove(result, gone, kind)
            removed.append(gone)
    own.owners[manager] = set(want)
    own.times[manager] = now
    _forget_empty(own)
    return result


def _is_key_field(path: Path) -> bool:
    """A key field of a list item (which stays while any of its fields is owned: the key names the item)."""
    if len(path) < 2 or isinstance(path[-2], str) or path[-2][0] != "k" or not isinstance(path[-1], str):
        return False
    return path[-1] in json.loads(path[-2][1])


_MISSING = object()


def update(old: Mapping[str, Any] | None, new: Mapping[str, Any], own: Ownership, manager: Manager,
           now: str, custom: ListSchema | None = None) -> None:
    """A create, update or patch: the manager takes every field it changed (or, on create, every field)."""
    after = leaves(new, custom)
    before = leaves(old, custom) if old is not None else {}
    changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
    if not changed:
        return
    for other, paths in own.owners.items():
        if other != manager:
            paths.difference_update({p for p in paths if any(p[:len(c)] == c for c in changed)})
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
