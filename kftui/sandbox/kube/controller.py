"""The notebook controller and the scheduler/kubelet path a new notebook pod takes, in small steps.

As Kubeflow's notebook-controller does, a Notebook made through the API gets pod `<name>-0` from its template
(labels `statefulset`, `notebook-name`); the annotation `kubeflow-resource-stopped` scales it to nothing and its
removal brings the pod back. The pod then meets what a real cluster would do to it: a GPU request with no free
GPU stays Pending with the scheduler's FailedScheduling message and the autoscaler's NotTriggerScaleUp; an image
from a private registry without a matching pull secret on its service account fails with containerd's
"pull access denied ... no basic auth credentials" and backs off; otherwise it pulls, starts and turns Ready.
Notebooks from the scenario file keep the pods the scenario gives them.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kftui.sandbox.kube.world import KubeWorld

STOPPED = "kubeflow-resource-stopped"
READINESS = "sandbox.kftui.dev/readiness-probe"
"""Knob on a Notebook: its pod starts but never turns Ready, its readiness probe failing as kubelet says it.
`503` (or any HTTP status: the server answers an error, e.g. 404 when a custom image ignores NB_PREFIX) or `refused`
(nothing listens on 8888: Jupyter crashed inside or listens elsewhere). What the blog calls "the notebook server
spins forever with no reason shown"."""
PROBE_PERIOD = 2.0
"""Seconds between two failed probes in the sandbox (kubelet's default periodSeconds is 10)."""
PROBE_REPEATS = 30
"""Failed probes acted out before the sandbox stops counting (the event's count stays where it got to)."""
POD_IP = "10.8.3.17"
MAX_PULLS = 40
STEP_SECONDS = 0.4
"""The pause between a pod's steps (scheduled, pulling, running): long enough to be seen, short for tests."""


def _gpus(container: Mapping[str, Any]) -> int:
    """GPUs a container asks for."""
    limits = (container.get("resources") or {}).get("limits") or {}
    try:
        return int(str(limits.get("nvidia.com/gpu", "0")))
    except ValueError:
        return 0


