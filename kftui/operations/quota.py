"""Filing and following GPU quota requests, one implementation for the GPU step and `kftui quota request`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kftui.core.gpu import QuotaInfo, QuotaRequest, ineligibility_words, resolve_metric
from kftui.core.validate import is_user_email, validate_email
from kftui.errors import ConfigError, KftuiError, UsageError

if TYPE_CHECKING:
    from kftui.gcp.projects import Projects
    from kftui.gcp.quotas import Quotas
    from kftui.settings import StateStore

KFTUI_PREFIX = "kftui-"
"""Quota preference ids kftui files start with this (see kftui.gcp.quotas.preference_id)."""
MAX_QUOTA_VALUE = 2**63 - 1
"""Cloud Quotas carries preferred values as int64 (QuotaConfig.preferred_value)."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Filed:
    """A request Google holds, and whether kftui could also write it down (else it must be said loudly)."""

    request: QuotaRequest
    recorded: bool
    why_not: str = ""

    def warning(self, project: str) -> str | None:
        """The loud line for a request filed at Google but not in the state file; None when it was recorded."""
        if self.recorded:
            return None
        return (
            f"WARNING: Google now holds quota request {self.request.name}, but kftui could not record it "
            f"locally ({self.why_not}). Note the name; `kftui quota status --project {project}` finds it again "
            "by its kftui- id once the state file can be written."
        )


def validate_value(value: str, label: str = "Preferred value") -> str | None:
    """A quota value: ASCII digits, at least 1, within int64 (what Cloud Quotas stores)."""
    text = value.strip()
    if not text or not text.isascii() or not text.isdigit():
        return f"{label} must be a whole number of at least 1 written with the digits 0-9 (got {value!r})."
    if len(text) > 19 or int(text) > MAX_QUOTA_VALUE:
        return f"{label} must be at most {MAX_QUOTA_VALUE} (Cloud Quotas stores it as a 64-bit integer)."
    if int(text) < 1:
        return f"{label} must be at least 1 (got {text})."
    return None


def request_record(project: str, request: QuotaRequest) -> dict[str, Any]:
    """What kftui remembers about a filed request (and what `kftui quota status --json` prints)."""
    return {
        "project": project,
        "name": request.name,
        "quota_id": request.quota_id,
        "dimensions": dict(request.dimensions),
        "preferred_value": request.preferred_value,
        "granted_value": request.granted_value,
        "state": request.state,
        "state_detail": request.state_detail,
        "trace_id": request.trace_id,
    }


def remember_requests(store: StateStore, project: str, requests: Sequence[QuotaRequest]) -> None:
    """Merge into the state file under its lock, so the app's answers and other requests survive."""
    if not requests:
        return
    with store.change() as state:
        records = state.quota_requests
        for request in requests:
            record = request_record(project, request)
            index = next((i for i, r in enumerate(records) if r.get("name") == request.name), None)
            if index is None:
                records.append(record)
            else:
                records[index] = {**records[index], **record}


def remembered_requests(store: StateStore, project: str | None = None) -> list[dict[str, Any]]:
    """Requests kftui filed (for one project, or all); an unreadable state file means none (and is said)."""
    state = store.read()
    return [dict(r) for r in state.quota_requests if project is None or r.get("project") == project]


def follow_requests(store: StateStore, project: str, quotas: Quotas) -> list[QuotaRequest]:
    """Re-read every request kftui filed for a project: remembered ones plus kftui's ids the API lists.

    `quotas` is the caller's Cloud Quotas adapter for the project (its services' own), never one built here.
    """
    from kftui.gcp.errors import GcpApiError

    names = [str(r["name"]) for r in remembered_requests(store, project) if r.get("name")]
    try:
        listed: list[QuotaRequest] = quotas.requests()
    except GcpApiError:
        listed = []
    names += [r.name for r in listed if r.name.rsplit("/", 1)[-1].startswith(KFTUI_PREFIX)]
    out: list[QuotaRequest] = []
    for name in dict.fromkeys(names):
        try:
            out.append(quotas.get(name))
        except GcpApiError as exc:
            if exc.status != 404:
                raise
    with contextlib.suppress(ConfigError):  # still shown; re-found from the API next time
        remember_requests(store, project, out)
    return out


