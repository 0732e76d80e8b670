"""A notebook made from kftui coming up in the Notebooks view, with the reason it waits (80x24 and 160x50)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.cluster.kubeconfig import api_client
from kftui.cluster.spawn import create_notebook
from kftui.core.spawner import NotebookSpec
from kftui.factory import Services
from kftui.sandbox import Sandbox
from kftui.widgets.notebooks import NotebooksView
from tests.helpers import settled, until, wait_for
from tests.ui.test_watch_screen import PROFILE

EPOCH = datetime(2026, 4, 12, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def spawned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A still world where a GPU notebook was just made through the API and cannot get a GPU."""
    sb = Sandbox("demo", tmp_path_factory.mktemp("notebook-snapshots"), still=True, epoch=EPOCH)
    sb.start()
    client = api_client(path=sb.env["KUBECONFIG"])
    create_notebook(client, NotebookSpec("gpu-lab", PROFILE, "ghcr.io/kubeflow/kubeflow/notebook-servers/"
                                         "jupyter-pytorch-cuda-full:latest", cpu="4", memory="12Gi", gpus=1,
                                         gpu_type="nvidia-tesla-t4"))
    world = sb.kube.state
    wait_for(lambda: any(e.get("reason") == "NotTriggerScaleUp" for e in world.list_objects("events")[0]),
                what="the scheduler and autoscaler to give their reasons")
    yield sb
    sb.stop()


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_a_notebook_coming_up(spawned: Sandbox, monkeypatch: pytest.MonkeyPatch, snap_compare: Any,
                                       size: tuple[int, int]) -> None:
    for key, value in spawned.env.items():
        monkeypatch.setenv(key, value)
    app = KftuiApp(services=Services(now=lambda: EPOCH), mode="watch", persist=False)

    async def ready(pilot: Any) -> None:
        await pilot.press("2")
        view = pilot.app.screen.query_one(NotebooksView)
        await until(pilot, lambda: f"{PROFILE}/gpu-lab" in view.known, "the new notebook")
        table = view.query_one("#notebooks")
        table.move_cursor(row=table.get_row_index(f"{PROFILE}/gpu-lab"))
        details = pilot.app.screen.query_one("#details")
        await until(pilot, lambda: "gpu-lab" in str(details.render()), "its details")
        status = pilot.app.screen.query_one("#log-status")
        await until(pilot, lambda: "not-started" in str(status.render()), "its pod's log state")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)
