"""The one place that builds real clients from the environment (endpoints, ADC, kubeconfig).

Adapters read gcloud-style endpoint overrides, ADC and kubeconfig themselves, so the sandbox and tests
swap the whole outside world through the environment: there is no test branch anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kftui.cluster.prefetch import CellsFactory, PodPrefetch, Snapshot
    from kftui.gcp.billing import Billing
    from kftui.gcp.compute import Compute
    from kftui.gcp.projects import Projects
    from kftui.gcp.quotas import Quotas
    from kftui.gcp.services import Services as ServiceUsage
    from kftui.settings import StateStore


@dataclass(frozen=True)
class Options:
    """What the command line chose; None means "as the environment says"."""

    context: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    kfp_host: str | None = None
    project: str | None = None


_frozen = threading.Event()


def freeze_heap() -> None:
    """Once per process, after the first client's heavy imports: keep the long-lived heap out of the collector.

    A full collection walks every tracked object and holds the GIL meanwhile; with Textual and the kubernetes
    client loaded that is 70-300 ms on a busy two-core machine, a visible stall while logs pour in. Frozen
    objects are still freed by reference counting; only cycles among them would outlive their use.
    """
    if not _frozen.is_set():
        _frozen.set()
        import gc

        gc.freeze()


class Services:
    """Lazily built adapters shared by the screens and `kftui doctor`; heavy imports wait until first use."""

    def __init__(
        self,
        options: Options | None = None,
        now: Callable[[], datetime] | None = None,
        state: StateStore | None = None,
    ) -> None:
        self.options = options or Options()
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        """The clock ages are shown against (a fixed one makes screenshots repeatable)."""
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        self._state = state
        self._prefetch: PodPrefetch | None = None
        self.prefetch_outcome = ""
        """What became of the child's list ("used: N pods", "not used: why"; "" when none was started)."""

    def prefetch_pods(self, cells: CellsFactory | None = None) -> None:
        """Start the first pod list in a child process now, before the UI's imports (`kftui watch`); with `cells`,
        the child also files each row as the pods table would."""
        from kftui.cluster.prefetch import start_pod_prefetch

        options = self.options
        self._prefetch = start_pod_prefetch(options.context, options.namespace, options.kubeconfig, cells)

    def pod_prefetch_pending(self) -> bool:
        """Whether a child's first list waits to be taken."""
        return self._prefetch is not None

    def pod_kubeconfig_problem(self) -> str | None:
        """What the child found wrong with the kubeconfig's content ("" nothing; None: no child, or no answer)."""
        prefetch = self._prefetch
        return None if prefetch is None else prefetch.kubeconfig_problem()

    def pod_kubeconfig_scope(self) -> tuple[str, str] | None:
        """The context the child's kubeconfig names for this scope and its cluster, if it read them."""
        prefetch = self._prefetch
        return None if prefetch is None else prefetch.named_scope()

    def pod_namespace_verdict(self) -> str:
        """The child's answer on the namespace being watched: "missing", "ok" or "unknown" (no child, no answer)."""
        prefetch = self._prefetch
        return "unknown" if prefetch is None else prefetch.namespace_verdict()

    def pod_prefetch_ready(self, timeout: float) -> bool:
        """Whether the child's list is arriving (waits at most `timeout`): the first frame can then show it."""
        prefetch = self._prefetch
        return prefetch is not None and prefetch.ready(timeout)

    def take_pod_prefetch(self) -> Snapshot | None:
        """That list, once, if it is of the scope being watched now; None: list as usual."""
        with self._lock:
            prefetch, self._prefetch = self._prefetch, None
        if prefetch is None:
            return None
        if (prefetch.context, prefetch.namespace) != (self.options.context, self.options.namespace):
            prefetch.discard()
            self.prefetch_outcome = "discarded: the scope changed"
            return None
        snapshot = prefetch.take()
        self.prefetch_outcome = f"used: {len(snapshot.rows)} pods" if snapshot is not None else (
            f"not used: {prefetch.error}")
        return snapshot

    def drop_pod_prefetch(self) -> None:
        """The app is closing: a child still listing is ended."""
        with self._lock:
            prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            prefetch.discard()

    @property
    def state(self) -> StateStore:
        """The one owner of state.json for everything sharing these services (app, steps, commands)."""
        if self._state is not None:
            return self._state
        from kftui.settings import default_store

        return default_store()

    def use_state(self, store: StateStore) -> None:
        """Keep state elsewhere (in memory for a throwaway session)."""
        self._state = store

    def projects(self) -> Projects:
        """Resource Manager, built once (its client is thread-safe)."""
        from kftui.gcp.projects import Projects

        return self._get("gcp:projects", Projects)  # type: ignore[no-any-return]

    def service_usage(self) -> ServiceUsage:
        """Service Usage, built once."""
        from kftui.gcp.services import Services as ServiceUsage

        return self._get("gcp:serviceusage", ServiceUsage)  # type: ignore[no-any-return]

    def billing(self) -> Billing:
        """Cloud Billing, built once."""
        from kftui.gcp.billing import Billing

        return self._get("gcp:billing", Billing)  # type: ignore[no-any-return]

    def compute(self, project: str) -> Compute:
        """Compute Engine for one project, built once per project."""
        from kftui.gcp.compute import Compute

        return self._get(f"gcp:compute:{project}", lambda: Compute(project))  # type: ignore[no-any-return]

    def quotas(self, project: str) -> Quotas:
        """Cloud Quotas for one project, built once per project."""
        from kftui.gcp.quotas import Quotas

        return self._get(f"gcp:quotas:{project}", lambda: Quotas(project))  # type: ignore[no-any-return]

    def _get(self, key: str, build: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
                freeze_heap()
            return self._cache[key]

    def kube_api(self, context: str | None = None) -> Any:
        """A kubernetes ApiClient for a context (default: the chosen or current one)."""
        ctx = context or self.options.context

        def build() -> Any:
            from kftui.cluster.kubeconfig import api_client

            return api_client(context=ctx, path=self.options.kubeconfig)

        return self._get(f"kube:{ctx}", build)

    def use_context(self, context: str) -> None:
        """Point every cluster view at this context from now on (a deploy just made it)."""
        from dataclasses import replace

        self.options = replace(self.options, context=context)
        self.forget_kube()
        with self._lock:
            self._cache.pop("kfp", None)  # reached through the old cluster's proxy, unless a host was given

    def forget_kube(self) -> None:
        """Drop cached cluster clients after a context switch or a kubeconfig change."""
        with self._lock:
            for key in [k for k in self._cache if k.startswith("kube:")]:
                del self._cache[key]

    def kfp(self) -> Any:
        """The PipelinesClient, built once; an unreachable API raises "cannot reach the pipelines API at URL: why".

        Built outside the lock: the probe may take seconds and must not hold up the cluster clients.
        """
        with self._lock:
            cached = self._cache.get("kfp")
        if cached is not None:
            return cached
        from kftui.pipelines.client import connect

        client = connect(self.options.kfp_host, namespace=self.options.namespace, kube_context=self.options.context)
        with self._lock:
            return self._cache.setdefault("kfp", client)


if TYPE_CHECKING:
    from kftui.steps.base import StepServices

    def _is_step_services(services: Services) -> StepServices:
        """mypy proves here that the real services satisfy the steps' typed interface."""
        return services