def file_request(
    store: StateStore,
    quotas: Quotas,
    project: str,
    quota_id: str,
    where: str,
    value: int,
    email: str,
    reason: str,
    progress: Progress = lambda _line: None,
    infos: Sequence[QuotaInfo] | None = None,
) -> Filed:
    """Resolve the quota's dimensions from its info, refuse when ineligible, file, then record under the lock."""
    problem = validate_value(str(value))
    if problem:
        raise UsageError(problem)
    if infos is None:
        progress(f"reading the quota {quota_id} of {project}")
        infos = quotas.quota_infos()
    info = next((i for i in infos if i.quota_id == quota_id), None)
    if info is None:
        raise KftuiError(f"Project {project} has no quota {quota_id}; nothing was requested.")
    if not info.eligible:
        raise KftuiError(
            f"Project {project} cannot ask for more {info.metric_name} now: "
            f"{ineligibility_words(info.ineligibility_reason)}. Nothing was requested."
        )
    regional = "region" in info.dimensions
    if regional and where == "global":
        raise UsageError(f"Region is missing: {quota_id} is counted per region; give the region.")
    dims = {"region": where} if regional else {}
    progress(f"filing {quota_id} {dims or '(global)'} = {value}")
    request: QuotaRequest = quotas.file(quota_id, dims, value, contact_email=email, justification=reason)
    try:
        remember_requests(store, project, [request])
    except ConfigError as exc:
        filed = Filed(request, recorded=False, why_not=str(exc))
        progress(filed.warning(project) or "")
        return filed
    return Filed(request, recorded=True)


def quota_info_for(infos: Sequence[QuotaInfo], metric: str, regional: bool) -> QuotaInfo | None:
    """The Cloud Quotas entry counting a compute metric (regional or global), looked up, never guessed."""
    return next(
        (i for i in infos if i.metric_name == metric.upper() and ("region" in i.dimensions) == regional),
        None,
    )


def gpu_metric(infos: Sequence[QuotaInfo], gpu: str, preemptible: bool = False) -> str:
    """The regional GPU metric for a type, among the metrics the project's quota infos list."""
    return resolve_metric(gpu, [i.metric_name for i in infos if "region" in i.dimensions], preemptible)


CONTACT_ROLES = ("roles/owner", "roles/editor")
"""Whom to name when the active account is not a person: someone the project's policy makes owner or editor."""


@dataclass(frozen=True)
class Contact:
    """The person Google writes to about a quota request, and where kftui found them (said with the request)."""

    email: str
    source: str
    """given (the Contact email field or --email) | account (the active gcloud or ADC account) | policy."""

    def words(self) -> str:
        """Where the address came from, in a few words for the confirm line."""
        return {
            "given": "as given",
            "account": "the active account",
            "policy": "an owner or editor in the project's IAM policy",
        }.get(self.source, self.source)


def person_problem(email: str, label: str = "Email") -> str | None:
    """A contact must be a person's address: Google refuses a service account as a quota request's contact."""
    problem = validate_email(email) if email.strip() else f"{label} is empty."
    if problem:
        return problem.replace("Email", label, 1)
    if email.strip().endswith(".gserviceaccount.com"):
        return (
            f"{label} {email.strip()} is a service account: Google needs a person to contact about a quota "
            "request (someone who may update the project's quotas). Give your own address."
        )
    return None


def _active_person() -> str | None:
    """The ADC or gcloud account when it is a person's (None for a service account or no login)."""
    from kftui.gcp.auth import adc_identity, effective_config

    try:
        adc = adc_identity()
    except KftuiError:
        adc = None
    if adc is not None and is_user_email(adc.email):
        return str(adc.email)
    try:
        account = (effective_config().get("core") or {}).get("account")
    except KftuiError:
        account = None
    return str(account) if is_user_email(account) else None


def find_contact(answers: Mapping[str, Any], project: str | None, projects: Projects | None) -> Contact | None:
    """answers["email"], else the active account when it is a person, else an owner or editor from the project's
    IAM policy (read with `projects`, the caller's Resource Manager adapter); None when there is no person."""
    from kftui.gcp.errors import GcpApiError

    given = str(answers.get("email") or "").strip()
    if given:
        problem = person_problem(given)
        if problem:
            raise UsageError(problem)
        return Contact(given, "given")
    active = _active_person()
    if active is not None:
        return Contact(active, "account")
    if project and projects is not None:
        try:
            people = projects.people_with(project, CONTACT_ROLES)
        except GcpApiError:  # not allowed to read the policy: ask instead
            people = []
        if people:
            return Contact(people[0], "policy")
    return None


NO_CONTACT = (
    "Email is missing: Google needs a person to contact about a quota request, the active account is not a "
    "person (a service account), and kftui found no owner or editor in the project's IAM policy to name."
)


def contact_email(answers: Mapping[str, Any], project: str | None = None, projects: Projects | None = None) -> str:
    """The contact's address (see find_contact); else say which field to fill in (exit 2)."""
    found = find_contact(answers, project, projects)
    if found is None:
        raise UsageError(f"{NO_CONTACT} Fill in the GPU step's 'Contact email' field, or pass --email.")
    return found.email
