"""The cluster adapters against a second, independent API server (kmock's emulator), not just our sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kmock

from kftui.cluster.kubeconfig import api_client
from kftui.cluster.pods import PodWatcher, list_pods
from kftui.core.kube import WatchKind
from kftui.sandbox.kube import write_kubeconfig

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "trainer-0", "namespace": "ml", "creationTimestamp": "2026-11-28T10:00:00Z"},
    "spec": {
        "nodeName": "gpu-node-1",
        "containers": [{"name": "main", "image": "trainer:1", "resources": {"limits": {"nvidia.com/gpu": "2"}}}],
    },
    "status": {
        "phase": "Pending",
        "containerStatuses": [
            {
                "name": "main",
                "image": "trainer:1",
                "imageID": "",
                "ready": False,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
            }
        ],
    },
}


async def test_pods_from_kmock_read_like_kubectl(tmp_path: Path) -> None:
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
        emulator.resources["v1/pods"] = {}
        kubeconfig = write_kubeconfig(str(server.url).rstrip("/"), tmp_path / "kubeconfig", "kmock")
        client = await asyncio.to_thread(api_client, "kmock", kubeconfig)

        def create() -> None:
            from kubernetes.client import CoreV1Api

            CoreV1Api(client).create_namespaced_pod("ml", POD, _preload_content=False)

        await asyncio.to_thread(create)
        rows, _ = await asyncio.to_thread(list_pods, client, "ml")
        assert [(r.name, r.status, r.restarts, r.gpus, r.ready) for r in rows] == [
            ("trainer-0", "CrashLoopBackOff", 4, 2, "0/1")
        ]

        watcher = PodWatcher(client, "ml", timeout_seconds=5)
        first = await asyncio.to_thread(lambda: next(iter(watcher.events())))
        watcher.stop()
        assert first.kind == WatchKind.SYNCED
        assert [row.name for row in first.snapshot] == ["trainer-0"]
