"""Pipeline parameters typed from `k=v` text and loading a pipeline from a .py or compiled YAML file.

Light on imports at module level: the local runner child imports it before kfp is loaded.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kftui.errors import UsageError

# pipeline-spec parameterType (compiled YAML) and SDK type names (component.inputs) -> Python kind.
_KINDS = {
    "STRING": "str",
    "String": "str",
    "NUMBER_INTEGER": "int",
    "Integer": "int",
    "NUMBER_DOUBLE": "float",
    "Float": "float",
    "BOOLEAN": "bool",
    "Boolean": "bool",
    "LIST": "json",
    "List": "json",
    "STRUCT": "json",
    "Dict": "json",
}


def split_params(pairs: Iterable[str]) -> dict[str, str]:
    """`["epochs=3", "lr=0.1"]` -> dict; a pair without `=` is a UsageError naming it."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"parameter {pair!r} must look like name=value")
        out[key.strip()] = value
    return out


def coerce(name: str, value: str, type_name: str | None) -> Any:
    """One parameter's text as the type the pipeline declares; untyped values are guessed from JSON."""
    kind = _KINDS.get(type_name or "", "guess")
    try:
        if kind == "str":
            return value
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            lowered = value.strip().lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(value)
            return lowered in {"true", "1", "yes"}
        if kind == "json":
            return json.loads(value)
    except ValueError as exc:
        raise UsageError(f"parameter {name}={value!r} is not a valid {type_name}") from exc
    try:
        return json.loads(value)
    except ValueError:
        return value


def coerce_all(raw: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """Every parameter typed; names the pipeline does not declare are a UsageError listing the known ones."""
    unknown = sorted(set(raw) - set(types)) if types else []
    if unknown:
        known = ", ".join(sorted(types)) or "none"
        raise UsageError(f"unknown pipeline parameter(s) {', '.join(unknown)} (the pipeline takes: {known})")
    return {k: coerce(k, v, types.get(k)) for k, v in raw.items()}


def spec_parameter_types(spec: Mapping[str, Any]) -> dict[str, str]:
    """Parameter name -> parameterType from a compiled pipeline spec's root inputDefinitions."""
    root = spec.get("root") or {}
    params = (root.get("inputDefinitions") or {}).get("parameters") or {}
    return {str(k): str((v or {}).get("parameterType", "")) for k, v in params.items()}


def missing_required(spec: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """Root parameters with no default, not optional and not given: the server refuses the run without them."""
    root = spec.get("root") or {}
    params = (root.get("inputDefinitions") or {}).get("parameters") or {}
    return sorted(
        str(k)
        for k, v in params.items()
        if k not in given and not (v or {}).get("isOptional") and "defaultValue" not in (v or {})
    )


def require_all(spec: Mapping[str, Any], given: Mapping[str, Any]) -> None:
    """A UsageError naming the parameters the pipeline needs and was not given (before any call to the server)."""
    missing = missing_required(spec, given)
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"the pipeline needs parameter(s) {names} (no default): pass -p {missing[0]}=VALUE")


def load_pipeline_object(path: Path, name: str | None = None) -> Any:
    """The `@dsl.pipeline` object defined in a .py file (by name when there are several)."""
    from kfp.dsl.graph_component import GraphComponent

    if not path.is_file():
        raise UsageError(f"no pipeline file at {path}")
    module_name = f"kftui_user_pipeline_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any error is theirs to see, with its type
        raise UsageError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    found = {attr: value for attr, value in vars(module).items() if isinstance(value, GraphComponent)}
    if name is not None:
        if name not in found:
            raise UsageError(f"{path} has no pipeline named {name!r} (found: {', '.join(found) or 'none'})")
        return found[name]
    if len(found) != 1:
        listed = ", ".join(sorted(found)) or "none"
        raise UsageError(f"{path} defines {len(found)} pipelines ({listed}); say which one with FILE:NAME")
    return next(iter(found.values()))


def split_target(target: str) -> tuple[Path, str | None]:
    """`file.py:my_pipeline` -> (path, name); a plain path -> (path, None)."""
    text, sep, name = target.rpartition(":")
    if sep and text.endswith(".py") and name.isidentifier():
        return Path(text), name
    return Path(target), None
