"""`kftui forward`: reach the dashboard, a notebook or TensorBoard on localhost, as `kubectl port-forward` would."""

from __future__ import annotations

import errno
import sys
import threading

from kftui.core.plan import DASHBOARD_PORT
from kftui.errors import KftuiError, UsageError

DEFAULT_LOCAL = {"dashboard": DASHBOARD_PORT, "notebook": 8888, "tensorboard": 6006}
"""Familiar local ports, so the printed URL is the one a Kubeflow guide shows; a busy one falls back to any."""


def forward(words: list[str], namespace: str | None, port: int | None, local_port: int | None, address: str,
            context: str | None, kubeconfig: str | None, stop: threading.Event | None = None) -> None:
    """Resolve the target, bind, print the URL, and forward until Ctrl+C (or `stop`, for tests)."""
    from kftui.cluster.forward import Forwarder, ForwardError, parse_target
    from kftui.cluster.kubeconfig import api_client
    from kftui.core.sanitize import inert

    try:
        target = parse_target(words, namespace, port)
    except ForwardError as exc:
        raise UsageError(str(exc)) from exc
    client = api_client(context, kubeconfig)

    def say(message: str) -> None:
        print(f"kftui forward: {inert(message)}", file=sys.stderr, flush=True)

    wanted = local_port if local_port is not None else DEFAULT_LOCAL.get(words[0], target.port or 0)
    try:
        fw = Forwarder(client, target, wanted, address, on_event=say)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or local_port is not None:
            raise UsageError(f"--local-port: cannot listen on {address}:{wanted} ({exc.strerror})") from exc
        fw = Forwarder(client, target, 0, address, on_event=say)
        say(f"{address}:{wanted} is in use; using port {fw.address[1]} instead")
    try:
        pod, pod_port = fw.check()
    except ForwardError as exc:
        fw.stop()
        raise KftuiError(inert(str(exc))) from exc
    print(f"Forwarding {fw.url} -> {inert(target.describe())} (pod {inert(pod)}, port {pod_port}). "
          "Ctrl+C stops.", flush=True)
    fw.start()
    waiter = stop or threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        fw.stop()
