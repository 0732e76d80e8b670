"""Read an image's config from its registry (Docker Registry V2 / OCI distribution), before a notebook pulls it.

No Google or Kubernetes API is involved, so this speaks the registry protocol itself (urllib, bounded reads,
integer timeouts): the anonymous or Basic-auth token dance, the platform index, then the config blob, whose
digest is checked so a hostile registry cannot hand over something else. `KFTUI_REGISTRY_OVERRIDES`
(`host=URL,...`) points hosts elsewhere, as gcloud's endpoint overrides do, which is how the sandbox is reached.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from kftui.cluster._http import ClusterApiError, get_json
from kftui.core.images import ImageCheck, ImageRef, notebook_checks, parse_reference
from kftui.errors import KftuiError

TIMEOUT = 15
MAX_BODY = 4 << 20
"""Manifests and configs are kilobytes; anything past 4 MiB is not an honest answer."""
ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


class RegistryError(KftuiError):
    """The registry would not say; `kind` is auth, missing, transport or garbage, for the advice that follows."""

    def __init__(self, message: str, kind: str) -> None:
        """Keep the kind next to the words."""
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ImageReport:
    """What was learned about an image: its digest and the notebook checks, or why it could not be checked."""

    image: str
    digest: str = ""
    checks: list[ImageCheck] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""

    @property
    def ok(self) -> bool:
        """Checked, and nothing failed."""
        return not self.error and all(c.status != "fail" for c in self.checks)


def overrides(text: str | None = None) -> dict[str, str]:
    """`host=URL,host=URL` (and `*=URL` for the rest) from the argument or KFTUI_REGISTRY_OVERRIDES."""
    raw = os.environ.get("KFTUI_REGISTRY_OVERRIDES", "") if text is None else text
    out: dict[str, str] = {}
    for item in raw.split(","):
        host, sep, url = item.strip().partition("=")
        if sep and host and url.startswith(("http://", "https://")):
            out[host] = url.rstrip("/")
    return out


def base_url(host: str, table: dict[str, str]) -> str:
    """Where a registry host's API lives (`*=URL` sends every unlisted host to URL/HOST)."""
    if host in table:
        return table[host]
    if "*" in table:
        return f"{table['*']}/{host}"
    return "https://registry-1.docker.io" if host == "docker.io" else f"https://{host}"


def _read(req: urllib.request.Request) -> tuple[bytes, dict[str, str]]:
    """One bounded request; HTTP errors keep their status and body for the caller."""
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - the URL is the registry's
        body = resp.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise RegistryError(f"{req.full_url} answered more than 4 MiB; not a registry answer", "garbage")
        return body, {k.lower(): v for k, v in resp.headers.items()}


def _challenge(header: str) -> dict[str, str]:
    """The parameters of a `Bearer realm="...",service="..."` challenge."""
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def _registry_words(exc: urllib.error.HTTPError) -> str:
    """The distribution error's own code and message, if the body is one."""
    try:
        data = json.loads(exc.read(65536) or b"{}")
        first = (data.get("errors") or [{}])[0]
        return f"{first.get('code', exc.code)}: {first.get('message', exc.reason)}"
    except (ValueError, AttributeError, TypeError):
        return f"HTTP {exc.code} {exc.reason}"


