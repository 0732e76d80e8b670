"""Regenerate the README's screenshots from the still sandbox: `.venv/bin/python docs/screenshots.py [DIR]`.

DIR defaults to this folder, where the README finds them; tests/test_screenshots.py takes them into a temporary one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


async def until(pilot: Any, condition: Any, timeout: float = 60) -> None:
    """Wait on the app's state, not on the clock."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise SystemExit(f"the screen never reached the state to photograph ({condition.__name__})")


async def shoot(sandbox: Any, out: Path = HERE) -> None:
    """Setup mode with the demo's findings, then watch mode on the stuck GPU notebook."""
    from kftui.app import KftuiApp
    from kftui.factory import Services

    app = KftuiApp(services=Services(now=lambda: sandbox.epoch), mode="setup", persist=False)
    async with app.run_test(size=(120, 36)) as pilot:
        def settled() -> bool:
            views = app.screen.views
            return bool(views) and all(v.phase in ("done", "waiting") for v in views.values())

        await until(pilot, settled)
        await pilot.press("down", "down", "down")
        await pilot.pause(0.3)
        app.save_screenshot(str(out / "setup.svg"))
    app = KftuiApp(services=Services(now=lambda: sandbox.epoch), mode="watch", persist=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await until(pilot, lambda: len(screen.rows) >= 10)
        table = screen.query_one("#pods")
        table.move_to("kubeflow-user-example-com/gpu-notebook-0")
        await until(pilot, lambda: "Why" in str(screen.query_one("#details").render()))
        await pilot.pause(0.3)
        app.save_screenshot(str(out / "watch.svg"))


def main(out: Path = HERE) -> None:
    """Start the still sandbox, point the environment at it, take both pictures into `out`."""
    from kftui.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox("demo", Path(tmp) / "sandbox", still=True)
        os.environ.update(sandbox.start())
        os.environ["XDG_STATE_HOME"] = tmp
        try:
            asyncio.run(shoot(sandbox, out))
        finally:
            sandbox.stop()
    print(f"wrote {out / 'setup.svg'} and {out / 'watch.svg'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
