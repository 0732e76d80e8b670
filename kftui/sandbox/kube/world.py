"""The cluster's live state: objects with resourceVersions, a change history for watches, container logs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kftui.sandbox.kube import admission, fields, generic
from kftui.sandbox.kube import objects as o
from kftui.sandbox.kube.controller import NotebookController
from kftui.sandbox.kube.loggen import LogRun
from kftui.sandbox.kube.types import BUILTIN, ResourceType, crd_lists, crd_type
from kftui.sandbox.kube.types import NOTEBOOKS as NOTEBOOK_TYPE

Key = tuple[str, str | None, str]
"""(type key, namespace or None, name)."""

NOTEBOOKS = NOTEBOOK_TYPE.key
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
DEPLOYMENTS = "deployments.apps"
WORKLOADS = frozenset({DEPLOYMENTS, "statefulsets.apps", "daemonsets.apps"})
CERTIFICATES = "certificates.cert-manager.io"
ISSUERS = "issuers.cert-manager.io"
CLUSTER_ISSUERS = "clusterissuers.cert-manager.io"
WEBHOOK_CONFIGS = frozenset({"mutatingwebhookconfigurations.admissionregistration.k8s.io",
                             "validatingwebhookconfigurations.admissionregistration.k8s.io"})
ISTIOD: Key = (DEPLOYMENTS, "istio-system", "istiod")
ISTIO_ROOT = "istio-ca-root-cert"
UNBLOCKS = frozenset({"secrets", "configmaps", "serviceaccounts", ISSUERS, CLUSTER_ISSUERS})
"""Kinds whose arrival may let a blocked workload or certificate go on."""
WEBHOOK_READY_SECONDS = 5.0
"""How long after its creation (or after what its pods mount arrives) a workload whose pods serve an admission
webhook takes to be ready: a webhook server pulls its image, loads its certificate and passes its readiness probe
(tens of seconds on GKE; short here, yet longer than kubectl takes to send the rest of a component, so the
webhook's refusals show). The scenario's `webhook_ready_seconds` (or the world's attribute) sets it."""


class Refused(Exception):  # noqa: N818 - it is the API's refusal, raised to the handler
    """A write the API refuses, carrying its Status."""

    def __init__(self, refusal: admission.Refusal) -> None:
        """Keep the refusal for the handler to send."""
        super().__init__(refusal.message)
        self.refusal = refusal


def _strip_server_meta(obj: o.Obj | None) -> o.Obj | None:
    """An object without what the server keeps for itself (status stays: apply never owns it)."""
    if obj is None:
        return None
    out = dict(obj)
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return out


@dataclass
class Change:
    """One entry of the watch history: what happened to which object at which resourceVersion."""

    rv: int
    resource: str
    type: str
    obj: o.Obj
    old: o.Obj | None


@dataclass(eq=False)
class LogStream:
    """An open follow request, so the world can wake it or drop it."""

    namespace: str
    pod: str
    container: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7386): dicts merge, None deletes, everything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _fill(value: Any, n: int) -> Any:
    """Replace `{n}` in every string of a timeline template, so repeated actions make unique names."""
    if isinstance(value, str):
        return value.replace("{n}", str(n))
    if isinstance(value, Mapping):
        return {k: _fill(v, n) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, n) for v in value]
    return value


