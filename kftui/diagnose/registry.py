"""Rules and their discovery: adding a family of errors is adding one module under `rules/`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from kftui.core.diagnosis import Diagnosis
from kftui.diagnose.normalize import Problem, normalize
from kftui.diagnose.values import Context

Check = Callable[[Problem, Context], Diagnosis | None]


@dataclass(frozen=True)
class Rule:
    """One recognisable cause; higher priority wins when several rules match the same text."""

    cause: str
    priority: int
    check: Check
    name: str

    def match(self, text: Problem | str, ctx: Context | None = None) -> Diagnosis | None:
        """Run the check; a rule that answers with another cause id is a bug, so it is refused."""
        problem = normalize(text) if isinstance(text, str) else text
        found = self.check(problem, ctx or {})
        if found is not None and found.cause != self.cause:
            raise ValueError(f"rule {self.name} returned cause {found.cause!r}, declared {self.cause!r}")
        return found


def rule(cause: str, priority: int = 50) -> Callable[[Check], Rule]:
    """Turn a check function into a Rule that discovery will find in its module."""

    def wrap(check: Check) -> Rule:
        return Rule(cause=cause, priority=priority, check=check, name=f"{check.__module__}.{check.__name__}")

    return wrap


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every Rule defined at module level in `kftui.diagnose.rules`, best first."""
    from kftui.diagnose import rules as package

    found: list[Rule] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(v for v in vars(module).values() if isinstance(v, Rule))
    unique = {r.name: r for r in found}.values()  # a rule imported into a second module counts once
    return tuple(sorted(unique, key=lambda r: (-r.priority, r.cause, r.name)))
