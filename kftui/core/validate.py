"""Pure validators for what a person types; each returns None or a message naming the field and the rule."""

from __future__ import annotations

import re
from collections.abc import Callable

_PROJECT_CHARS = re.compile(r"^[a-z0-9-]*$")
_RESTRICTED = ("google", "null", "undefined", "ssl")
"""Strings Google refuses inside a project id (Resource Manager: "cannot contain restricted strings")."""

_CLIENT_ID = re.compile(r"^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]+@{_LABEL}(?:\.{_LABEL})+$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")


def project_id(value: str) -> str | None:
    """Google's project-id rule, checked piece by piece so the message names the part that is broken."""
    text = value.strip()
    if not text:
        return "Project ID is empty: type the ID (not the display name or the number)."
    if text.isdigit():
        return "Project ID must start with a letter; this looks like a project number, use the project ID."
    if not 6 <= len(text) <= 30:
        return f"Project ID must be 6 to 30 characters long (this one has {len(text)})."
    if not _PROJECT_CHARS.match(text):
        bad = sorted({ch for ch in text if not (ch.islower() and ch.isascii()) and not ch.isdigit() and ch != "-"})
        shown = " ".join(repr(ch) for ch in bad)
        return f"Project ID may contain only lowercase letters, digits and hyphens (not {shown})."
    if not text[0].isalpha():
        return "Project ID must start with a lowercase letter."
    if text.endswith("-"):
        return "Project ID cannot end with a hyphen."
    for word in _RESTRICTED:
        if word in text:
            return f"Project ID cannot contain the restricted word '{word}'."
    return None


def oauth_client_id(value: str) -> str | None:
    """The shape of a Google OAuth client id, so a pasted secret or project id is caught before use."""
    text = value.strip()
    if not text:
        return "OAuth client ID is empty: copy it from the client's page in the Console."
    if text.startswith("GOCSPX-"):
        return "OAuth client ID looks like a client secret (GOCSPX-...); paste the client ID here."
    if not text.endswith(".apps.googleusercontent.com"):
        return "OAuth client ID must end with .apps.googleusercontent.com (like 1234-abc.apps.googleusercontent.com)."
    if not _CLIENT_ID.match(text):
        return (
            "OAuth client ID must be digits, a hyphen, then lowercase letters and digits, then "
            ".apps.googleusercontent.com."
        )
    return None


def oauth_client_secret(value: str) -> str | None:
    """A plausible client secret: catches an empty paste, stray spaces or the client id pasted twice."""
    text = value.strip()
    if not text:
        return "OAuth client secret is empty: copy it from the client's page in the Console."
    if text.endswith(".apps.googleusercontent.com"):
        return "OAuth client secret looks like a client ID; paste the secret (it usually starts with GOCSPX-)."
    if any(ch.isspace() for ch in text):
        return "OAuth client secret cannot contain spaces."
    if len(text) < 16:
        return f"OAuth client secret is too short ({len(text)} characters); copy the whole value."
    return None


def email(value: str) -> str | None:
    """An email address as IAM members need it (user:EMAIL, serviceAccount:EMAIL)."""
    text = value.strip()
    if not text:
        return "Email is empty."
    if not _EMAIL.match(text):
        return f"Email must look like name@example.com (got {text!r})."
    return None


def billing_account_id(value: str) -> str | None:
    """A billing account id as gcloud wants it: three groups of six hex digits."""
    text = value.strip().removeprefix("billingAccounts/")
    if not _BILLING_ACCOUNT.match(text):
        return "Billing account ID must be three groups of 6 uppercase letters/digits, like 01A2B3-C4D5E6-F7A8B9."
    return None


def zone(value: str) -> str | None:
    """A Compute Engine zone name like us-central1-a."""
    if not _ZONE.match(value.strip()):
        return f"Zone must look like us-central1-a (region, then a letter), not {value.strip()!r}."
    return None


def member_for(email_address: str) -> str:
    """The IAM member string for an email: service accounts are `serviceAccount:`, everyone else `user:`."""
    kind = "serviceAccount" if email_address.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{email_address}"


KUBEFLOW_RELEASES: tuple[str, ...] = ("26.03", "v1.11.0")
"""kubeflow/manifests tags kftui deploys, newest first: they share the layout the plan relies on
(`example/`, `common/istio/istio-install/overlays/gke`)."""
OLDER_RELEASES: tuple[str, ...] = (
    "v1.10.2", "v1.10.1", "v1.10.0", "v1.9.1", "v1.9.0", "v1.8.1", "v1.8.0", "v1.7.0", "v1.6.1", "v1.6.0",
    "v1.5.1", "v1.5.0", "v1.4.1", "v1.4.0", "v1.3.1", "v1.3.0", "v1.2.0", "v1.1.0", "v1.0.2", "v1.0.1", "v1.0.0",
)
"""Real kubeflow/manifests tags older than kftui's plan (another directory layout), named so the refusal is exact."""


