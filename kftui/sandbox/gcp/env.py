"""Point ADC and a private gcloud configuration at a running sandbox, so real tools work offline.

The one slow step is `gcloud auth activate-service-account` (a gcloud process: about a second of CPU). With
`write_env(..., reuse=True)`, which `Sandbox` uses, the first activation of an identity in a process is real and
kept as a template; later sandboxes of that identity get a copy of what gcloud wrote, with the key, the token URL,
the paths and a fresh access token of this sandbox put where gcloud put the old ones. Anything unexpected in the
copy (a field, a table or a stale path or URL left over) falls back to the real activation.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


_PEM: list[str] = []
"""One RSA key per process: generating one costs 20-300 ms of CPU, and the sandbox never checks a signature."""


def _private_key_pem() -> str:
    """The process's one PKCS#8 key (made on first use); every key file gets its own key id and client id."""
    if not _PEM:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _PEM.append(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        )
    return _PEM[0]


def write_key(url: str, path: Path, email: str, project: str) -> Path:
    """A service-account key file whose token_uri is the sandbox's token endpoint."""
    pem = _private_key_pem()
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


@dataclass(frozen=True)
class _Activation:
    """What gcloud wrote when it activated a key (each file's bytes by relative path, held in memory so no
    process leaves a copy behind, even one ended by a signal), where that dir was, and the token URL it used."""

    files: dict[str, tuple[bytes, int]]
    origin: str
    token_uri: str


_ACTIVATED: dict[tuple[str, str], _Activation] = {}
"""(gcloud, identity) -> its first real activation in this process, the template for later ones."""
_ACTIVATED_LOCK = threading.Lock()
_SKIP = ("logs",)
"""gcloud's own command logs: nothing a later gcloud reads, and they name the template's paths."""


def _activate(gcloud: str, email: str, key: Path, config_dir: Path) -> None:
    """The one step only gcloud can do: trade the key for tokens (at the sandbox) into its credential store."""
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


def _keep_template(gcloud: str, email: str, config_dir: Path, token_uri: str) -> None:
    """Read a fresh activation into memory (before any gcloud run changes it) for the identity's later sandboxes."""
    with _ACTIVATED_LOCK:
        if (gcloud, email) in _ACTIVATED:
            return
        files = {
            path.relative_to(config_dir).as_posix(): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
            for path in config_dir.rglob("*")
            if path.is_file() and path.relative_to(config_dir).parts[0] not in _SKIP
        }
        _ACTIVATED[(gcloud, email)] = _Activation(files, str(config_dir), token_uri)


def _patched_key(stored: dict[str, Any], info: dict[str, Any], email: str) -> dict[str, Any]:
    """The fields gcloud kept of the template's key, taken from this sandbox's key instead."""
    if stored.get("type") != "service_account" or stored.get("client_email") != email:
        raise ValueError("not the identity's service-account key")
    return {name: info[name] for name in stored}


def _fresh_id_token(old: str | None, email: str) -> str | None:
    """An ID token like the template's (same audience), issued now."""
    from kftui.sandbox.gcp.token import jwt_claims, make_id_token

    if not old:
        return old
    return make_id_token(email, str(jwt_claims(old)["aud"]))


def _patch_stores(staging: Path, info: dict[str, Any], email: str) -> None:
    """Put this sandbox's key and a fresh token where gcloud's activation stored the template's."""
    from kftui.sandbox.gcp.common import issue_token
    from kftui.sandbox.gcp.token import TOKEN_LIFETIME

    with contextlib.closing(sqlite3.connect(staging / "credentials.db")) as db:
        rows = db.execute("SELECT account_id, value FROM credentials").fetchall()
        if [account for account, _ in rows] != [email]:
            raise ValueError("the credential store holds other accounts")
        value = json.dumps(_patched_key(json.loads(rows[0][1]), info, email))
        db.execute("UPDATE credentials SET value = ? WHERE account_id = ?", (value, email))
        db.commit()
        db.execute("VACUUM")  # the replaced row leaves no bytes behind (checked for stale URLs by the caller)
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=TOKEN_LIFETIME)
    with contextlib.closing(sqlite3.connect(staging / "access_tokens.db")) as db:
        old = db.execute("SELECT id_token FROM access_tokens WHERE account_id = ?", (email,)).fetchall()
        if len(old) != 1:
            raise ValueError("no cached access token for the account")
        db.execute(
            "UPDATE access_tokens SET access_token = ?, token_expiry = ?, id_token = ? WHERE account_id = ?",
            (issue_token(email), expiry.isoformat(" ", "microseconds"), _fresh_id_token(old[0][0], email), email),
        )
        db.commit()
        db.execute("VACUUM")


