"""What the GCP adapters answer with: plain frozen records, free of any client library type."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GcloudConfiguration:
    """One named gcloud configuration (`gcloud config configurations list`)."""

    name: str
    is_active: bool
    account: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class GcloudAccount:
    """One credentialed account in gcloud's store (`gcloud auth list`)."""

    account: str
    active: bool


@dataclass(frozen=True, slots=True)
class AdcIdentity:
    """Who Application Default Credentials act as; client libraries use this, not gcloud's account."""

    kind: str
    """service_account, authorized_user, external_account, impersonated_service_account, ..."""
    email: str | None = None
    quota_project: str | None = None
    project: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class AuthState:
    """Everything the account step asks in one go: gcloud's view, ADC's view, and the kubectl plugin."""

    active_configuration: str | None
    account: str | None
    project: str | None
    configurations: tuple[GcloudConfiguration, ...] = ()
    accounts: tuple[GcloudAccount, ...] = ()
    adc: AdcIdentity | None = None
    auth_plugin: str | None = None
    """Path of gke-gcloud-auth-plugin, or None when it is not on PATH."""

    @property
    def identities_match(self) -> bool:
        """Whether gcloud (kubectl's identity) and ADC (the libraries' identity) are the same account."""
        return bool(self.adc and self.adc.email and self.account and self.adc.email == self.account)


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """A project as the wizard needs it: id, number, lifecycle state and parent."""

    project_id: str
    number: str
    state: str
    display_name: str = ""
    parent: str | None = None
    """organizations/N or folders/N; None for projects without an organization (personal accounts)."""

    @property
    def has_organization(self) -> bool:
        """Whether the project lives under an organization or folder (decides the OAuth route)."""
        return bool(self.parent)

    @property
    def active(self) -> bool:
        """Only ACTIVE projects can be deployed to."""
        return self.state == "ACTIVE"


@dataclass(frozen=True, slots=True)
class ServiceState:
    """One API's state in a project."""

    name: str
    enabled: bool
    title: str = ""


@dataclass(frozen=True, slots=True)
class EnableProgress:
    """A tick of an enable operation, for a progress display."""

    operation: str
    services: tuple[str, ...]
    polls: int
    done: bool


@dataclass(frozen=True, slots=True)
class EnableResult:
    """The outcome of enabling APIs, as re-checked after the operation finished."""

    requested: tuple[str, ...]
    enabled: frozenset[str] = field(default_factory=frozenset)
    still_disabled: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every requested API is now enabled."""
        return not self.still_disabled


@dataclass(frozen=True, slots=True)
class BillingInfo:
    """Whether a project can spend money, and on which account."""

    project_id: str
    enabled: bool
    account: str | None = None
    """billingAccounts/XXXXXX-XXXXXX-XXXXXX"""
    account_display_name: str | None = None
    account_open: bool | None = None
