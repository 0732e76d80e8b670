"""A loopback container registry speaking the Docker Registry HTTP API V2 / OCI distribution spec.

One server stands in for every registry host (docker.io, ghcr.io, an ECR host ...): `/<host>/v2/...` is that
host's API, and `KFTUI_REGISTRY_OVERRIDES` tells kftui where each host lives. As the real ones do, `/v2/` answers
401 with a Bearer challenge; `/token` hands out pull tokens (anonymous for public repositories, Basic auth for
private ones, else 401 UNAUTHORIZED); manifests are an OCI image index over linux/amd64 and linux/arm64, each
pointing at an image manifest whose config blob carries User, ExposedPorts, Env and Cmd. Error bodies are the
distribution spec's `{"errors": [{"code", "message", "detail"}]}` (NAME_UNKNOWN, MANIFEST_UNKNOWN, UNAUTHORIZED,
DENIED).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from kftui.sandbox.base import Served, load_yaml

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _digest(body: bytes) -> str:
    """Content address of a blob."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _errors(status: int, code: str, message: str, detail: Any = None,
            headers: Mapping[str, str] | None = None) -> web.Response:
    """The distribution spec's error envelope."""
    body = {"errors": [{"code": code, "message": message, "detail": detail}]}
    return web.json_response(body, status=status, headers=dict(headers or {}))


@dataclass
class Image:
    """One repository:tag and the blobs that make it up."""

    host: str
    repository: str
    tag: str
    private: bool
    config: dict[str, Any]
    blobs: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    index_digest: str = ""

    def build(self) -> None:
        """Make the config, per-platform manifests and the index, content-addressed as a registry stores them."""
        for arch in ("amd64", "arm64"):
            cfg = {"architecture": arch, "os": "linux", "config": self.config,
                   "rootfs": {"type": "layers", "diff_ids": [_digest(f"{self.repository}{arch}".encode())]},
                   "history": [{"created_by": "sandbox"}]}
            cfg_bytes = json.dumps(cfg, sort_keys=True).encode()
            layer = f"layer of {self.repository}:{self.tag} {arch}".encode()
            self.blobs[_digest(cfg_bytes)] = (CONFIG, cfg_bytes)
            self.blobs[_digest(layer)] = (LAYER, layer)
            manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                        "config": {"mediaType": CONFIG, "digest": _digest(cfg_bytes), "size": len(cfg_bytes)},
                        "layers": [{"mediaType": LAYER, "digest": _digest(layer), "size": len(layer)}]}
            m_bytes = json.dumps(manifest, sort_keys=True).encode()
            self.manifests[_digest(m_bytes)] = (MANIFEST, m_bytes)
            self.manifests.setdefault(f"platform:{arch}", (MANIFEST, m_bytes))
        entries = [{"mediaType": MANIFEST, "digest": _digest(self.manifests[f"platform:{a}"][1]),
                    "size": len(self.manifests[f"platform:{a}"][1]), "platform": {"architecture": a, "os": "linux"}}
                   for a in ("amd64", "arm64")]
        index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}, sort_keys=True).encode()
        self.index_digest = _digest(index)
        self.manifests[self.index_digest] = (INDEX, index)
        self.manifests[self.tag] = (INDEX, index)


