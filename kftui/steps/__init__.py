"""The setup wizard's steps, discovered from this package: one module per step, each exporting STEP."""

from __future__ import annotations

import importlib
import pkgutil

from kftui.steps.base import Step, StepContext, after_steps, missing_requirements

__all__ = ["Step", "StepContext", "after_steps", "all_steps", "missing_requirements"]

_SKIP = {"base"}


def all_steps() -> list[Step]:
    """Every step in wizard order; adding a step is adding a module, nothing else."""
    found: list[Step] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        step = vars(module).get("STEP")
        if isinstance(step, Step):
            found.append(step)
    return sorted(found, key=lambda s: (s.order, s.id))
