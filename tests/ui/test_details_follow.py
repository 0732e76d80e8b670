"""The details pane follows the selected pod: read again when its row changes, and not left behind when it is gone."""

from __future__ import annotations

from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Options, Services
from tests.helpers import until

SIZE = (120, 40)
NAME = "details-follow"
KEY = f"default/{NAME}"
NODE = "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x"
IMAGE = "registry.example.com/team/trainer:1.0"


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    """The pod's one container, waiting for `reason`, as the kubelet reports it."""
    state: dict[str, Any] = {"reason": reason, **({"message": message} if message else {})}
    return {"name": "main", "image": IMAGE, "ready": False, "restartCount": 0,
            "started": False, "state": {"waiting": state}}


def details_text(screen: Any) -> str:
    return str(screen.query_one("#details").render())


def add_waiting_pod(world: Any, namespace: str, name: str, reason: str) -> None:
    """A pod whose one container waits for `reason` (the kubelet's words for a pod not running yet)."""
    world.add_pod({"name": name, "namespace": namespace, "node": NODE, "phase": "Pending",
                   "containers": [{"name": "main", "image": IMAGE, "state": "waiting", "reason": reason}]})


async def selected(pilot: Any, screen: Any, key: str, first_words: str) -> None:
    """Put the cursor on the pod and wait for its first details."""
    await until(pilot, lambda: key in screen.rows, what="the pod listed")
    table = screen.query_one("#pods")
    await until(pilot, lambda: table.move_to(key) and screen.selected_key == key, what="the pod selected")
    await until(pilot, lambda: first_words in details_text(screen), what="its first details")


async def test_the_selected_pods_details_follow_its_changes_and_its_deletion(
        sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    world = sandbox.kube.state
    add_waiting_pod(world, "default", NAME, "ContainerCreating")
    try:
        app = KftuiApp(services=Services(), mode="watch", persist=False)
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            await selected(pilot, screen, KEY, "ContainerCreating")
            # the image cannot be pulled: the row changes on the watch, and the pane follows with no key pressed
            world.update_pod("default", NAME, {"status": {"containerStatuses": [waiting(
                "ImagePullBackOff", f'Back-off pulling image "{IMAGE}"')]}})
            await until(pilot, lambda: screen.rows[KEY].status == "ImagePullBackOff", what="the row changed")
            await until(pilot, lambda: "ImagePullBackOff" in details_text(screen), timeout=10,
                        what="the details read again")
            assert "ContainerCreating" not in details_text(screen)
            # deleted: the cursor moves on to a neighbour (whose details the pane then shows), or, with no pod left
            # to move to, the pane says this one is gone; never its old details as if it were still there
            world.delete_pod("default", NAME)
            await until(pilot, lambda: "gone from the cluster" in details_text(screen)
                        or (screen.selected_key != KEY and NAME not in details_text(screen)
                            and "loading" not in details_text(screen)), what="the deletion followed")
    finally:
        if world.objects.get(("pods", "default", NAME)) is not None:
            world.delete_pod("default", NAME)


async def test_the_last_pod_of_a_namespace_deleted_is_said_gone(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Watching one namespace whose only pod is deleted: no row to move to, so the pane says it is gone, above
    what it last showed."""
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    world = sandbox.kube.state
    world.put("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "details-alone"}})
    add_waiting_pod(world, "details-alone", NAME, "ImagePullBackOff")
    key = f"details-alone/{NAME}"
    try:
        app = KftuiApp(services=Services(Options(namespace="details-alone")), mode="watch", persist=False)
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            await until(pilot, lambda: screen.selected_key == key, what="the only pod selected")
            await until(pilot, lambda: "ImagePullBackOff" in details_text(screen), what="its details")
            world.delete_pod("details-alone", NAME)
            await until(pilot, lambda: "gone from the cluster" in details_text(screen), what="said gone")
            assert "ImagePullBackOff" in details_text(screen), "what it last showed stays below"
    finally:
        if world.objects.get(("pods", "details-alone", NAME)) is not None:
            world.delete_pod("details-alone", NAME)
        world.delete("namespaces", None, "details-alone")


async def test_a_stuck_pods_new_events_reach_its_details_with_its_row_unchanged(
        sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pod stuck in ContainerCreating keeps its row while the kubelet's events change the story (FailedMount
    after FailedMount): the details are read again now and then while it is selected."""
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    world = sandbox.kube.state
    name = "details-stuck"
    add_waiting_pod(world, "default", name, "ContainerCreating")
    key = f"default/{name}"
    try:
        app = KftuiApp(services=Services(), mode="watch", persist=False)
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            await selected(pilot, screen, key, "ContainerCreating")
            row = screen.rows[key]
            world.add_event({"namespace": "default", "type": "Warning", "reason": "FailedMount",
                             "message": 'MountVolume.SetUp failed for volume "data" : secret "training-data" not found',
                             "involvedObject": {"kind": "Pod", "name": name, "namespace": "default"}})
            await until(pilot, lambda: "training-data" in details_text(screen), timeout=15,
                        what="the new event in the details")
            assert screen.rows[key] == row, "the row itself never changed"
    finally:
        if world.objects.get(("pods", "default", name)) is not None:
            world.delete_pod("default", name)
