"""The layering rules and the light `--help` are checked like any other behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("textual", "kubernetes", "kfp", "google.cloud", "google.auth", "grpc", "kmock", "aiohttp")


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def _modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_cli_import_loads_no_heavy_module() -> None:
    loaded = _modules_after("import kftui.cli")
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


def test_help_runs_without_heavy_imports() -> None:
    code = "import sys\nsys.argv=['kftui','--help']\nfrom kftui.cli import cli\ntry:\n    cli()\nexcept SystemExit:\n    pass"
    loaded = _modules_after(code)
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "click" in loaded


def test_every_step_module_exports_a_step() -> None:
    import importlib
    import pkgutil

    import kftui.steps as steps_pkg
    from kftui.steps import Step, all_steps

    names = [
        i.name for i in pkgutil.iter_modules(steps_pkg.__path__) if i.name != "base" and not i.name.startswith("_")
    ]
    for name in names:
        module = importlib.import_module(f"kftui.steps.{name}")
        assert isinstance(getattr(module, "STEP", None), Step), f"kftui/steps/{name}.py must export STEP"
    assert len(all_steps()) == len(names)