class NotebookController:
    """Watches Notebook changes in one world and drives their pods."""

    def __init__(self, world: KubeWorld) -> None:
        """Attach to a world; registry knowledge (which repositories are private) comes later, if at all."""
        self.world = world
        self.registry: Any = None
        self.active = False
        self.pull_tries: dict[tuple[str, str], int] = {}
        self.unready: dict[tuple[str, str], str] = {}
        """Pods whose readiness probe fails, and how (the READINESS knob's value)."""

    def observe(self, resource: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        """Called after every change; acts on notebooks only, once the scenario has loaded."""
        if not self.active or resource not in ("notebooks", "notebooks.kubeflow.org"):
            return
        if new is None:
            if old is not None:
                meta = old["metadata"]
                self.world.loop.call_soon_threadsafe(self._delete_pod, meta["namespace"], f"{meta['name']}-0")
            return
        meta = new["metadata"]
        ns, name = meta["namespace"], meta["name"]
        stopped = STOPPED in (meta.get("annotations") or {})
        has_pod = self.world.get("pods", ns, f"{name}-0") is not None
        if stopped and has_pod:
            self.world.loop.call_soon_threadsafe(self._delete_pod, ns, f"{name}-0")
        elif not stopped and not has_pod and (old is None or STOPPED in (old["metadata"].get("annotations") or {})):
            self.world.loop.call_soon_threadsafe(self._spawn, copy.deepcopy(dict(new)))

    def _delete_pod(self, ns: str, pod: str) -> None:
        """The StatefulSet scaled to zero (or gone): its pod goes."""
        self.world.delete("pods", ns, pod)

    def _spawn(self, nb: dict[str, Any]) -> None:
        """Make the StatefulSet's pod from the notebook's template, then schedule it."""
        meta = nb["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = copy.deepcopy((nb.get("spec") or {}).get("template", {}).get("spec") or {})
        containers = spec.get("containers") or [{"name": name, "image": "kubeflownotebookswg/jupyter-scipy:v1.9.0"}]
        for c in containers:
            c.setdefault("ports", [{"containerPort": 8888, "name": "notebook-port", "protocol": "TCP"}])
            c.setdefault("env", [])
            c["env"].append({"name": "NB_PREFIX", "value": f"/notebook/{ns}/{name}"})
        spec["containers"] = containers
        self._probe_knob(meta, ns, f"{name}-0", containers)
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{name}-0", "namespace": ns,
                         "labels": {"statefulset": name, "notebook-name": name, "app": name,
                                    "statefulset.kubernetes.io/pod-name": f"{name}-0"},
                         "annotations": {},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name,
                                              "uid": _statefulset_uid(meta), "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": spec,
            "status": {"phase": "Pending", "qosClass": "Burstable"},
        }
        self.world.put("pods", pod)
        self.world.loop.call_later(STEP_SECONDS, self._schedule, ns, f"{name}-0")

    def _free_gpu_node(self, pod: Mapping[str, Any]) -> tuple[str | None, int]:
        """A node with room for the pod's GPUs (matching its accelerator selector), and how many nodes exist."""
        wanted = sum(_gpus(c) for c in pod["spec"].get("containers") or [])
        selector = pod["spec"].get("nodeSelector") or {}
        nodes, _ = self.world.list_objects("nodes")
        pods, _ = self.world.list_objects("pods")
        for node in sorted(nodes, key=lambda n: str(n["metadata"]["name"])):
            labels = node["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if not wanted:
                return str(node["metadata"]["name"]), len(nodes)
            capacity = int(str(((node.get("status") or {}).get("allocatable") or (node.get("status") or {})
                                .get("capacity") or {}).get("nvidia.com/gpu", "0")))
            used = sum(_gpus(c) for p in pods if p["spec"].get("nodeName") == node["metadata"]["name"]
                       and (p.get("status") or {}).get("phase") in ("Pending", "Running")
                       for c in p["spec"].get("containers") or [])
            if capacity - used >= wanted:
                return str(node["metadata"]["name"]), len(nodes)
        return None, len(nodes)

    def _schedule(self, ns: str, name: str) -> None:
        """Bind the pod to a node, or leave it Pending with the scheduler's and the autoscaler's words."""
        pod = self.world.get("pods", ns, name)
        if pod is None:
            return
        node, count = self._free_gpu_node(pod)
        if node is None:
            message = (f"0/{count} nodes are available: {count} Insufficient nvidia.com/gpu. preemption: 0/{count} "
                       f"nodes are available: {count} No preemption victims found for incoming pod.")
            self.world.update_pod(ns, name, {"status": {"conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]}})
            self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name},
                                  "type": "Warning", "reason": "FailedScheduling", "message": message,
                                  "age_seconds": 0})
            self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name},
                                  "type": "Normal", "reason": "NotTriggerScaleUp",
                                  "source": "cluster-autoscaler", "age_seconds": 0,
                                  "message": "pod didn't trigger scale-up: 1 max node group size reached"})
            return
        self.world.update_pod(ns, name, {"spec": {"nodeName": node}, "status": {"conditions": [
            {"type": "PodScheduled", "status": "True"}]}})
        self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name}, "reason": "Scheduled",
                              "message": f"Successfully assigned {ns}/{name} to {node}", "age_seconds": 0})
        self.world.loop.call_later(STEP_SECONDS, self._pull, ns, name)

    def _pullable(self, pod: Mapping[str, Any], image: str) -> bool:
        """Whether kubelet could pull the image with the pod's service account's pull secrets."""
        if self.registry is None:
            return True
        first, _, rest = image.partition("/")
        host, path = (first, rest) if "." in first or ":" in first else ("docker.io", image)
        repository = path.split("@")[0].rsplit(":", 1)[0] if ":" in path.rsplit("/", 1)[-1] else path.split("@")[0]
        if host == "docker.io" and "/" not in repository:
            repository = f"library/{repository}"
        if not self.registry.private(host, repository):
            return True
        sa_name = pod["spec"].get("serviceAccountName") or "default"
        sa = self.world.get("serviceaccounts", pod["metadata"]["namespace"], sa_name) or {}
        names = [s.get("name") for s in (sa.get("imagePullSecrets") or []) + (pod["spec"].get("imagePullSecrets")
                                                                              or [])]
        for secret_name in names:
            secret = self.world.get("secrets", pod["metadata"]["namespace"], str(secret_name)) or {}
            raw = (secret.get("data") or {}).get(".dockerconfigjson")
            try:
                auths = json.loads(base64.b64decode(raw or "")).get("auths") or {}
            except (ValueError, AttributeError):
                continue
            entry = auths.get(host) or {}
            if self.registry.users.get(entry.get("username")) == entry.get("password"):
                return True
        return False

    def _pull(self, ns: str, name: str) -> None:
        """ContainerCreating, then the pull: a private image without credentials backs off."""
        pod = self.world.get("pods", ns, name)
        if pod is None:
            return
        container = (pod["spec"].get("containers") or [{}])[0]
        cname, image = str(container.get("name", "main")), str(container.get("image", ""))
        self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name}, "reason": "Pulling",
                              "message": f'Pulling image "{image}"', "source": "kubelet", "age_seconds": 0})
        if not self._pullable(pod, image):
            message = (f'Failed to pull image "{image}": failed to pull and unpack image "{image}": failed to '
                       f'resolve reference "{image}": pull access denied, repository does not exist or may '
                       "require authorization: authorization failed: no basic auth credentials")
            self.world.update_pod(ns, name, {"status": {"phase": "Pending", "containerStatuses": [
                {"name": cname, "image": image, "imageID": "", "ready": False, "restartCount": 0, "started": False,
                 "state": {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}}
            ]}})
            self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name},
                                  "type": "Warning", "reason": "Failed", "message": message, "source": "kubelet",
                                  "age_seconds": 0})
            tries = self.pull_tries.get((ns, name), 0) + 1
            self.pull_tries[(ns, name)] = tries
            if tries < MAX_PULLS:  # kubelet backs off and tries again, so a pull secret added later is used
                self.world.loop.call_later(STEP_SECONDS * min(2 ** tries, 8), self._pull, ns, name)
            return
        self.pull_tries.pop((ns, name), None)
        if (ns, name) in self.unready:
            self._start_unready(pod, cname)
            return
        self.world.set_container(ns, name, cname, state="running")
        now = (pod.get("metadata") or {}).get("creationTimestamp")
        conditions = [{"type": t, "status": "True", "lastTransitionTime": now}
                      for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
        self.world.update_pod(ns, name, {"status": {"phase": "Running", "conditions": conditions, "startTime": now,
                                                    "hostIP": "10.128.0.9", "podIP": POD_IP}})
        self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name}, "reason": "Started",
                              "message": f"Started container {cname}", "source": "kubelet", "age_seconds": 0})

    # ---- a notebook whose readiness probe fails ------------------------------------------------------------

    def _probe_knob(self, meta: Mapping[str, Any], ns: str, pod: str, containers: list[dict[str, Any]]) -> None:
        """Remember a Notebook's READINESS knob for its pod and give the container the probe that fails (the
        Notebook's own readinessProbe when its template has one, else an HTTP GET of Jupyter's API under NB_PREFIX)."""
        mode = str((meta.get("annotations") or {}).get(READINESS) or "").strip().lower()
        if not mode or not containers:
            self.unready.pop((ns, pod), None)
            return
        self.unready[(ns, pod)] = mode
        containers[0].setdefault("readinessProbe", {
            "httpGet": {"path": f"/notebook/{ns}/{meta['name']}/api", "port": 8888, "scheme": "HTTP"},
            "initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
            "failureThreshold": 3,
        })

    def _probe_failure(self, pod: Mapping[str, Any], mode: str) -> str:
        """kubelet's event message for one failed readiness probe (pkg/probe/http and the prober's wording)."""
        container = (pod["spec"].get("containers") or [{}])[0]
        get = (container.get("readinessProbe") or {}).get("httpGet") or {}
        port, path = get.get("port", 8888), str(get.get("path") or "/")
        if mode == "refused":
            return (f'Readiness probe failed: Get "http://{POD_IP}:{port}{path}": dial tcp {POD_IP}:{port}: '
                    "connect: connection refused")
        status = mode if mode.isdigit() and len(mode) == 3 else "503"
        return f"Readiness probe failed: HTTP probe failed with statuscode: {status}"

    def _start_unready(self, pod: Mapping[str, Any], cname: str) -> None:
        """The container runs, but the pod stays Running and not Ready: ContainersNotReady, as kubelet reports it."""
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        started = self.world.set_container(ns, name, cname, state="running", ready=False)
        now = (pod.get("metadata") or {}).get("creationTimestamp")
        unready = f"containers with unready status: [{cname}]"
        conditions = [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": unready,
             "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "message": unready,
             "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        ]
        self.world.update_pod(ns, name, {"status": {"phase": "Running", "conditions": conditions, "startTime": now,
                                                    "hostIP": "10.128.0.9", "podIP": POD_IP}})
        self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name}, "reason": "Started",
                              "message": f"Started container {cname}", "source": "kubelet", "age_seconds": 0})
        uid = str((started.get("metadata") or {}).get("uid") or "")
        self.world.loop.call_later(STEP_SECONDS, self._probe_fails, ns, name, uid, "", 1)

    def _probe_fails(self, ns: str, name: str, uid: str, event: str, count: int) -> None:
        """One failed probe: the first is a Warning Unhealthy event from kubelet, the next ones count on it (as
        client-go's event correlator folds repeats into one event), until the pod goes or PROBE_REPEATS."""
        pod = self.world.get("pods", ns, name)
        mode = self.unready.get((ns, name))
        if pod is None or mode is None or str(pod["metadata"].get("uid") or "") != uid:
            return
        if not event or self.world.get("events", ns, event) is None:
            made = self.world.add_event({"namespace": ns, "involvedObject": {"kind": "Pod", "name": name,
                                                                             "fieldPath": "spec.containers{"
                                                                             + str(pod["spec"]["containers"][0]
                                                                                   .get("name", "main")) + "}"},
                                         "type": "Warning", "reason": "Unhealthy", "source": "kubelet",
                                         "message": self._probe_failure(pod, mode), "age_seconds": 0,
                                         "count": count})
            event = str(made["metadata"]["name"])
        else:
            self.world.patch("events", ns, event, {"count": count, "lastTimestamp": _now()})
        if count < PROBE_REPEATS:
            self.world.loop.call_later(PROBE_PERIOD, self._probe_fails, ns, name, uid, event, count + 1)


def _now() -> str:
    """An event timestamp for this instant, in the API's seconds form."""
    from datetime import UTC, datetime

    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _statefulset_uid(notebook_meta: Mapping[str, Any]) -> str:
    """The uid of the StatefulSet the controller makes for a Notebook (an owner reference always carries one: the
    kubernetes client refuses a pod whose ownerReferences lack it), stable for the life of that Notebook."""
    from kftui.sandbox.kube.objects import uid_for

    return uid_for("statefulset", str(notebook_meta.get("namespace") or ""), str(notebook_meta.get("name") or ""),
                   str(notebook_meta.get("uid") or ""))