def _from_template(gcloud: str, email: str, key: Path, config_dir: Path) -> bool:
    """Copy the identity's activation into config_dir, patched for this sandbox; False when there is none or the
    copy does not come out clean (then the caller activates for real)."""
    with _ACTIVATED_LOCK:
        template = _ACTIVATED.get((gcloud, email))
    if template is None:
        return False
    info = json.loads(key.read_text(encoding="utf-8"))
    staging = config_dir.parent / (config_dir.name + ".staging")
    try:
        for name, (data, mode) in template.files.items():
            if name.split("/")[0] in ("configurations", "active_config"):
                continue  # this sandbox's own, written above
            target = staging / name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(mode)
        _patch_stores(staging, info, email)
        for path in staging.rglob("*"):
            if not path.is_file() or path.suffix == ".db":
                continue
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                text = json.dumps(_patched_key(json.loads(text), info, email), indent=2)
            path.write_text(text.replace(template.origin, str(config_dir)), encoding="utf-8")
        for path in staging.rglob("*"):
            data = path.read_bytes() if path.is_file() else b""
            if template.origin.encode() in data or template.token_uri.encode() in data:
                raise ValueError(f"{path.name} still names the template's directory or URL")
        activated = configparser.ConfigParser()
        activated.read_string(template.files["configurations/config_default"][0].decode("utf-8"))
        ours = configparser.ConfigParser()
        ours.read(config_dir / "configurations" / "config_default", encoding="utf-8")
        for section in activated.sections():  # what activation set (core/account), never the template's URLs
            if not ours.has_section(section):
                ours.add_section(section)
            for name, value in activated.items(section, raw=True):
                if not ours.has_option(section, name):
                    ours.set(section, name, value)
    except (OSError, ValueError, KeyError, UnicodeDecodeError, sqlite3.Error, configparser.Error):
        shutil.rmtree(staging, ignore_errors=True)
        return False
    for path in staging.iterdir():
        path.rename(config_dir / path.name)
    staging.rmdir()
    with (config_dir / "configurations" / "config_default").open("w", encoding="utf-8") as fh:
        ours.write(fh)
    return True


def write_env(url: str, directory: Path, scenario: dict[str, Any], reuse: bool = False) -> dict[str, str]:
    """ADC key file + an activated gcloud config under `directory`; returns the env vars that select them.

    With reuse, an identity gcloud already activated in this process is copied from that activation (see the
    module's docstring) instead of running gcloud again; a revoked key is always activated for real, to fail."""
    directory.mkdir(parents=True, exist_ok=True)
    email = str(scenario.get("identity") or "sandbox@sandbox-project.iam.gserviceaccount.com")
    project = default_project(scenario)
    key = write_key(url, directory / "adc.json", email, project)
    config_dir = directory / "gcloud"
    config_dir.mkdir(exist_ok=True)
    _write_properties(config_dir, project, url)
    gcloud = shutil.which("gcloud")  # the one on PATH, as a user's shell finds it
    if gcloud is not None:
        reuse = reuse and email not in (scenario.get("revoked_keys") or [])
        if not (reuse and _from_template(gcloud, email, key, config_dir)):
            _activate(gcloud, email, key, config_dir)
            if reuse:
                _keep_template(gcloud, email, config_dir, url.rstrip("/") + "/token")
    return {
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "CLOUDSDK_CONFIG": str(config_dir),
        "CLOUDSDK_CORE_PROJECT": project,
        **override_env(url),
    }
