"""The tests themselves: every test function checks something (a test that asserts nothing cannot fail).

A test passes this when its body (nested blocks included) has an `assert`, a `pytest.raises`/`fail`/`skip`/
`xfail`/`warns`, a call to a checking helper (`wait_for`, `until`, ...), or a call to a function of its own module
that has one of those. A test that checks by some other means says so with a comment on its `def` line or the
line above: `# meta: checks-by <how>` (the reason is required).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PYTEST_CHECKS = {"raises", "fail", "skip", "xfail", "warns", "deprecated_call", "approx", "importorskip"}
"""pytest calls that are checks in themselves."""

HELPER_CHECKS = {"wait_for", "until", "kftui_parses", "tool", "wait_steps_done", "select_pod"}
"""Shared helpers (tests/helpers.py and fixtures modules) that raise AssertionError when what they wait for fails."""

EXEMPTION = re.compile(r"#\s*meta:\s*checks-by\s+\S")


def _called_name(node: ast.Call) -> tuple[str | None, str]:
    """(receiver, name) of a call: `pytest.raises(...)` is ("pytest", "raises"), `until(...)` is (None, "until")."""
    func = node.func
    if isinstance(func, ast.Attribute):
        receiver = func.value.id if isinstance(func.value, ast.Name) else None
        return receiver, func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def _checks_directly(fn: ast.AST, local_checkers: set[str]) -> bool:
    """Whether a function body holds an assert or a call that checks."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise):
            return True  # an explicit `raise AssertionError(...)` on a failed condition
        if isinstance(node, ast.Call):
            receiver, name = _called_name(node)
            if receiver == "pytest" and name in PYTEST_CHECKS:
                return True
            if name in HELPER_CHECKS or name in local_checkers:
                return True
    return False


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level functions and methods of module-level classes."""
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found.extend(n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    return found


def unchecked_tests(source: str) -> list[str]:
    """Names of test functions in a module's source that check nothing and carry no exemption."""
    tree = ast.parse(source)
    lines = source.splitlines()
    functions = _functions(tree)
    helpers = [f for f in functions if not f.name.startswith("test")]
    checkers: set[str] = set()
    for _ in range(3):  # helpers calling helpers that check, a few levels deep
        checkers |= {f.name for f in helpers if _checks_directly(f, checkers)}
    unchecked = []
    for fn in functions:
        if not fn.name.startswith("test_"):
            continue
        first = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
        around = lines[max(first - 2, 0) : fn.lineno]
        if any(EXEMPTION.search(line) for line in around):
            continue
        if not _checks_directly(fn, checkers):
            unchecked.append(fn.name)
    return unchecked


def _test_modules() -> list[Path]:
    """Every test module in the suite."""
    return sorted(p for p in TESTS.rglob("test_*.py") if "__snapshots__" not in p.parts)


@pytest.mark.parametrize("path", _test_modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_every_test_checks_something(path: Path) -> None:
    assert unchecked_tests(path.read_text(encoding="utf-8")) == []


def test_the_meta_check_can_fail() -> None:
    source = (
        "import pytest\n"
        "def helper():\n    assert True\n"
        "def test_nothing():\n    x = 1\n"
        "def test_calls_helper():\n    helper()\n"
        "async def test_async_nothing():\n    await thing()\n"
        "def test_raises():\n    with pytest.raises(ValueError):\n        int('x')\n"
        "# meta: checks-by the snapshot file it writes\n"
        "def test_exempt():\n    pass\n"
        "def test_bare_exempt_marker():  # meta: checks-by\n    pass\n"
        "class TestThings:\n    def test_method(self):\n        print(1)\n"
    )
    assert unchecked_tests(source) == ["test_nothing", "test_async_nothing", "test_bare_exempt_marker", "test_method"]
