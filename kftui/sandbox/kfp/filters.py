"""KFP list filters (a JSON-serialised `Filter` proto), sorting and paging, as the API server applies them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kftui.sandbox.kfp.state import KfpError

# The kfp SDK sends operations as numbers, the UI and curl users as names: accept both.
_OPERATIONS = {
    0: "OPERATION_UNSPECIFIED",
    1: "EQUALS",
    2: "NOT_EQUALS",
    3: "GREATER_THAN",
    5: "GREATER_THAN_EQUALS",
    6: "LESS_THAN",
    7: "LESS_THAN_EQUALS",
    8: "IN",
    9: "IS_SUBSTRING",
}

Getter = Callable[[Any], Any]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _value(predicate: dict[str, Any]) -> tuple[Any, bool]:
    """The predicate's operand and whether it is a list (for IN)."""
    for field in ("string_value", "int_value", "long_value", "timestamp_value"):
        for key in (field, _camel(field)):
            if key in predicate:
                return predicate[key], False
    for field in ("string_values", "int_values", "long_values"):
        for key in (field, _camel(field)):
            if key in predicate:
                values = predicate[key]
                return (values.get("values", []) if isinstance(values, dict) else values), True
    return None, False


def _normal(value: Any) -> Any:
    """Compare numbers as numbers and everything else as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return text


def parse_filter(raw: str | None, fields: dict[str, Getter]) -> Callable[[Any], bool]:
    """A predicate over resources for a filter string, or KFP's 400 for a bad filter."""
    if not raw:
        return lambda _item: True
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KfpError(400, f"Invalid input error: failed to parse the filter {raw!r}: {exc}") from exc
    checks: list[Callable[[Any], bool]] = []
    for predicate in body.get("predicates") or []:
        key = str(predicate.get("key", ""))
        getter = fields.get(key)
        if getter is None:
            known = ", ".join(sorted(fields))
            raise KfpError(400, f"Invalid input error: unsupported filter key {key!r} (known: {known})")
        operation = predicate.get("operation", "EQUALS")
        op = _OPERATIONS.get(operation, "") if isinstance(operation, int) else str(operation).upper()
        operand, is_list = _value(predicate)
        checks.append(_check(getter, op, operand, is_list))
    return lambda item: all(check(item) for check in checks)


def _check(getter: Getter, op: str, operand: Any, is_list: bool) -> Callable[[Any], bool]:
    if op == "IN":
        wanted = {_normal(v) for v in (operand if is_list else [operand])}
        return lambda item: _normal(getter(item)) in wanted
    if op == "IS_SUBSTRING":
        return lambda item: str(operand) in str(getter(item))
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "EQUALS": lambda a, b: a == b,
        "NOT_EQUALS": lambda a, b: a != b,
        "GREATER_THAN": lambda a, b: a > b,
        "GREATER_THAN_EQUALS": lambda a, b: a >= b,
        "LESS_THAN": lambda a, b: a < b,
        "LESS_THAN_EQUALS": lambda a, b: a <= b,
    }
    fn = compare.get(op)
    if fn is None:
        raise KfpError(400, f"Invalid input error: unsupported filter operation {op!r}")
    want = _normal(operand)

    def check(item: Any) -> bool:
        have = _normal(getter(item))
        try:
            return fn(have, want)
        except TypeError:
            return fn(str(have), str(want))

    return check


def sort_items(items: list[Any], sort_by: str, fields: dict[str, Getter], default: str) -> list[Any]:
    """Sort by `field` or `field desc`, as KFP's sort_by says; unknown fields are a 400."""
    spec = (sort_by or default).strip().split()
    key = spec[0]
    descending = len(spec) > 1 and spec[1].lower() == "desc"
    getter = fields.get(key)
    if getter is None:
        raise KfpError(400, f"Invalid input error: cannot sort by {key!r}")
    return sorted(items, key=lambda item: str(getter(item)), reverse=descending)
