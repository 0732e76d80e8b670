"""Cloud Quotas questions: which quota id counts a metric, may it be raised, file and follow a request."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from kftui.core.gpu import QuotaInfo, QuotaRequest
from kftui.gcp.calls import call_options
from kftui.gcp.endpoints import client_kwargs
from kftui.gcp.errors import GcpApiError, translated

SERVICE = "compute.googleapis.com"


def preference_id(quota_id: str, dimensions: Mapping[str, str], value: int) -> str:
    """Deterministic quotaPreferenceId: the same request always maps to the same id, so it is filed once."""
    dims = ",".join(f"{k}={v}" for k, v in sorted(dimensions.items()))
    digest = hashlib.sha256(f"{quota_id}|{dims}|{value}".encode()).hexdigest()[:10]
    readable = re.sub(r"[^a-z0-9-]+", "-", f"{quota_id}-{'-'.join(dimensions.values())}-{value}".lower())
    readable = readable.removesuffix("-per-project-region").strip("-")
    return f"kftui-{readable[:40].strip('-')}-{digest}"


def _info(raw: Any) -> QuotaInfo:
    """cloudquotas_v1.QuotaInfo -> core QuotaInfo."""
    elig = raw.quota_increase_eligibility
    reason = None
    if not elig.is_eligible:
        reason = elig.ineligibility_reason.name if elig.ineligibility_reason else "INELIGIBILITY_REASON_UNSPECIFIED"
    values = tuple(
        ({str(k): str(v) for k, v in d.dimensions.items()}, int(d.details.value)) for d in raw.dimensions_infos
    )
    return QuotaInfo(
        quota_id=str(raw.quota_id),
        metric=str(raw.metric),
        dimensions=tuple(str(d) for d in raw.dimensions),
        eligible=bool(elig.is_eligible),
        ineligibility_reason=reason,
        values=values,
    )


def _request(raw: Any, already_filed: bool = False) -> QuotaRequest:
    """cloudquotas_v1.QuotaPreference -> core QuotaRequest."""
    config = raw.quota_config
    granted: int | None = None
    if "granted_value" in config:
        granted = int(config.granted_value)
    return QuotaRequest(
        name=str(raw.name),
        quota_id=str(raw.quota_id),
        dimensions={str(k): str(v) for k, v in raw.dimensions.items()},
        preferred_value=int(config.preferred_value),
        granted_value=granted,
        reconciling=bool(raw.reconciling),
        state_detail=str(config.state_detail),
        trace_id=str(config.trace_id),
        already_filed=already_filed,
    )


class Quotas:
    """Cloud Quotas adapter for compute quotas of one project."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._client_obj: Any = None

    @property
    def _client(self) -> Any:
        """The CloudQuotasClient, built on first use."""
        if self._client_obj is None:
            from google.cloud import cloudquotas_v1

            with translated():
                self._client_obj = cloudquotas_v1.CloudQuotasClient(**client_kwargs("cloudquotas"))
        return self._client_obj

    @property
    def _service_parent(self) -> str:
        """Parent of compute's quota infos."""
        return f"projects/{self.project}/locations/global/services/{SERVICE}"

    def quota_infos(self) -> list[QuotaInfo]:
        """Every compute quota the project has, with ids, dimensions, values and eligibility."""
        with translated():
            pager = self._client.list_quota_infos(parent=self._service_parent, **call_options("cloudquotas"))
            return [_info(i) for i in pager]

    def find(self, metric: str, region: str | None = None) -> QuotaInfo | None:
        """The quota info that counts a compute metric (regional if `region`), looked up, not guessed."""
        wanted = metric.lower()
        for info in self.quota_infos():
            if info.metric.rsplit("/", 1)[-1].lower() != wanted:
                continue
            if ("region" in info.dimensions) == (region is not None):
                return info
        return None

    def eligibility(self) -> tuple[bool, str | None]:
        """Whether quota increases may be requested at all (and why not): read off any quota info."""
        infos = self.quota_infos()
        if not infos:
            return True, None
        bad = next((i for i in infos if not i.eligible), None)
        return (False, bad.ineligibility_reason) if bad else (True, None)

    def request_increase(
        self,
        metric: str,
        value: int,
        *,
        region: str | None = None,
        contact_email: str = "",
        justification: str = "Kubeflow on GKE with GPU node pools (requested with kftui).",
    ) -> QuotaRequest:
        """File a quota preference for a metric; a repeated press finds the one already filed."""
        info = self.find(metric, region)
        if info is None:
            where = f" in region {region}" if region else ""
            raise GcpApiError(
                f"No quota for {metric}{where} in project {self.project}.", status=404, reason="QUOTA_NOT_FOUND"
            )
        dims = {"region": region} if region else {}
        return self.file(info.quota_id, dims, value, contact_email=contact_email, justification=justification)

    def file(
        self,
        quota_id: str,
        dimensions: Mapping[str, str],
        value: int,
        *,
        contact_email: str = "",
        justification: str = "",
    ) -> QuotaRequest:
        """Create the preference under a deterministic id; 409 means it was filed before: fetch it."""
        from google.cloud import cloudquotas_v1

        pid = preference_id(quota_id, dimensions, value)
        parent = f"projects/{self.project}/locations/global"
        pref = cloudquotas_v1.QuotaPreference(
            service=SERVICE,
            quota_id=quota_id,
            dimensions=dict(dimensions),
            quota_config=cloudquotas_v1.QuotaConfig(preferred_value=value),
            contact_email=contact_email,
            justification=justification,
        )
        try:
            with translated():
                created = self._client.create_quota_preference(  # a deterministic id: a repeat answers 409
                    parent=parent, quota_preference=pref, quota_preference_id=pid, **call_options("cloudquotas")
                )
        except GcpApiError as exc:
            if exc.status != 409:
                raise
            return self.get(f"{parent}/quotaPreferences/{pid}", already_filed=True)
        return _request(created)

    def get(self, name: str, *, already_filed: bool = False) -> QuotaRequest:
        """One preference's current state (reconciling, granted value, state detail, trace id)."""
        with translated():
            raw = self._client.get_quota_preference(name=name, **call_options("cloudquotas"))
        return _request(raw, already_filed=already_filed)

    def requests(self) -> list[QuotaRequest]:
        """Every preference filed for the project."""
        with translated():
            pager = self._client.list_quota_preferences(
                parent=f"projects/{self.project}/locations/global", **call_options("cloudquotas")
            )
            return [_request(p) for p in pager]
