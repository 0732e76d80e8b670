"""The README's screenshots can be made again: docs/screenshots.py runs against the still sandbox and draws both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import tool

ROOT = Path(__file__).resolve().parents[1]


def test_the_readmes_screenshots_can_be_made_again(tmp_path: Path) -> None:
    tool("gcloud")  # the account step in the setup picture asks the real gcloud
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "KUBECONFIG"))}
    env["HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "screenshots.py"), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    setup, watch = (tmp_path / "setup.svg").read_text(), (tmp_path / "watch.svg").read_text()
    assert setup.startswith("<svg") and watch.startswith("<svg")
    assert "Account" in setup and "Permissions" in setup
    assert "gpu-notebook-0" in watch and "Why" in watch