class RegistryClient:
    """One registry conversation for one repository: token once, then manifests and blobs."""

    def __init__(self, ref: ImageRef, credentials: tuple[str, str] | None = None,
                 table: dict[str, str] | None = None) -> None:
        """Aim at the reference's registry (or its override)."""
        self.ref = ref
        self.credentials = credentials
        self.base = base_url(ref.registry, overrides() if table is None else table)
        self.token = ""

    def _basic(self) -> str:
        """The Basic header for the credentials."""
        user, password = self.credentials or ("", "")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def _get(self, path: str, accept: str = "*/*") -> tuple[bytes, dict[str, str]]:
        """GET a registry path with the token, fetching one when the registry challenges."""
        for attempt in range(2):
            req = urllib.request.Request(self.base + path, headers={"Accept": accept})  # noqa: S310
            if self.token:
                req.add_unredirected_header("Authorization", f"Bearer {self.token}")
            elif self.credentials and attempt:
                req.add_unredirected_header("Authorization", self._basic())
            try:
                return _read(req)
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    self._authenticate(exc.headers.get("WWW-Authenticate", ""))
                    continue
                raise self._error(exc) from exc
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise RegistryError(f"{self.ref.registry} ({self.base}) did not answer: {reason}", "transport") \
                    from exc
        raise RegistryError(f"{self.ref.registry} refused the pull of {self.ref.repository}", "auth")

    def _authenticate(self, header: str) -> None:
        """The token dance a challenge asks for (Basic registries take the credentials directly)."""
        if header.lower().startswith("basic"):
            if not self.credentials:
                raise self._needs_auth()
            return
        params = _challenge(header)
        realm = params.get("realm", "")
        if not realm.startswith(("http://", "https://")):
            raise RegistryError(f"{self.ref.registry} gave no usable token service ({header[:120]!r})", "garbage")
        query = urllib.parse.urlencode({"service": params.get("service", ""),
                                        "scope": f"repository:{self.ref.repository}:pull"})
        req = urllib.request.Request(f"{realm}?{query}")  # noqa: S310
        if self.credentials:
            req.add_unredirected_header("Authorization", self._basic())
        try:
            body, _ = _read(req)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise self._needs_auth() from exc
            raise self._error(exc) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise RegistryError(f"{realm} (the token service) did not answer: {getattr(exc, 'reason', exc)}",
                                "transport") from exc
        try:
            data = json.loads(body)
            self.token = str(data.get("token") or data.get("access_token") or "")
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"{realm} answered something that is not a token", "garbage") from exc
        if not self.token:
            raise RegistryError(f"{realm} answered without a token", "garbage")

    def _needs_auth(self) -> RegistryError:
        """The private-registry answer, with or without credentials given."""
        if self.credentials:
            return RegistryError(f"{self.ref.registry} refused the credentials for {self.ref.repository} "
                                 "(wrong or expired: ECR passwords last 12 hours)", "auth")
        return RegistryError(f"{self.ref.repository} on {self.ref.registry} is private (or does not exist): "
                             "cannot check it without credentials; give --pull-secret NAME", "auth")

    def _error(self, exc: urllib.error.HTTPError) -> RegistryError:
        """A registry refusal in its own words."""
        words = _registry_words(exc)
        kind = "missing" if exc.code == 404 else "auth" if exc.code in (401, 403) else "transport"
        return RegistryError(f"{self.ref} : {words}", kind)

    def _json(self, body: bytes, what: str) -> dict[str, Any]:
        """A JSON object, or a garbage error naming what was asked."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise RegistryError(f"{self.base} answered {what} that is not JSON", "garbage") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"{self.base} answered {what} of another shape", "garbage")
        return data

    def config(self) -> tuple[str, dict[str, Any]]:
        """The linux/amd64 manifest's digest and its image config."""
        repo = urllib.parse.quote(self.ref.repository, safe="/")
        body, headers = self._get(f"/v2/{repo}/manifests/{urllib.parse.quote(self.ref.reference)}", ACCEPT)
        manifest = self._json(body, "a manifest")
        digest = headers.get("docker-content-digest", "sha256:" + hashlib.sha256(body).hexdigest())
        if manifest.get("mediaType") in _INDEX_TYPES or "manifests" in manifest:
            entries = [m for m in manifest.get("manifests") or [] if isinstance(m, dict)]
            chosen = next((m for m in entries if (m.get("platform") or {}).get("architecture") == "amd64"
                           and (m.get("platform") or {}).get("os") == "linux"), None)
            if chosen is None:
                raise RegistryError(f"{self.ref} has no linux/amd64 image (GKE nodes are amd64)", "missing")
            digest = str(chosen.get("digest", ""))
            body, _ = self._get(f"/v2/{repo}/manifests/{digest}", ACCEPT)
            manifest = self._json(body, "a manifest")
        config_digest = str((manifest.get("config") or {}).get("digest", ""))
        if not re.match(r"^sha256:[0-9a-f]{64}$", config_digest):
            raise RegistryError(f"{self.ref}'s manifest names no config blob", "garbage")
        blob, _ = self._get(f"/v2/{repo}/blobs/{config_digest}")
        if "sha256:" + hashlib.sha256(blob).hexdigest() != config_digest:
            raise RegistryError(f"{self.ref}'s config does not match its digest; the registry answer is corrupt",
                                "garbage")
        return digest, self._json(blob, "an image config")


def check_image(image: str, credentials: tuple[str, str] | None = None,
                table: dict[str, str] | None = None) -> ImageReport:
    """Whether an image is fit to be a Kubeflow notebook server (ValueError for a malformed reference)."""
    ref = parse_reference(image)
    try:
        digest, config = RegistryClient(ref, credentials, table).config()
    except RegistryError as exc:
        return ImageReport(str(ref), error=str(exc), error_kind=exc.kind)
    return ImageReport(str(ref), digest, notebook_checks(config))


def secret_credentials(client: Any, namespace: str, name: str, host: str) -> tuple[str, str]:
    """The username and password a kubernetes.io/dockerconfigjson Secret holds for a registry host."""
    try:
        secret = get_json(client, f"/api/v1/namespaces/{namespace}/secrets/{name}", timeout=15)
    except ClusterApiError as exc:
        raise KftuiError(f"--pull-secret: {exc}") from exc
    raw = (secret.get("data") or {}).get(".dockerconfigjson")
    if secret.get("type") != "kubernetes.io/dockerconfigjson" or not raw:
        raise KftuiError(f"--pull-secret: secret {name} in {namespace} is not of type kubernetes.io/dockerconfigjson")
    try:
        auths = json.loads(base64.b64decode(raw)).get("auths") or {}
    except (ValueError, AttributeError) as exc:
        raise KftuiError(f"--pull-secret: secret {name} does not hold a valid .dockerconfigjson") from exc
    names = {host, f"https://{host}"} | ({"https://index.docker.io/v1/", "index.docker.io"}
                                         if host == "docker.io" else set())
    for key, entry in auths.items():
        if key.rstrip("/") in {n.rstrip("/") for n in names} and isinstance(entry, dict):
            if entry.get("username"):
                return str(entry["username"]), str(entry.get("password", ""))
            user, _, password = base64.b64decode(str(entry.get("auth", ""))).decode(errors="replace").partition(":")
            return user, password
    raise KftuiError(f"--pull-secret: secret {name} has no credentials for {host} (it has: "
                     f"{', '.join(sorted(auths)) or 'none'})")