def kubeflow_release(value: str) -> str | None:
    """A kubeflow/manifests tag kftui can deploy; anything else is refused with the real tags listed."""
    text = value.strip()
    if text in KUBEFLOW_RELEASES:
        return None
    tags = ", ".join(KUBEFLOW_RELEASES)
    if text in OLDER_RELEASES:
        return f"Kubeflow release {text} is older than kftui's deploy plan supports; use one of: {tags}."
    shown = text if len(text) <= 40 else text[:40] + "..."
    return f"Kubeflow release must be a kubeflow/manifests tag kftui deploys ({tags}); got {shown!r}."


def manifests_path(value: str) -> str | None:
    """A local kubeflow/manifests checkout (a directory) or one rendered YAML file; empty means clone the tag."""
    from pathlib import Path

    text = value.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.exists():
        return f"Manifests directory {text} does not exist (a kubeflow/manifests checkout, or empty to clone the tag)."
    if path.is_dir():
        return None
    if path.is_file() and path.name.endswith((".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz")):
        return None
    return f"Manifests {text} must be a kubeflow/manifests directory or a rendered .yaml (or .yaml.gz) file."


# --------------------------------------------------------------------------------------------------
# The GPU plan's inputs (the GPU step's form, `kftui doctor --gpu`, `kftui quota request`)
# --------------------------------------------------------------------------------------------------

NONE = "none"
"""The gpu_type answer meaning "no GPUs": a valid choice that passes the step."""
_GPU_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]+@{_LABEL}(?:\.{_LABEL})+$")




def validate_gpu_type(value: str) -> str | None:
    """A GPU type is a Compute accelerator name (checked against the project later), or `none`."""
    text = value.strip()
    if not text:
        return "GPU type is empty: pick a type your project offers, or 'none' for a cluster without GPUs."
    if text == NONE or _GPU_NAME.match(text):
        return None
    return f"GPU type must be an accelerator name such as nvidia-tesla-t4 (lowercase, digits, hyphens); got {text!r}."


MAX_GPUS_PER_NODE = 16
"""The most GPUs one Compute VM carries (a2-megagpu-16g: 16 x A100), from Google's GPU machine table."""
MAX_NODES_PER_POOL = 1000
"""GKE's limit of nodes per node pool (per zone), from GKE's quotas and limits page."""


def _bounded(label: str, high: int, why: str) -> Callable[[str], str | None]:
    """A validator for whole numbers from 1 to `high` in ASCII digits, whose message names the field and limit."""

    def check(value: str) -> str | None:
        text = value.strip()
        if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
            return f"{label} must be at least 1 (got {text})."
        if not text or not text.isascii() or not text.isdigit():
            return f"{label} must be a whole number of at least 1 written with the digits 0-9 (got {text!r})."
        if len(text) > len(str(high)) or int(text) > high:
            return f"{label} must be at most {high} ({why})."
        if int(text) < 1:
            return f"{label} must be at least 1 (got {text})."
        return None

    check.__doc__ = f"{label}: a whole number from 1 to {high}."
    return check


validate_gpu_count = _bounded("GPUs per node", MAX_GPUS_PER_NODE, "no Compute VM carries more GPUs")
validate_max_nodes = _bounded("Maximum GPU nodes", MAX_NODES_PER_POOL, "GKE's limit of nodes per node pool")


def validate_zone(value: str) -> str | None:
    """A zone is optional; when given it must be shaped like `us-central1-a`."""
    text = value.strip()
    if not text or _ZONE.match(text):
        return None
    return f"Zone must look like us-central1-a (a region, a hyphen and a letter); got {text!r}."


def validate_region(value: str) -> str | None:
    """A region (`us-central1`) or `global` for the project-wide GPUS_ALL_REGIONS quota."""
    text = value.strip()
    if text == "global" or _REGION.match(text):
        return None
    return f"Region must look like us-central1, or be 'global' for GPUS_ALL_REGIONS; got {text!r}."


def validate_email(value: str) -> str | None:
    """Contact email for quota requests: optional in the form, but shaped like an address when given."""
    text = value.strip()
    if not text or _EMAIL.match(text):
        return None
    return f"Email must look like name@example.com; got {text!r}."


def is_user_email(value: str | None) -> bool:
    """Google wants a person to contact about a quota request, not a service account."""
    return bool(value) and bool(_EMAIL.match(value or "")) and not (value or "").endswith(".gserviceaccount.com")