class Registry:
    """The images and users of the sandbox registry, and its HTTP handlers."""

    def __init__(self, scenario: Mapping[str, Any]) -> None:
        """Images and Basic-auth users from the scenario's `registry:` block."""
        self.users = {str(k): str(v) for k, v in (scenario.get("users") or {}).items()}
        self.images: dict[tuple[str, str], dict[str, Image]] = {}
        for entry in scenario.get("images") or []:
            image = Image(str(entry["host"]), str(entry["repository"]), str(entry.get("tag", "latest")),
                          bool(entry.get("private", False)), dict(entry.get("config") or {}))
            image.build()
            self.images.setdefault((image.host, image.repository), {})[image.tag] = image
        self.tokens: dict[str, tuple[str, str]] = {}
        self.pulls: list[tuple[str, str, str]] = []

    def private(self, host: str, repository: str) -> bool:
        """Whether pulling needs credentials (unknown repositories are treated as private, as registries do)."""
        tags = self.images.get((host, repository))
        return True if not tags else any(i.private for i in tags.values())

    def app(self) -> web.Application:
        """Routes of the v2 API under each host prefix, and the token service."""
        app = web.Application()
        app.router.add_get("/{host}/token", self.token)
        app.router.add_route("GET", "/{host}/v2/", self.base)
        app.router.add_route("*", "/{host}/v2/{name:.+}/manifests/{ref}", self.manifest)
        app.router.add_route("*", "/{host}/v2/{name:.+}/blobs/{digest}", self.blob)
        return app

    def _challenge(self, request: web.Request, host: str, scope: str = "") -> dict[str, str]:
        """The WWW-Authenticate header pointing at this host's token service."""
        realm = f"http://{request.host}/{host}/token"
        extra = f',scope="{scope}"' if scope else ""
        return {"WWW-Authenticate": f'Bearer realm="{realm}",service="{host}"{extra}'}

    async def base(self, request: web.Request) -> web.Response:
        """`GET /v2/`: 200 with a valid token, else the challenge that starts the token dance."""
        host = request.match_info["host"]
        if self._bearer(request):
            return web.json_response({})
        return _errors(401, "UNAUTHORIZED", "authentication required", None, self._challenge(request, host))

    def _bearer(self, request: web.Request) -> tuple[str, str] | None:
        """The (host, repository) a presented token was issued for."""
        auth = request.headers.get("Authorization", "")
        return self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None

    async def token(self, request: web.Request) -> web.Response:
        """Issue a pull token for `scope=repository:NAME:pull`, checking Basic auth for private repositories."""
        host = request.match_info["host"]
        scope = request.query.get("scope", "")
        parts = scope.split(":")
        repository = parts[1] if len(parts) == 3 and parts[0] == "repository" else ""
        if repository and self.private(host, repository):
            auth = request.headers.get("Authorization", "")
            try:
                user, _, password = base64.b64decode(auth.removeprefix("Basic ").strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if not auth.startswith("Basic ") or self.users.get(user) != password:
                return _errors(401, "UNAUTHORIZED", "authentication required",
                               [{"Type": "repository", "Name": repository, "Action": "pull"}])
        token = secrets.token_hex(16)
        self.tokens[token] = (host, repository)
        return web.json_response({"token": token, "access_token": token, "expires_in": 300,
                                  "issued_at": "2026-04-12T09:00:00Z"})

    def _authorised(self, request: web.Request, host: str, name: str) -> web.Response | None:
        """A 401 with the scoped challenge unless the request carries a token for this repository."""
        held = self._bearer(request)
        if held == (host, name) or (held is not None and held[0] == host and not self.private(host, name)):
            return None
        return _errors(401, "UNAUTHORIZED", "authentication required",
                       [{"Type": "repository", "Name": name, "Action": "pull"}],
                       self._challenge(request, host, f"repository:{name}:pull"))

    async def manifest(self, request: web.Request) -> web.Response:
        """A manifest by tag or digest (index for a tag; the client picks its platform's manifest)."""
        host, name, ref = request.match_info["host"], request.match_info["name"], request.match_info["ref"]
        refused = self._authorised(request, host, name)
        if refused is not None:
            return refused
        tags = self.images.get((host, name))
        if not tags:
            return _errors(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
        for image in tags.values():
            if ref in image.manifests and not ref.startswith("platform:"):
                media, body = image.manifests[ref]
                self.pulls.append((host, name, ref))
                headers = {"Docker-Content-Digest": _digest(body), "Content-Type": media}
                if request.method == "HEAD":
                    return web.Response(headers={**headers, "Content-Length": str(len(body))})
                return web.Response(body=body, headers=headers)
        return _errors(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref})

    async def blob(self, request: web.Request) -> web.Response:
        """A blob by digest."""
        host, name, digest = request.match_info["host"], request.match_info["name"], request.match_info["digest"]
        refused = self._authorised(request, host, name)
        if refused is not None:
            return refused
        for image in (self.images.get((host, name)) or {}).values():
            if digest in image.blobs:
                media, body = image.blobs[digest]
                return web.Response(body=body, headers={"Docker-Content-Digest": digest, "Content-Type": media})
        return _errors(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest})


def load_scenario(directory: Path) -> dict[str, Any]:
    """Every `registry*.yaml` in a scenario directory (later files' images are added to earlier ones)."""
    merged: dict[str, Any] = {"registry": {"users": {}, "images": []}}
    for path in sorted(Path(directory).glob("registry*.yaml")):
        data = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("registry") or {}
        merged["registry"]["users"].update(data.get("users") or {})
        merged["registry"]["images"].extend(data.get("images") or [])
    return merged


async def serve(scenario: Mapping[str, Any], host: str = "127.0.0.1", port: int = 0) -> Served:
    """Start the registry; its state is the Registry (images, users, tokens, pulls seen)."""
    registry = Registry(scenario.get("registry") or {})
    runner = web.AppRunner(registry.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    url = f"http://{host}:{bound}"
    hosts = sorted({h for h, _ in registry.images})
    overrides = ",".join([*(f"{h}={url}/{h}" for h in hosts), f"*={url}"])  # other hosts: unknown here too
    return Served("registry", url, runner.cleanup, registry, {"KFTUI_REGISTRY_OVERRIDES": overrides})
