"""Port-forward to a pod through the API server, as `kubectl port-forward` does, with named Kubeflow targets.

Each local connection opens its own forward (the `kubernetes` client's WebSocket `portforward`), and the pod is
looked up again when the one in use is gone, so a restarted notebook or gateway keeps working behind one URL.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json
from kftui.errors import KftuiError

DASHBOARD = ("istio-system", "istio-ingressgateway", 80)
"""Kubeflow's dashboard is reached through the Istio ingress gateway's Service (manifests' common/istio)."""
NOTEBOOK_PORT = 8888
TENSORBOARD_PORT = 80
IDLE_TIMEOUT = 600
"""A forwarded connection with no bytes either way for this long is closed (a browser reconnects)."""


class ForwardError(KftuiError):
    """A target that cannot be forwarded, said in one line naming it."""


@dataclass(frozen=True)
class Target:
    """What to forward: a Service (resolved to a pod per connection) or one pod, and the path worth opening."""

    namespace: str
    kind: str  # "svc" | "pod"
    name: str
    port: int
    path: str = "/"
    label: str = ""

    def describe(self) -> str:
        """How the target is named to the user."""
        return self.label or f"{self.kind}/{self.name} in {self.namespace}"


def parse_target(words: list[str], namespace: str | None, port: int | None) -> Target:
    """A target from the command's words: dashboard | notebook NAME | tensorboard NAME | svc/NAME | pod/NAME."""
    if not words:
        raise ForwardError("target: give dashboard, notebook NAME, tensorboard NAME, svc/NAME or pod/NAME")
    head, rest = words[0], words[1:]
    if head == "dashboard" and not rest:
        ns, svc, svc_port = DASHBOARD
        return Target(namespace or ns, "svc", svc, port or svc_port, "/", "the Kubeflow dashboard")
    if head in ("notebook", "tensorboard"):
        if len(rest) != 1 or not rest[0]:
            raise ForwardError(f"target: {head} takes one NAME (the {head} server's name)")
        if not namespace:
            raise ForwardError(f"-n: a {head} lives in a profile namespace; name it with -n NAMESPACE")
        name = rest[0]
        if head == "notebook":  # the notebook controller's StatefulSet pod, serving Jupyter under NB_PREFIX
            return Target(namespace, "pod", f"{name}-0", port or NOTEBOOK_PORT, f"/notebook/{namespace}/{name}/",
                          f"notebook {name} in {namespace}")
        return Target(namespace, "svc", name, port or TENSORBOARD_PORT, f"/tensorboard/{namespace}/{name}/",
                      f"tensorboard {name} in {namespace}")
    kind, sep, name = head.partition("/")
    kind = {"service": "svc", "services": "svc", "pods": "pod", "po": "pod"}.get(kind, kind)
    if sep and name and kind in ("svc", "pod") and not rest:
        if kind == "pod" and port is None:
            raise ForwardError("--port: a pod target needs the pod's port (--port N)")
        return Target(namespace or "default", kind, name, port or 0)
    raise ForwardError(f"target {' '.join(words)!r}: give dashboard, notebook NAME, tensorboard NAME, svc/NAME or "
                       "pod/NAME")


def _ready(pod: dict[str, Any]) -> bool:
    """Running, not being deleted, and Ready (what kubectl's pod choice for a Service prefers)."""
    if pod.get("metadata", {}).get("deletionTimestamp") or pod.get("status", {}).get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions") or [])


def _container_port(pod: dict[str, Any], named: str) -> int | None:
    """A named targetPort looked up in the pod's container ports."""
    for container in pod.get("spec", {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == named:
                return int(declared["containerPort"])
    return None


def resolve(client: Any, target: Target) -> tuple[str, int]:
    """The pod and pod port one new connection goes to (raises ForwardError saying what is missing)."""
    ns = target.namespace
    if target.kind == "pod":
        try:
            pod = get_json(client, f"/api/v1/namespaces/{ns}/pods/{target.name}", timeout=15)
        except ClusterApiError as exc:
            raise ForwardError(f"{target.describe()}: {exc}") from exc
        if pod.get("status", {}).get("phase") != "Running":
            raise ForwardError(f"{target.describe()}: pod {target.name} is {pod.get('status', {}).get('phase')}, "
                               "not Running")
        return target.name, target.port
    try:
        svc = get_json(client, f"/api/v1/namespaces/{ns}/services/{target.name}", timeout=15)
    except ClusterApiError as exc:
        raise ForwardError(f"{target.describe()}: {exc}") from exc
    ports = svc.get("spec", {}).get("ports") or []
    chosen = next((p for p in ports if int(p.get("port", 0)) == target.port), None) if target.port else \
        (ports[0] if ports else None)
    if chosen is None:
        offered = ", ".join(str(p.get("port")) for p in ports) or "none"
        raise ForwardError(f"{target.describe()}: service {target.name} has no port {target.port} (ports: {offered})")
    selector = svc.get("spec", {}).get("selector") or {}
    if not selector:
        raise ForwardError(f"{target.describe()}: service {target.name} has no selector, so no pod to forward to")
    query = [("labelSelector", ",".join(f"{k}={v}" for k, v in sorted(selector.items())))]
    try:
        pods = get_json(client, f"/api/v1/namespaces/{ns}/pods", query, timeout=15).get("items") or []
    except ClusterApiError as exc:
        raise ForwardError(f"{target.describe()}: {exc}") from exc
    ready = sorted((p for p in pods if _ready(p)), key=lambda p: str(p["metadata"]["name"]))
    if not ready:
        raise ForwardError(f"{target.describe()}: no running, ready pod matches service {target.name} "
                           f"({query[0][1]})")
    pod = ready[0]
    raw = chosen.get("targetPort", chosen.get("port"))
    if isinstance(raw, str) and not raw.isdigit():
        port = _container_port(pod, raw)
        if port is None:
            raise ForwardError(f"{target.describe()}: pod {pod['metadata']['name']} has no container port named {raw}")
        return str(pod["metadata"]["name"]), port
    return str(pod["metadata"]["name"]), int(raw)


class Forwarder:
    """A local listener whose every connection is forwarded to the target's current pod."""

    def __init__(self, client: Any, target: Target, local_port: int = 0, address: str = "127.0.0.1",
                 on_event: Callable[[str], None] | None = None) -> None:
        """Bind now (so the URL can be printed at once); serve after start()."""
        self.client = client
        self.target = target
        self.on_event = on_event or (lambda _msg: None)
        self._server = socket.create_server((address, local_port))
        self._server.settimeout(0.5)
        host, port = self._server.getsockname()[:2]
        self._address = (str(host), int(port))
        self._stop = threading.Event()
        self._pod: str | None = None
        self._threads: list[threading.Thread] = []
        self.connections = 0

    @property
    def address(self) -> tuple[str, int]:
        """Where the listener is bound."""
        return self._address

    @property
    def url(self) -> str:
        """The URL to open for this target."""
        host, port = self.address
        return f"http://{host}:{port}{self.target.path}"

    def check(self) -> tuple[str, int]:
        """Resolve once up front, so a wrong name fails before anything is printed as forwarding."""
        pod, port = resolve(self.client, self.target)
        self._pod = pod
        return pod, port

    def start(self) -> None:
        """Accept connections on a daemon thread."""
        thread = threading.Thread(target=self._accept, name="kftui-forward", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop accepting and close the listener; open connections end as their pod side closes."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()

    def _accept(self) -> None:
        """The accept loop (bounded by stop())."""
        while not self._stop.is_set():
            try:
                conn, _peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), name="kftui-forward-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        """One local connection: find the pod (again, if it changed), open a forward, pipe both ways."""
        from kubernetes.client import CoreV1Api
        from kubernetes.stream import portforward

        with conn:
            try:
                pod, port = resolve(self.client, self.target)
            except ForwardError as exc:
                self.on_event(str(exc))
                return
            if pod != self._pod:
                self.on_event(f"now forwarding to pod {pod} (was {self._pod})" if self._pod else f"pod {pod}")
                self._pod = pod
            try:
                pf = portforward(CoreV1Api(self.client).connect_get_namespaced_pod_portforward, pod,
                                 self.target.namespace, ports=str(port))
            except Exception as exc:  # the API refused the upgrade: say its words, keep serving others
                self.on_event(f"pod {pod} refused the forward: {getattr(exc, 'reason', None) or exc}")
                return
            remote = pf.socket(port)
            try:
                _pipe(conn, remote, self._stop)
            finally:
                error = pf.error(port)
                if error:
                    self.on_event(error.strip())
                with contextlib.suppress(OSError):
                    remote.close()


def _pipe(local: socket.socket, remote: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes, stop() is called, or the connection idles out."""
    idle = 0.0
    sockets = [local, remote]
    while not stop.is_set() and idle < IDLE_TIMEOUT:
        readable, _, _ = select.select(sockets, [], [], 0.5)
        if not readable:
            idle += 0.5
            continue
        idle = 0.0
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                (remote if sock is local else local).sendall(data)
            except OSError:  # the other side went away mid-answer (a refused port closes the pod side)
                return


class Forwards:
    """The port-forwards a cockpit session started (`:pf` lists them), stopped together when it ends."""

    def __init__(self) -> None:
        """None yet."""
        self._lock = threading.Lock()
        self.active: list[Forwarder] = []

    def start(self, client: Any, target: Target, local_port: int = 0,
              on_event: Callable[[str], None] | None = None) -> Forwarder:
        """Resolve, bind and serve one more forward (raises ForwardError or OSError before anything runs)."""
        fw = Forwarder(client, target, local_port, on_event=on_event)
        try:
            fw.check()
        except Exception:
            fw.stop()
            raise
        fw.start()
        with self._lock:
            self.active.append(fw)
        return fw

    def stop(self, fw: Forwarder) -> None:
        """Stop one."""
        fw.stop()
        with self._lock:
            if fw in self.active:
                self.active.remove(fw)

    def stop_all(self) -> None:
        """Stop every forward (the screen is going away)."""
        with self._lock:
            items, self.active = list(self.active), []
        for fw in items:
            fw.stop()
