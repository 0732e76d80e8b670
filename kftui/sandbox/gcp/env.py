"""Point ADC and a private gcloud configuration at a running sandbox, so real tools work offline."""

from __future__ import annotations

import configparser
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

OVERRIDE_PATHS = {
    "compute": "compute/v1/",
    "cloudresourcemanager": "",
    "serviceusage": "",
    "cloudbilling": "",
    "cloudquotas": "",
    "container": "",
}
"""gcloud `api_endpoint_overrides/<api>` keys and the path each override carries (compute's includes
`compute/v1/`, as Google documents for real gcloud; the others are bare hosts)."""


def default_project(scenario: dict[str, Any]) -> str:
    """The project tools should act on: `project:`, else the identity's own project, else the first one."""
    projects = list((scenario.get("projects") or {}).keys())
    if scenario.get("project"):
        return str(scenario["project"])
    identity = str(scenario.get("identity") or "")
    domain = identity.partition("@")[2]
    if domain.endswith(".iam.gserviceaccount.com") and domain.split(".")[0] in projects:
        return domain.split(".")[0]
    return projects[0] if projects else "sandbox-project"


def write_key(url: str, path: Path, email: str, project: str) -> Path:
    """A service-account key file whose token_uri is the sandbox's token endpoint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(100000000000000000000 + secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": url.rstrip("/") + "/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def override_env(url: str) -> dict[str, str]:
    """CLOUDSDK_API_ENDPOINT_OVERRIDES_<API> for every API the sandbox serves."""
    base = url.rstrip("/") + "/"
    return {f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}": base + p for api, p in OVERRIDE_PATHS.items()}


def _write_properties(config_dir: Path, project: str, url: str) -> None:
    """The `default` configuration, in the INI format `gcloud config set` writes (one file, no N calls)."""
    base = url.rstrip("/") + "/"
    props = configparser.ConfigParser()
    props["core"] = {"project": project, "disable_usage_reporting": "true", "disable_prompts": "true"}
    props["component_manager"] = {"disable_update_check": "true"}
    props["survey"] = {"disable_prompts": "true"}
    props["api_endpoint_overrides"] = {api: base + p for api, p in OVERRIDE_PATHS.items()}
    (config_dir / "configurations").mkdir(parents=True, exist_ok=True)
    with (config_dir / "configurations" / "config_default").open("w", encoding="utf-8") as fh:
        props.write(fh)
    (config_dir / "active_config").write_text("default", encoding="utf-8")


def gcloud_env(config_dir: Path) -> dict[str, str]:
    """A minimal environment for running gcloud against one private configuration directory."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))}
    return {**keep, "CLOUDSDK_CONFIG": str(config_dir), "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}


def write_env(url: str, directory: Path, scenario: dict[str, Any]) -> dict[str, str]:
    """ADC key file + an activated gcloud config under `directory`; returns the env vars that select them."""
    directory.mkdir(parents=True, exist_ok=True)
    email = str(scenario.get("identity") or "sandbox@sandbox-project.iam.gserviceaccount.com")
    project = default_project(scenario)
    key = write_key(url, directory / "adc.json", email, project)
    config_dir = directory / "gcloud"
    config_dir.mkdir(exist_ok=True)
    _write_properties(config_dir, project, url)
    gcloud = shutil.which("gcloud")  # the one on PATH, as a user's shell finds it
    if gcloud is not None:
        # The one step only gcloud can do: trade the key for tokens (at the sandbox) into its credential store.
        done = subprocess.run(
            [gcloud, "auth", "activate-service-account", email, f"--key-file={key}", "--quiet"],
            env=gcloud_env(config_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"gcloud auth activate-service-account failed: {done.stderr.strip()}")
    return {
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "CLOUDSDK_CONFIG": str(config_dir),
        "CLOUDSDK_CORE_PROJECT": project,
        **override_env(url),
    }
