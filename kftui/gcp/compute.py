"""Compute Engine questions kftui asks: quotas (global, regional), where GPUs are offered, machine types."""

from __future__ import annotations

from typing import Any

from kftui.core.gpu import (
    AcceleratorOffer,
    AcceleratorOffers,
    MachineType,
    QuotaValue,
    RegionQuotas,
)
from kftui.gcp.calls import call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import GcpApiError, translated


def _last(url: str) -> str:
    """The name at the end of a compute URL (zones come back as full selfLinks)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _quotas(rows: Any) -> dict[str, QuotaValue]:
    """Compute `quotas` list -> metric-keyed QuotaValues (metric is a free string, never an enum)."""
    return {str(q.metric): QuotaValue(metric=str(q.metric), limit=float(q.limit), usage=float(q.usage)) for q in rows}


class Compute:
    """Read-only Compute Engine adapter for one project; clients are built lazily (import costs ~2.5 s)."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._clients: dict[str, Any] = {}

    def _client(self, kind: str) -> Any:
        """One REST client per compute service, built on first use."""
        if kind not in self._clients:
            from google.cloud import compute_v1

            with translated():
                self._clients[kind] = getattr(compute_v1, kind)(**client_kwargs("compute"))
        return self._clients[kind]

    def global_quotas(self) -> dict[str, QuotaValue]:
        """Project-wide quotas (GPUS_ALL_REGIONS, CPUS_ALL_REGIONS...) keyed by metric."""
        with translated():
            project = self._client("ProjectsClient").get(project=self.project, **call_options("compute"))
        return _quotas(project.quotas)

    def region_quotas(self, region: str) -> RegionQuotas:
        """A region's quotas; when compute could not read them, say so instead of reporting zeros."""
        with translated():
            reply = self._client("RegionsClient").get(project=self.project, region=region, **call_options("compute"))
        warning = ""
        unreadable = False
        if "quota_status_warning" in reply:
            unreadable = True
            w = reply.quota_status_warning
            warning = str(w.message or w.code)
        return RegionQuotas(region=region, quotas=_quotas(reply.quotas), unreadable=unreadable, warning=warning)

    def regions(self) -> list[str]:
        """Region names visible to the project."""
        with translated():
            pager = self._client("RegionsClient").list(project=self.project, **call_options("compute"))
            return sorted(str(r.name) for r in pager)

    def zones(self, region: str | None = None) -> list[str]:
        """Zone names, optionally only those of one region."""
        with translated():
            pager = self._client("ZonesClient").list(project=self.project, **call_options("compute"))
            names = [(str(z.name), _last(str(z.region))) for z in pager]
        return sorted(n for n, r in names if region is None or r == region)

    def accelerator_offers(self) -> AcceleratorOffers:
        """Every (GPU type, zone) offer; zones compute could not reach are reported, not dropped silently."""
        offers: list[AcceleratorOffer] = []
        unreachable: list[str] = []
        with translated():
            pager = self._client("AcceleratorTypesClient").aggregated_list(
                project=self.project, **call_options("compute")
            )
            for page in pager.pages:
                unreachable.extend(_last(str(u)) for u in page.unreachables)
                for scope, scoped in page.items.items():
                    if "warning" in scoped and str(scoped.warning.code) == "UNREACHABLE":
                        unreachable.append(_last(scope))
                    for acc in scoped.accelerator_types:
                        offers.append(
                            AcceleratorOffer(
                                gpu_type=str(acc.name),
                                zone=_last(str(acc.zone)) if acc.zone else _last(scope),
                                max_cards=int(acc.maximum_cards_per_instance),
                                description=str(acc.description),
                            )
                        )
        offers.sort(key=lambda o: (o.gpu_type, o.zone))
        return AcceleratorOffers(offers=tuple(offers), unreachable=tuple(sorted(set(unreachable))))

    def accelerator_type(self, zone: str, gpu_type: str) -> AcceleratorOffer:
        """One GPU type in one zone; raises GcpApiError 404 ("... was not found") when not offered there."""
        with translated():
            acc = self._client("AcceleratorTypesClient").get(
                project=self.project, zone=zone, accelerator_type=gpu_type, **call_options("compute")
            )
        return AcceleratorOffer(
            gpu_type=str(acc.name),
            zone=zone,
            max_cards=int(acc.maximum_cards_per_instance),
            description=str(acc.description),
        )

    def offered_in_zone(self, zone: str, gpu_type: str) -> bool:
        """Whether a zone offers a GPU type (a 404 is an answer, not a failure)."""
        try:
            self.accelerator_type(zone, gpu_type)
        except GcpApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def machine_types(self, zone: str) -> list[MachineType]:
        """Machine types in a zone, with the GPUs bundled into G2/A2/A3-style types."""
        with translated():
            pager = self._client("MachineTypesClient").list(project=self.project, zone=zone, **call_options("compute"))
            out = [
                MachineType(
                    name=str(m.name),
                    zone=zone,
                    guest_cpus=int(m.guest_cpus),
                    memory_mb=int(m.memory_mb),
                    accelerators=tuple(
                        (str(a.guest_accelerator_type), int(a.guest_accelerator_count)) for a in m.accelerators
                    ),
                )
                for m in pager
            ]
        return sorted(out, key=lambda m: m.name)
