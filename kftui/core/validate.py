"""Pure validators for what a person types; each returns None or a message naming the field and the rule."""

from __future__ import annotations

import re

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
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return None
    return f"Manifests {text} must be a kubeflow/manifests directory or a rendered .yaml file."
