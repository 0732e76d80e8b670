"""Image references and what a Kubeflow notebook image must do, judged from its OCI config.

Reference grammar as distribution/reference normalises it (docker.io's `library/` and registry-1 host); the
notebook rules are Kubeflow's for custom images: serve HTTP on 8888, honour NB_PREFIX as the base URL, run as
jovyan (uid 1000) with home /home/jovyan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
DOCKER_HUB = "docker.io"
NOTEBOOK_PORT = 8888
NOTEBOOK_UID = 1000


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: registry host, repository path, and tag or digest."""

    registry: str
    repository: str
    tag: str = "latest"
    digest: str = ""

    @property
    def reference(self) -> str:
        """What a manifest request names: the digest when pinned, else the tag."""
        return self.digest or self.tag

    def __str__(self) -> str:
        """The reference as a person writes it."""
        return f"{self.registry}/{self.repository}" + (f"@{self.digest}" if self.digest else f":{self.tag}")


def parse_reference(text: str) -> ImageRef:
    """An image reference, normalised the way kubelet and docker read it; ValueError names the broken part."""
    ref = text.strip()
    if not ref or len(ref) > 255 or any(ch.isspace() for ch in ref):
        raise ValueError("image: give a reference such as ghcr.io/org/image:tag (no spaces, at most 255 characters)")
    digest = ""
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            raise ValueError(f"image: digest {digest!r} must be sha256: and 64 hex digits")
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, ref
    tag = "latest"
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ValueError(f"image: tag {tag!r} may hold letters, digits, '_', '.' and '-' (at most 128)")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _NAME.match(path):
        raise ValueError(f"image: repository {path!r} must be lower-case letters, digits and . _ - separators")
    return ImageRef(registry, path, tag, digest)


def registry_kind(host: str) -> str:
    """Which family a registry host belongs to, for pull-secret advice."""
    if host.endswith(".pkg.dev"):
        return "artifact-registry"
    if host == "gcr.io" or host.endswith(".gcr.io"):
        return "gcr"
    if re.match(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$", host):
        return "ecr"
    if host in (DOCKER_HUB, "registry-1.docker.io", "index.docker.io"):
        return "docker-hub"
    return "other"


def ecr_region(host: str) -> str | None:
    """The AWS region named in an ECR host."""
    match = re.match(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$", host)
    return match.group(1) if match else None


@dataclass(frozen=True)
class ImageCheck:
    """One judgement on an image: pass, warn or fail, in plain words."""

    status: str
    message: str


def _uid(user: str) -> int | None:
    """The numeric uid an image's User field gives, if it gives one (jovyan is 1000 in Kubeflow's images)."""
    name = user.split(":", 1)[0]
    if name.isdigit():
        return int(name)
    return {"": 0, "root": 0, "jovyan": NOTEBOOK_UID}.get(name)


def notebook_checks(config: dict[str, Any]) -> list[ImageCheck]:
    """How an image's config measures up to what a Kubeflow notebook server needs."""
    raw = config.get("config")
    cfg: dict[str, Any] = raw if isinstance(raw, dict) else {}
    checks: list[ImageCheck] = []
    exposed = cfg.get("ExposedPorts")
    ports: dict[str, Any] = exposed if isinstance(exposed, dict) else {}
    if f"{NOTEBOOK_PORT}/tcp" in ports:
        checks.append(ImageCheck("pass", "exposes port 8888, where Kubeflow sends the notebook's traffic"))
    else:
        shown = ", ".join(sorted(str(p) for p in ports)) or "none"
        checks.append(ImageCheck("fail", f"does not expose 8888/tcp (exposes: {shown}); Kubeflow routes the "
                                         "notebook to port 8888, so the server must listen there"))
    user = str(cfg.get("User") or "")
    uid = _uid(user)
    if uid == NOTEBOOK_UID:
        checks.append(ImageCheck("pass", f"runs as uid 1000 ({user}), the owner of the /home/jovyan workspace"))
    elif uid == 0:
        checks.append(ImageCheck("warn", "runs as root; the workspace volume at /home/jovyan is made for uid 1000 "
                                         "(jovyan), and many clusters refuse root containers"))
    else:
        checks.append(ImageCheck("warn", f"runs as user {user!r}; Kubeflow's images run as jovyan (uid 1000) "
                                         "and the workspace volume expects that uid"))
    words = " ".join(str(x) for x in [*(cfg.get("Entrypoint") or []), *(cfg.get("Cmd") or [])]
                     if isinstance(x, str | int))
    env = [str(e) for e in cfg.get("Env") or [] if isinstance(e, str)]
    if "NB_PREFIX" in words or "base_url" in words or any(e.startswith("NB_PREFIX=") for e in env):
        checks.append(ImageCheck("pass", "serves under NB_PREFIX (the /notebook/NAMESPACE/NAME/ path Kubeflow "
                                         "opens)"))
    else:
        checks.append(ImageCheck("warn", "nothing in its command or environment uses NB_PREFIX; Kubeflow opens the "
                                         "notebook at /notebook/NAMESPACE/NAME/, so start the server with "
                                         "--ServerApp.base_url=${NB_PREFIX} or it will answer 404"))
    home = next((e.split("=", 1)[1] for e in env if e.startswith("HOME=")), "")
    if home and home != "/home/jovyan":
        checks.append(ImageCheck("warn", f"HOME is {home}; the workspace volume is mounted at /home/jovyan"))
    return checks
