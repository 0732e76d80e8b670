"""The account step's questions: who gcloud is, who ADC is, and whether kubectl can authenticate."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kftui.core.cloud import AdcIdentity, AuthState, GcloudAccount, GcloudConfiguration
from kftui.errors import ConfigError, ToolMissingError

GCLOUD_TIMEOUT = 60.0
"""gcloud starts in ~0.5 s; a minute means it is stuck (a prompt, a dead network), not slow."""

AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def gcloud_path() -> str:
    """Where gcloud is, or ToolMissingError with one line saying how to get it."""
    found = shutil.which("gcloud")
    if found is None:
        raise ToolMissingError(
            "gcloud was not found on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)."
        )
    return found


READS: frozenset[tuple[str, ...]] = frozenset({("config", "list"), ("auth", "list"),
                                                ("config", "configurations", "list")})
"""gcloud's read-only questions about its own configuration: each costs a gcloud start (about 0.5 s of CPU), and
the account step, the quota contact and every re-check ask them again, so their answers are kept until
gcloud's configuration changes."""
_ANSWERS: dict[tuple[Any, ...], Any] = {}
_ANSWERS_LOCK = threading.Lock()


def installation_properties(gcloud: str) -> Path:
    """Where this gcloud keeps its installation-wide properties: SDK_ROOT/properties, SDK_ROOT being two levels
    above the real gcloud script (as `gcloud info` reports config.paths.installation_properties_path)."""
    return Path(os.path.realpath(gcloud)).parent.parent / "properties"


def config_state() -> tuple[Any, ...]:
    """What those answers depend on: which gcloud, its CLOUDSDK_* environment, the files of its configuration
    directory (the properties, the configurations, the credential stores; `gcloud config set` and `gcloud auth`
    rewrite them, and gcloud touches its own config_sentinel on every change), and its installation's properties
    (`gcloud config set --installation` writes them). The directory's logs and dotfiles are left out: every run
    writes those."""
    root = Path(os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")
    files: list[tuple[Any, ...]] = []
    for directory in (root, root / "configurations", root / "legacy_credentials"):
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name == "logs" or entry.name.startswith("."):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    files.append((directory.name, entry.name, info.st_mtime_ns, info.st_size))
        except OSError:
            files.append((directory.name, None))
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CLOUDSDK_")))
    gcloud = shutil.which("gcloud")
    installation: tuple[int, int] | None = None
    if gcloud is not None:
        try:
            info = installation_properties(gcloud).stat()
            installation = (info.st_mtime_ns, info.st_size)
        except OSError:
            pass  # no installation properties (most installs): nothing there to change
    return gcloud, env, tuple(sorted(files, key=repr)), installation


def run_gcloud(*args: str) -> Any:
    """Run `gcloud ARGS --format=json` without prompts and return the parsed JSON (a READS question is answered
    from the last run while gcloud's configuration is unchanged)."""
    if args not in READS:
        return _run_gcloud(args)
    before = config_state()
    with _ANSWERS_LOCK:
        if (args, before) in _ANSWERS:
            return copy.deepcopy(_ANSWERS[(args, before)])
    answer = _run_gcloud(args)
    after = config_state()
    with _ANSWERS_LOCK:
        if len(_ANSWERS) > 64:  # many configuration directories (tests, switching users): keep it small
            _ANSWERS.clear()
        _ANSWERS[(args, before)] = answer
        if after != before and after[:2] == before[:2] and after[3:] == before[3:] and set(before[2]) <= set(after[2]):
            _ANSWERS[(args, after)] = answer  # the run only created gcloud's stores (its first run here)
    return copy.deepcopy(answer)


def _run_gcloud(args: tuple[str, ...]) -> Any:
    command = [gcloud_path(), *args, "--format=json", "--quiet"]
    env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=GCLOUD_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise ToolMissingError(f"gcloud could not be run: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"`gcloud {' '.join(args)}` did not answer within {GCLOUD_TIMEOUT:.0f} s.") from exc
    if done.returncode != 0:
        raise ConfigError(f"`gcloud {' '.join(args)}` failed: {done.stderr.strip()}")
    return json.loads(done.stdout or "null")


def configurations() -> list[GcloudConfiguration]:
    """Every gcloud configuration with its account and project (`gcloud config configurations list`)."""
    rows = run_gcloud("config", "configurations", "list") or []
    out = []
    for row in rows:
        core = (row.get("properties") or {}).get("core") or {}
        out.append(
            GcloudConfiguration(
                name=str(row.get("name", "")),
                is_active=bool(row.get("is_active")),
                account=core.get("account"),
                project=core.get("project"),
            )
        )
    return out


def accounts() -> list[GcloudAccount]:
    """Accounts with credentials in gcloud's store (`gcloud auth list`)."""
    rows = run_gcloud("auth", "list") or []
    return [GcloudAccount(account=str(r.get("account", "")), active=r.get("status") == "ACTIVE") for r in rows]


def effective_config() -> dict[str, Any]:
    """Effective properties, environment overrides included (`gcloud config list`)."""
    answer = run_gcloud("config", "list")
    return answer if isinstance(answer, dict) else {}


def adc_path() -> Path | None:
    """The ADC file google-auth would read: GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        return Path(explicit)
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    well_known = Path(config) / "application_default_credentials.json"
    return well_known if well_known.exists() else None


def _impersonated_email(url: str | None) -> str | None:
    """The target service account in an impersonation URL (`.../serviceAccounts/EMAIL:generateAccessToken`)."""
    if not url or "/serviceAccounts/" not in url:
        return None
    return url.split("/serviceAccounts/", 1)[1].split(":", 1)[0]


def adc_identity() -> AdcIdentity | None:
    """Who ADC is and which quota project it bills to; None when no ADC file exists."""
    path = adc_path()
    if path is None:
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"GOOGLE_APPLICATION_CREDENTIALS points at {path}, which does not exist.") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The ADC file {path} cannot be read as JSON: {exc}") from exc
    kind = str(info.get("type", "unknown"))
    email = info.get("client_email") or _impersonated_email(info.get("service_account_impersonation_url"))
    quota = os.environ.get("GOOGLE_CLOUD_QUOTA_PROJECT") or info.get("quota_project_id") or None
    return AdcIdentity(
        kind=kind,
        email=email,
        quota_project=quota,
        project=info.get("project_id"),
        path=str(path),
    )


def auth_plugin() -> str | None:
    """Path of gke-gcloud-auth-plugin (kubectl needs it for GKE), or None if it is not on PATH."""
    return shutil.which(AUTH_PLUGIN)


def auth_state() -> AuthState:
    """gcloud's and ADC's identities in one call; the three gcloud invocations run concurrently."""
    gcloud_path()
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="gcloud") as pool:
        configs_f = pool.submit(configurations)
        accounts_f = pool.submit(accounts)
        effective_f = pool.submit(effective_config)
        adc = adc_identity()
        configs, accts, effective = configs_f.result(), accounts_f.result(), effective_f.result()
    core = effective.get("core") or {}
    active = next((c.name for c in configs if c.is_active), None)
    return AuthState(
        active_configuration=os.environ.get("CLOUDSDK_ACTIVE_CONFIG_NAME") or active,
        account=core.get("account"),
        project=core.get("project"),
        configurations=tuple(configs),
        accounts=tuple(accts),
        adc=adc,
        auth_plugin=auth_plugin(),
    )