class KubeWorld:
    """Everything the fake API server knows; mutators are thread-safe and wake watchers and log streams."""

    def __init__(self, scenario: Mapping[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        """Build the initial world from a scenario (the `kube:` section or the bare mapping)."""
        self.scenario: dict[str, Any] = dict(scenario.get("kube", scenario))
        self.loop = loop
        self.lock = threading.RLock()
        self.rv = 1000
        self.objects: dict[Key, o.Obj] = {}
        self.history: deque[Change] = deque(maxlen=int(self.scenario.get("history_limit", 10_000)))
        self.oldest_rv = self.rv  # a watch from a resourceVersion below this gets 410 Gone
        self.logs: dict[tuple[str, str, str], list[LogRun]] = {}
        self.log_streams: set[LogStream] = set()
        self._wakers: set[asyncio.Event] = set()
        self._seq = 0
        self.seed = str(self.scenario.get("seed", "kftui-sandbox"))
        """Mixed into the uids of re-created objects, so two worlds of one scenario agree and other seeds differ."""
        self._creations = 0
        self._incarnations: dict[Key, int] = {}
        self.expirations = 0
        self.requests: list[tuple[str, str]] = []
        self.types: dict[str, ResourceType] = {t.key: t for t in (*BUILTIN, NOTEBOOK_TYPE)}
        """Type key (`plural` or `plural.group`) -> type; CRDs add theirs when stored."""
        self._plural_index: dict[str, str] = {}
        self.ownership: dict[Key, fields.Ownership] = {}
        self._blocked: set[Key] = set()
        """Workloads and certificates waiting for something (a secret, a service account, cert-manager)."""
        self.webhook_ready_seconds = float(self.scenario.get("webhook_ready_seconds", WEBHOOK_READY_SECONDS))
        self._born: dict[Key, float] = {}
        self._lists: dict[tuple[str, str, str], fields.ListSchema] = {}
        """Custom resources' keyed lists, by (type, version, CRD resourceVersion): read once per CRD change."""
        """When each workload was created (monotonic), for the webhook servers' start-up time."""
        self._reindex()
        self.notebooks = NotebookController(self)
        epoch = self.scenario.get("epoch_ns")
        with o.pinned_now(int(epoch) if epoch is not None else None):
            self._load()
        self.notebooks.active = True  # notebooks made from now on get their pods from the controller

    # ---- types ---------------------------------------------------------------------------------

    def _reindex(self) -> None:
        """Plural -> type key, preferring the core group (as kubectl prefers core `services` over Knative's)."""
        index: dict[str, str] = {}
        for key, t in sorted(self.types.items(), key=lambda kv: (kv[1].group != "", kv[1].group)):
            index.setdefault(t.plural, key)
        self._plural_index = index

    def resolve(self, resource: str) -> str:
        """A type key from a key or a bare plural (`pods`, `profiles`); KeyError when unknown."""
        if resource in self.types:
            return resource
        return self._plural_index[resource]

    def type_of(self, resource: str) -> ResourceType:
        """The type of a key or plural."""
        return self.types[self.resolve(resource)]

    def find_type(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at group/version/plural, or None (the API's 404)."""
        key = f"{plural}.{group}" if group else plural
        t = self.types.get(key)
        return t if t is not None and version in t.versions else None

    # ---- reading -------------------------------------------------------------------------------

    def get(self, resource: str, namespace: str | None, name: str) -> o.Obj | None:
        """A copy of one object (at its storage version), or None."""
        with self.lock:
            try:
                key = self.resolve(resource)
            except KeyError:
                return None
            obj = self.objects.get((key, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list_objects(self, resource: str, namespace: str | None = None,
                     keep: Callable[[o.Obj], bool] | None = None) -> tuple[list[o.Obj], int]:
        """Copies of every object of a resource (in one namespace or all; `keep` filters before copying)."""
        with self.lock:
            key = self.resolve(resource)
            items = [
                copy.deepcopy(obj)
                for (res, ns, _), obj in sorted(self.objects.items(), key=lambda kv: (kv[0][1] or "", kv[0][2]))
                if res == key and (namespace is None or ns == namespace) and (keep is None or keep(obj))
            ]
            return items, self.rv

    def changes_after(self, rv: int) -> list[Change] | None:
        """History entries after rv, or None when rv is older than what the history still holds (410)."""
        with self.lock:
            if rv < self.oldest_rv:
                return None
            return [c for c in self.history if c.rv > rv]

    def add_waker(self, event: asyncio.Event) -> None:
        """Register a watch stream's wake-up event."""
        self._wakers.add(event)

    def remove_waker(self, event: asyncio.Event) -> None:
        """Forget a finished watch stream."""
        self._wakers.discard(event)

    # ---- low-level mutation ----------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every watch and log stream (from any thread)."""

        def wake() -> None:
            for ev in list(self._wakers):
                ev.set()
            for stream in list(self.log_streams):
                stream.wake.set()

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            wake()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(wake)

    def _record(self, resource: str, kind: str, obj: o.Obj, old: o.Obj | None) -> None:
        """Bump the resourceVersion, stamp the object, append to history (lock held)."""
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        if len(self.history) == self.history.maxlen and self.history:
            self.oldest_rv = self.history[0].rv
        self.history.append(Change(self.rv, resource, kind, copy.deepcopy(obj), old))

    def put(self, resource: str, obj: o.Obj) -> o.Obj:
        """Create or replace an object (stored at its storage version); watchers see ADDED or MODIFIED."""
        key_name = self.resolve(resource)
        rtype = self.types[key_name]
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace") if rtype.namespaced else None
        if not rtype.namespaced:
            meta.pop("namespace", None)
        key: Key = (key_name, ns, meta["name"])
        obj["apiVersion"] = rtype.api_version()
        obj["kind"] = rtype.kind
        if key_name == "secrets" and "stringData" in obj:
            obj["data"] = {**(obj.get("data") or {}), **{k: base64.b64encode(str(v).encode()).decode()
                                                          for k, v in (obj.pop("stringData") or {}).items()}}
        with self.lock:
            old = self.objects.get(key)
            if old is None:
                self._stamp_uid(key, meta)
            meta.setdefault("creationTimestamp", o.ago(0))
            if key_name == CRDS:
                obj["status"] = generic.established(obj)
                self._add_crd(obj, old)
            observed = (obj.get("status") or {}).get("observedGeneration")
            if key_name in WORKLOADS and observed != meta.get("generation", 1):
                obj["status"] = generic.progressing(obj)
            own = self.ownership.get(key)
            if own is not None:
                meta["managedFields"] = own.managed_fields()
            self._record(key_name, "MODIFIED" if old is not None else "ADDED", obj, old)
            self.objects[key] = obj
            if key_name == "pods":
                self._sync_notebook(obj)
            if key_name == "namespaces" and old is None:
                self._namespace_defaults(meta["name"])
                self._istio_root(meta["name"])
        if key_name in WORKLOADS:
            if old is None:
                self._born[key] = time.monotonic()
            self._schedule(self._make_available, key)
        if key_name in WEBHOOK_CONFIGS:
            with self.lock:
                self._restart_webhook_servers(obj)
        if key_name == CERTIFICATES:
            self._schedule(self._issue, key)
        if self._blocked and key_name in UNBLOCKS:
            self._schedule(self._recheck, key)
        self._notify()
        self.notebooks.observe(resource, old, obj)
        return copy.deepcopy(obj)

    def _stamp_uid(self, key: Key, meta: dict[str, Any]) -> None:
        """A uid for a new object (lock held): the first object of a name keeps the stable uid its scenario or
        shorthand gives it (snapshots stay the same run after run); every re-creation of that name gets a new one
        from the world's seed and the creation counter, as the API server gives a deleted-and-recreated object a
        new uid (kubectl describe and log resumes tell the two apart by it)."""
        self._creations += 1
        count = self._incarnations.get(key, 0) + 1
        self._incarnations[key] = count
        if count == 1:
            meta.setdefault("uid", o.uid_for(key[0], key[1] or "", key[2]))
        else:
            meta["uid"] = o.uid_for(self.seed, str(self._creations), key[0], key[1] or "", key[2], str(count))

    @staticmethod
    def _pod_uid(pod: o.Obj) -> str:
        """A pod's uid for ids derived from it (a re-created pod's containers get new container ids too)."""
        return str((pod.get("metadata") or {}).get("uid") or "")

    def _add_crd(self, crd: o.Obj, old: o.Obj | None) -> None:
        """Serve a CRD's type at once (every served version), replacing what an older version of it served."""
        new = crd_type(crd)
        if old is not None:
            was = crd_type(old)
            if was is not None and (new is None or was.key != new.key):
                self.types.pop(was.key, None)
        if new is not None:
            self.types[new.key] = new
        self._reindex()

    def _namespace_defaults(self, namespace: str) -> None:
        """What the controllers add to every new namespace: the `default` service account (lock held)."""
        key: Key = ("serviceaccounts", namespace, "default")
        if key not in self.objects:
            sa = {"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": "default", "namespace": namespace}}
            self.put("serviceaccounts", sa)

    def store(self, resource: str, namespace: str | None, name: str, new: o.Obj, *, operation: str,
              manager: fields.Manager, force: bool = False, apply: bool = False,
              keep_status: bool = True) -> tuple[o.Obj, bool]:
        """A client's write through admission: apply (with field ownership) or create/update; returns (obj, created).

        Raises Refused with the API's words: the namespace does not exist, another manager owns a field,
        validation fails, or a webhook that must be called cannot be reached.
        """
        key_name = self.resolve(resource)
        rtype = self.types[key_name]
        key: Key = (key_name, namespace, name)
        with self.lock:
            if namespace is not None and ("namespaces", None, namespace) not in self.objects:
                raise Refused(admission.Refusal(404, "NotFound", f'namespaces "{namespace}" not found',
                                                {"name": namespace, "kind": "namespaces"}))
            old = self.objects.get(key)
            own = copy.deepcopy(self.ownership.get(key) or fields.Ownership())
            now = o.ago(0)
            body = dict(new)
            body["metadata"] = dict(body.get("metadata") or {})
            if keep_status:
                body.pop("status", None)
            body.setdefault("metadata", {}).pop("managedFields", None)
            custom = self._custom_lists(key_name, str(body.get("apiVersion") or ""))
            if apply:
                try:
                    obj = fields.apply(_strip_server_meta(old), body, own, manager, force, now, custom)
                except fields.ApplyConflictError as exc:
                    raise Refused(admission.Refusal(409, "Conflict", exc.message(),
                                                    {"causes": exc.causes()})) from exc
            else:
                obj = body
                fields.update(_strip_server_meta(old), obj, own, manager, now, custom)
            meta = obj.setdefault("metadata", {})
            meta["name"] = name
            if namespace is not None:
                meta["namespace"] = namespace
            if old is not None:
                for k in ("uid", "creationTimestamp", "generation"):
                    if k in old.get("metadata", {}):
                        meta[k] = old["metadata"][k]
                if keep_status and "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                if obj.get("spec") != old.get("spec"):
                    meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
            else:
                meta["generation"] = 1
            refusal = admission.validate(obj, rtype.kind, rtype.group, name)
            if refusal is None:
                req = admission.Request("UPDATE" if old is not None else "CREATE", rtype.group, rtype.plural,
                                        rtype.namespaced, namespace, obj, old)
                configs = [o_ for (k, _, _), o_ in self.objects.items() if k in WEBHOOK_CONFIGS]
                configs.sort(key=lambda c: (c["kind"] != "MutatingWebhookConfiguration", c["metadata"]["name"]))
                refusal = admission.webhooks(configs, req, self.get, self.has_endpoints)
            if refusal is not None:
                raise Refused(refusal)
            self.ownership[key] = own
            return self.put(key_name, obj), old is None

    def _custom_lists(self, key_name: str, api_version: str) -> fields.ListSchema | None:
        """A custom resource's keyed lists from its CRD's schema at the sent version (None for built-in kinds)."""
        crd = self.objects.get((CRDS, None, key_name))
        if crd is None:
            return None
        version = api_version.rpartition("/")[2]
        cache = (key_name, version, str((crd.get("metadata") or {}).get("resourceVersion", "")))
        found = self._lists.get(cache)
        if found is None:
            found = self._lists[cache] = crd_lists(crd, version)
        return found

    def apply(self, resource: str, namespace: str | None, name: str, body: Mapping[str, Any]) -> tuple[o.Obj, bool]:
        """Server-side apply as the sandbox's own manager (tests and timelines); returns (object, created)."""
        return self.store(resource, namespace, name, copy.deepcopy(dict(body)), operation="apply",
                          manager=fields.Manager("sandbox", "Apply", ""), force=True, apply=True)

    def has_endpoints(self, namespace: str, service: str) -> bool:
        """Whether a Service selects at least one ready pod (a ready workload's template counts as its pods)."""
        with self.lock:
            svc = self.objects.get(("services", namespace, service))
            selector = ((svc or {}).get("spec") or {}).get("selector") or {}
            if not selector:
                return False
            for (key, ns, _), obj in self.objects.items():
                if ns != namespace:
                    continue
                if key in WORKLOADS and generic.is_ready(obj):
                    labels = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
                elif key == "pods" and generic.pod_ready(obj):
                    labels = (obj.get("metadata") or {}).get("labels")
                else:
                    continue
                if all((labels or {}).get(k) == v for k, v in selector.items()):
                    return True
            return False

    # ---- the controllers the sandbox plays -------------------------------------------------------

    def _schedule(self, fn: Callable[[Key], None], key: Key) -> None:
        """Run a controller step a moment later on the server's loop (as controllers react, not at once)."""
        delay = float(self.scenario.get("deployment_ready_seconds", 0.3))

        def arm() -> None:
            self.loop.call_later(delay, fn, key)

        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(arm)

    def _recheck(self, _: Key) -> None:
        """Something a blocked workload or certificate needed may now exist: try each again."""
        with self.lock:
            blocked = sorted(self._blocked, key=lambda k: (k[0], k[1] or "", k[2]))
        for key in blocked:
            (self._issue if key[0] == CERTIFICATES else self._make_available)(key)

    def _make_available(self, key: Key) -> None:
        """Mark a workload ready, as its controller would once its pods run (never, with the stuck annotation)."""
        with self.lock:
            old = self.objects.get(key)
            if old is None or generic.STUCK_ANNOTATION in ((old.get("metadata") or {}).get("annotations") or {}):
                self._blocked.discard(key)
                return
            if generic.missing_for_pods(old, lambda r, n: (r, key[1], n) in self.objects):
                self._blocked.add(key)
                return
            if key in self._blocked and key in self._born:
                self._born[key] = time.monotonic()  # its pods start only now that what they mount exists
            self._blocked.discard(key)
            starting = self._webhook_start_left(key, old)
            if starting > 0:
                self.loop.call_later(starting, self._make_available, key)
                return
            new = copy.deepcopy(old)
            new["status"] = generic.available(new)
            if new["status"] == old.get("status"):
                return
            self._record(key[0], "MODIFIED", new, old)
            self.objects[key] = new
            if key == ISTIOD:
                for (k, _, ns_name) in list(self.objects):
                    if k == "namespaces":
                        self._istio_root(ns_name)
        self._recheck_soon()
        self._notify()

    def _webhook_services(self, config: Mapping[str, Any] | None = None) -> set[tuple[str, str]]:
        """(namespace, service) of every webhook in one configuration, or in all of them (lock held)."""
        configs = [config] if config is not None else [c for (k, _, _), c in self.objects.items()
                                                         if k in WEBHOOK_CONFIGS]
        found: set[tuple[str, str]] = set()
        for c in configs:
            for hook in c.get("webhooks") or []:
                svc = (hook.get("clientConfig") or {}).get("service") or {}
                if svc.get("name"):
                    found.add((str(svc.get("namespace") or "default"), str(svc["name"])))
        return found

    def _serves(self, workload: o.Obj, namespace: str | None, services: set[tuple[str, str]]) -> bool:
        """Whether a workload's pods are selected by one of these services (lock held)."""
        labels = (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        for ns, name in services:
            if ns != namespace:
                continue
            selector = (((self.objects.get(("services", ns, name)) or {}).get("spec") or {}).get("selector")) or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                return True
        return False

    def _webhook_start_left(self, key: Key, workload: o.Obj) -> float:
        """Seconds a webhook server still needs to start (0 for other workloads, or once started; lock held)."""
        born = self._born.get(key)
        if born is None or self.webhook_ready_seconds <= 0:
            return 0.0
        left = born + self.webhook_ready_seconds - time.monotonic()
        return left if left > 0 and self._serves(workload, key[1], self._webhook_services()) else 0.0

    def _restart_webhook_servers(self, config: o.Obj) -> None:
        """A webhook configuration arrived after its server was marked ready within its start-up time: the server
        is in fact still starting (the sandbox's controller only learns now that the pods serve a webhook)."""
        services = self._webhook_services(config)
        for key, obj in list(self.objects.items()):
            if key[0] not in WORKLOADS or not generic.is_ready(obj) or not self._serves(obj, key[1], services):
                continue
            left = self._webhook_start_left(key, obj)
            if left <= 0:
                continue
            new = copy.deepcopy(obj)
            new["status"] = generic.progressing(new)
            self._record(key[0], "MODIFIED", new, obj)
            self.objects[key] = new
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.loop.call_later, left, self._make_available, key)

    def _istio_root(self, namespace: str) -> None:
        """istiod's part: every namespace gets the `istio-ca-root-cert` ConfigMap its gateways and sidecars mount."""
        istiod = self.objects.get(ISTIOD)
        if istiod is None or not generic.is_ready(istiod) or ("configmaps", namespace, ISTIO_ROOT) in self.objects:
            return
        self.put("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": ISTIO_ROOT, "namespace": namespace,
                                             "labels": {"istio.io/config": "true"}},
                                "data": {"root-cert.pem": "sandbox root certificate"}})

    def _recheck_soon(self) -> None:
        """A workload became ready: blocked certificates (waiting for cert-manager) may go on."""
        if any(k[0] == CERTIFICATES for k in self._blocked):
            self._schedule(self._recheck, ("", None, ""))

    def _issue(self, key: Key) -> None:
        """cert-manager's part: once it runs and the issuer exists, a Certificate gets its Secret and is Ready."""
        with self.lock:
            cert = self.objects.get(key)
            if cert is None:
                self._blocked.discard(key)
                return
            spec = cert.get("spec") or {}
            issuer = spec.get("issuerRef") or {}
            issuer_key: Key = ((CLUSTER_ISSUERS, None, str(issuer.get("name"))) if issuer.get("kind") == "ClusterIssuer"
                               else (ISSUERS, key[1], str(issuer.get("name"))))
            manager = self.objects.get((DEPLOYMENTS, "cert-manager", "cert-manager"))
            if issuer_key not in self.objects or manager is None or not generic.is_ready(manager):
                self._blocked.add(key)
                return
            self._blocked.discard(key)
            secret_name = str(spec.get("secretName") or key[2])
            if ("secrets", key[1], secret_name) not in self.objects:
                self.put("secrets", generic.tls_secret(str(key[1]), secret_name))
            new = copy.deepcopy(cert)
            new["status"] = generic.certificate_ready()
            if new["status"] != cert.get("status"):
                self._record(key[0], "MODIFIED", new, cert)
                self.objects[key] = new
        self._notify()

    def patch(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> o.Obj:
        """Merge-patch an object (KeyError when it does not exist)."""
        with self.lock:
            old = self.objects[(self.resolve(resource), namespace, name)]
            new = deep_merge(old, patch)
            return self.put(resource, new)

    def delete(self, resource: str, namespace: str | None, name: str) -> o.Obj | None:
        """Remove an object; watchers see DELETED; a pod's log runs end; a CRD's type stops being served."""
        with self.lock:
            key_name = self.resolve(resource)
            old = self.objects.pop((key_name, namespace, name), None)
            if old is None:
                return None
            self.ownership.pop((key_name, namespace, name), None)
            self._record(key_name, "DELETED", old, old)
            if key_name == "pods":
                for (ns, pod, _), runs in self.logs.items():
                    if ns == namespace and pod == name and runs:  # a container that never started has no run
                        runs[-1].end()
                self._sync_notebook(old, deleted=True)
            if key_name == CRDS:
                gone = crd_type(old)
                if gone is not None and gone.key != NOTEBOOKS:
                    self.types.pop(gone.key, None)
                    self._reindex()
        self._notify()
        self.notebooks.observe(resource, old, None)
        return copy.deepcopy(old)

    def compact(self) -> int:
        """Forget the watch history, as etcd compaction does: any older resourceVersion now gets 410 Gone."""
        with self.lock:
            self.history.clear()
            self.oldest_rv = self.rv
            return self.rv

    def expire_watches(self) -> int:
        """Compact and end every open watch with 410 Gone, as an API server whose watch cache fell behind."""
        with self.lock:
            self.expirations += 1
            rv = self.compact()
        self._notify()
        return rv

    # ---- friendly mutators (tests and the timeline) ----------------------------------------------

    def add_namespace(self, entry: Mapping[str, Any] | str) -> o.Obj:
        """Create a namespace from a name or a scenario entry."""
        return self.put("namespaces", o.expand_namespace(entry))

    def add_node(self, entry: Mapping[str, Any]) -> o.Obj:
        """Create a node from a scenario entry."""
        return self.put("nodes", o.expand_node(entry))

    def add_pod(self, entry: Mapping[str, Any]) -> o.Obj:
        """Create a pod (shorthand or full object); container `logs` specs start their log runs now."""
        pod = o.expand_pod(entry)
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        containers = entry.get("containers") or []
        logs_by_name: dict[str, Mapping[str, Any]] = {}
        prev_by_name: dict[str, Mapping[str, Any]] = {}
        if isinstance(entry.get("logs"), Mapping):
            logs_by_name.update(entry["logs"])
        for c in containers:
            if isinstance(c, Mapping) and c.get("logs") is not None:
                logs_by_name[str(c["name"])] = c["logs"]
            if isinstance(c, Mapping) and c.get("previous_logs") is not None:
                prev_by_name[str(c["name"])] = c["previous_logs"]
        statuses = {s["name"]: s for s in pod["status"].get("containerStatuses") or []}
        with self.lock:
            for c in pod["spec"]["containers"]:
                cname = c["name"]
                st = statuses.get(cname)
                runs: list[LogRun] = []
                if cname in prev_by_name:
                    prev = LogRun(prev_by_name[cname], time.time_ns() - 120 * 1_000_000_000)
                    prev.end()
                    runs.append(prev)
                if st is not None and "waiting" not in st.get("state", {}):
                    run = LogRun(logs_by_name.get(cname), None)
                    if "terminated" in st.get("state", {}):
                        total = run.total()
                        run.ended_at = total if total is not None else run.available()
                    runs.append(run)
                self.logs[(ns, name, cname)] = runs
            return self.put("pods", pod)

    def update_pod(self, namespace: str, name: str, patch: Mapping[str, Any]) -> o.Obj:
        """Merge-patch a pod; `status.phase: Succeeded/Failed` also terminates its containers."""
        with self.lock:
            pod = self.objects[("pods", namespace, name)]
            new = deep_merge(pod, patch)
            phase = (new.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") and (pod.get("status") or {}).get("phase") != phase:
                code = 0 if phase == "Succeeded" else 1
                for st in new["status"].get("containerStatuses") or []:
                    if "terminated" not in st.get("state", {}):
                        started = (st.get("state", {}).get("running") or {}).get("startedAt", o.ago(0))
                        st["state"] = {"terminated": {"exitCode": code, "startedAt": started,
                                                      "finishedAt": o.ago(0),
                                                      "reason": "Completed" if code == 0 else "Error"}}
                        st["ready"] = False
                        st["started"] = False
                        self._end_run(namespace, name, st["name"])
                for cond in new["status"].get("conditions") or []:
                    if cond.get("type") in ("Ready", "ContainersReady"):
                        cond["status"] = "False"
                        cond["reason"] = "PodCompleted"
            return self.put("pods", new)

    def set_container(self, namespace: str, pod: str, container: str, state: str = "running",
                      reason: str | None = None, message: str | None = None, exit_code: int = 0,
                      logs: Mapping[str, Any] | None = None, ready: bool = True) -> o.Obj:
        """Move one container to running/waiting/terminated (waiting->running starts its log run); a running
        container is ready unless `ready` is False (its readiness probe fails)."""
        with self.lock:
            obj = copy.deepcopy(self.objects[("pods", namespace, pod)])
            st = self._status_of(obj, container)
            now = o.ago(0)
            if state == "running":
                st["state"] = {"running": {"startedAt": now}}
                st["ready"] = ready
                st["started"] = True
                st.setdefault("containerID", f"containerd://{o.uid_for(namespace, pod, container, self._pod_uid(obj))}")
                runs = self.logs.setdefault((namespace, pod, container), [])
                if not runs or runs[-1].ended_at is not None:
                    runs.append(LogRun(logs if logs is not None else (runs[-1].spec if runs else None)))
            elif state == "waiting":
                block: dict[str, Any] = {"reason": reason or "ContainerCreating"}
                if message:
                    block["message"] = message
                st["state"] = {"waiting": block}
                st["ready"] = False
                st["started"] = False
                self._end_run(namespace, pod, container)
            else:
                st["state"] = {"terminated": {"exitCode": exit_code, "reason": reason or (
                    "Completed" if exit_code == 0 else "Error"), "finishedAt": now, "startedAt": now}}
                st["ready"] = False
                st["started"] = False
                self._end_run(namespace, pod, container)
            self._refresh_ready(obj)
            return self.put("pods", obj)

    def restart_container(self, namespace: str, pod: str, container: str, exit_code: int = 1,
                          logs: Mapping[str, Any] | None = None) -> o.Obj:
        """The container exits and the kubelet starts it again: restartCount+1, previous log kept, new run."""
        with self.lock:
            obj = copy.deepcopy(self.objects[("pods", namespace, pod)])
            st = self._status_of(obj, container)
            now = o.ago(0)
            started = (st.get("state", {}).get("running") or {}).get("startedAt", now)
            st["lastState"] = {"terminated": {"exitCode": exit_code, "reason": "Error" if exit_code else "Completed",
                                              "startedAt": started, "finishedAt": now,
                                              "containerID": st.get("containerID", "")}}
            st["restartCount"] = int(st.get("restartCount", 0)) + 1
            st["containerID"] = f"containerd://{o.uid_for(namespace, pod, container, str(st['restartCount']))}"
            st["state"] = {"running": {"startedAt": now}}
            st["ready"] = True
            st["started"] = True
            runs = self.logs.setdefault((namespace, pod, container), [])
            spec = logs if logs is not None else (runs[-1].spec if runs else None)
            if runs:
                runs[-1].end()
            runs.append(LogRun(spec))
            self._refresh_ready(obj)
            return self.put("pods", obj)

    def delete_pod(self, namespace: str, name: str, graceful: bool = False) -> o.Obj | None:
        """Delete a pod at once, or (graceful) mark it Terminating first as the API does with a grace period."""
        if graceful:
            with self.lock:
                if ("pods", namespace, name) not in self.objects:
                    return None
                return self.patch("pods", namespace, name, {"metadata": {"deletionTimestamp": o.ago(0),
                                                                         "deletionGracePeriodSeconds": 30}})
        return self.delete("pods", namespace, name)

    def add_event(self, entry: Mapping[str, Any]) -> o.Obj:
        """Record an event; events about a notebook's pod are reissued on the Notebook like the controller."""
        with self.lock:
            self._seq += 1
            inv = dict(entry.get("involvedObject") or {})
            ns = str(entry.get("namespace") or inv.get("namespace") or "default")
            kind = inv.get("kind", "Pod")
            res = {"Pod": "pods", "Notebook": NOTEBOOKS, "Node": "nodes"}.get(kind)
            target = self.objects.get((res, None if res == "nodes" else ns, inv.get("name", ""))) if res else None
            uid = (target or {}).get("metadata", {}).get("uid")
            ev = self.put("events", o.expand_event(entry, self._seq, None, uid))
            if kind == "Pod":
                owner = self._notebook_of_pod(ns, str(inv.get("name", "")))
                if owner is not None and not entry.get("no_reissue"):
                    again = dict(entry)
                    again["involvedObject"] = {"kind": "Notebook", "name": owner, "namespace": ns}
                    again["message"] = f"Reissued from pod/{inv.get('name')}: {entry.get('message', '')}"
                    again["source"] = {"component": "notebook-controller"}
                    again["no_reissue"] = True
                    self.add_event(again)
            return ev

    def add_notebook(self, entry: Mapping[str, Any]) -> o.Obj:
        """Create a Notebook; its status mirrors pod `<name>-0` if that pod exists."""
        nb = o.expand_notebook(entry)
        ns, name = nb["metadata"]["namespace"], nb["metadata"]["name"]
        with self.lock:
            nb["status"] = o.notebook_status_from_pod(self.objects.get(("pods", ns, f"{name}-0")))
            return self.put(NOTEBOOKS, nb)

    def drop_log_streams(self) -> int:
        """Close every open follow stream while the pods keep running (what GKE does after a while)."""
        streams = list(self.log_streams)
        for s in streams:
            s.dropped = True
        self._notify()
        return len(streams)

    def log_runs(self, namespace: str, pod: str, container: str) -> list[LogRun]:
        """The runs of one container, oldest first (the last one is the current run)."""
        with self.lock:
            return list(self.logs.get((namespace, pod, container), []))

    # ---- helpers -----------------------------------------------------------------------------

    def _status_of(self, pod: o.Obj, container: str) -> dict[str, Any]:
        """The containerStatus entry for a container, created if the pod had none yet."""
        statuses = pod.setdefault("status", {}).setdefault("containerStatuses", [])
        for st in statuses:
            if st["name"] == container:
                return dict_(st)
        image = next((c.get("image", "") for c in pod["spec"]["containers"] if c["name"] == container), "")
        st = {"name": container, "image": image, "imageID": "", "ready": False, "restartCount": 0, "state": {}}
        statuses.append(st)
        return st

    def _refresh_ready(self, pod: o.Obj) -> None:
        """Recompute the Ready/ContainersReady conditions from container readiness."""
        statuses = pod.get("status", {}).get("containerStatuses") or []
        ready = bool(statuses) and all(s.get("ready") for s in statuses)
        for cond in pod.get("status", {}).get("conditions") or []:
            if cond.get("type") in ("Ready", "ContainersReady"):
                cond["status"] = "True" if ready else "False"

    def _end_run(self, namespace: str, pod: str, container: str) -> None:
        """Stop the current log run of a container."""
        runs = self.logs.get((namespace, pod, container))
        if runs:
            runs[-1].end()

    def _notebook_of_pod(self, namespace: str, pod: str) -> str | None:
        """The Notebook that owns a pod (label notebook-name), if that Notebook exists."""
        obj = self.objects.get(("pods", namespace, pod))
        name = ((obj or {}).get("metadata", {}).get("labels") or {}).get("notebook-name")
        if name is None and pod.endswith("-0"):
            name = pod[:-2]
        if name and (NOTEBOOKS, namespace, name) in self.objects:
            return str(name)
        return None

    def _sync_notebook(self, pod: o.Obj, deleted: bool = False) -> None:
        """Copy a notebook pod's state into its Notebook's status, as the notebook controller does."""
        meta = pod.get("metadata", {})
        name = (meta.get("labels") or {}).get("notebook-name")
        key: Key = (NOTEBOOKS, meta.get("namespace"), str(name))
        if not name or key not in self.objects:
            return
        nb = copy.deepcopy(self.objects[key])
        nb["status"] = o.notebook_status_from_pod(None if deleted else pod)
        old = self.objects[key]
        self._record(NOTEBOOKS, "MODIFIED", nb, old)
        self.objects[key] = nb

    # ---- scenario ------------------------------------------------------------------------------

    def _load(self) -> None:
        """Create everything the scenario declares, in dependency order."""
        sc = self.scenario
        for ns in sc.get("namespaces") or []:
            self.add_namespace(ns)
        for node in sc.get("nodes") or []:
            self.add_node(node)
        for nb in sc.get("notebooks") or []:
            self.add_notebook(nb)
        for pod in sc.get("pods") or []:
            self.add_pod(pod)
        for ev in sc.get("events") or []:
            self.add_event(ev)
        by_kind = {(t.api_version(v), t.kind): key for key, t in self.types.items() for v in t.versions}
        for raw in sc.get("objects") or []:  # any other object, as kubectl apply would make it
            plural = by_kind.get((str(raw.get("apiVersion")), str(raw.get("kind"))))
            if plural is None:
                raise ValueError(f"scenario object {raw.get('kind')} {raw.get('apiVersion')} is not a served kind")
            self.put(plural, copy.deepcopy(dict(raw)))

    def actions(self) -> dict[str, Callable[..., Any]]:
        """Timeline action names -> mutators."""
        return {
            "add_pod": lambda a: self.add_pod(a["pod"]),
            "update_pod": lambda a: self.update_pod(a["namespace"], a["name"], a["patch"]),
            "delete_pod": lambda a: self.delete_pod(a["namespace"], a["name"], bool(a.get("graceful"))),
            "add_event": lambda a: self.add_event(a["event"]),
            "restart_container": lambda a: self.restart_container(a["namespace"], a["name"], a["container"]),
            "set_container": lambda a: self.set_container(a["namespace"], a["name"], a["container"],
                                                          a.get("state", "running"), a.get("reason"),
                                                          a.get("message"), int(a.get("exitCode", 0))),
            "drop_log_streams": lambda a: self.drop_log_streams(),
        }

    async def run_timeline(self) -> None:
        """Play the scenario's timed changes: `{after: s, every: s, times: n, action: ..., ...}`."""
        items = list(self.scenario.get("timeline") or [])
        if items:
            await asyncio.gather(*(self._play(item) for item in items))

    async def _play(self, item: Mapping[str, Any]) -> None:
        """One timeline entry; `{n}` in its strings becomes the repetition number."""
        action = self.actions()[str(item["action"])]
        await asyncio.sleep(float(item.get("after", 0)))
        n = 1
        times = item.get("times")
        while True:
            with contextlib.suppress(KeyError):  # its target is gone: a timeline never crashes the server
                action(_fill(item, n))
            if not item.get("every") or (times is not None and n >= int(times)):
                return
            n += 1
            await asyncio.sleep(float(item["every"]))


def dict_(value: Any) -> dict[str, Any]:
    """Narrow a JSON value to a dict for the type checker."""
    assert isinstance(value, dict)
    return value
