"""Readers for the values every family needs (project, zone, GPU ...), so explanations can name them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from kftui.core.diagnosis import FactValue
from kftui.diagnose.normalize import Problem

Context = Mapping[str, str]
"""What the caller already knows (project, zone, namespace, gpu, email ...); the text wins over it."""

_REGION = r"(?:us|europe|asia|australia|northamerica|southamerica|me|africa)-[a-z]+\d{1,2}"
ZONE = rf"{_REGION}-[a-z]"
GPU = r"nvidia-[a-z0-9]{1,24}(?:-[a-z0-9]{1,24}){0,4}"
REGION_RE = rf"\b{_REGION}\b(?!-[a-z]\b)"
ZONE_RE = rf"\b{ZONE}\b"
GPU_RE = rf"\b{GPU}\b"
_PROJECT_ID = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"

# Accelerator types whose quota metric does not spell them out (NVIDIA_T4_GPUS -> nvidia-tesla-t4).
_TESLA = {"T4", "P4", "P100", "V100", "K80", "A100"}

PLACEHOLDERS = {
    "project": "PROJECT_ID",
    "zone": "ZONE",
    "region": "REGION",
    "gpu": "GPU_TYPE",
    "email": "EMAIL",
    "namespace": "NAMESPACE",
    "cluster": "CLUSTER",
    "pod": "POD",
}


def ctx_get(ctx: Context, name: str) -> str | None:
    """A non-empty context value."""
    value = ctx.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def or_placeholder(value: FactValue | None, name: str) -> str:
    """The user's value, or an obvious placeholder to replace before running a command."""
    if value is None or value == "":
        return PLACEHOLDERS.get(name, name.upper())
    return str(value)


def shown(value: FactValue | None, fallback: str) -> str:
    """The user's value for prose, or words that read naturally when it is unknown."""
    return fallback if value is None or value == "" else str(value)


def project_words(project: str | None, capital: bool = False) -> str:
    """'project P' when known, else 'your project', so sentences read well either way."""
    words = f"project {project}" if project else "your project"
    return words[0].upper() + words[1:] if capital else words


def group(m: re.Match[str] | None, name: str | int = 1) -> str | None:
    """A regex group or None, without tripping over absent matches."""
    if m is None:
        return None
    try:
        value = m.group(name)
    except IndexError:
        return None
    return value or None


def project(p: Problem, ctx: Context) -> tuple[str | None, str | None]:
    """(project id or number, project number) named by the text, else by the context."""
    number: str | None = None
    consumer = p.metadata.get("consumer") or p.metadata.get("containerInfo") or ""
    m = re.search(r"projects/(\d{5,})", consumer)
    if m:
        number = m.group(1)
    found = group(p.search(rf"projects/({_PROJECT_ID})(?:[/:'\"\s,.)\]]|$)"), 1)
    url = p.values.get("url")
    if found is None and isinstance(url, str):
        found = group(re.search(rf"projects/({_PROJECT_ID}|\d{{5,}})(?:[/:?]|$)", url), 1)
    if found is None:
        found = group(p.search(rf"[?&]project=({_PROJECT_ID}|\d{{5,}})\b"), 1)
    if found is None:
        found = group(p.search(rf"\bprojects? \[({_PROJECT_ID}|\d{{5,}})\]"), 1)
    if found is None:
        found = group(p.search(rf"\bproject ['\"]({_PROJECT_ID}|\d{{5,}})['\"]"), 1)
    if found is None:
        found = group(p.search(rf"\bproject ({_PROJECT_ID}) (?:cannot|is|has no)\b"), 1)
    if number is None:
        number = group(p.search(r"\bproject(?:s/| #| )(\d{5,})\b"), 1)
    if found is not None and found.isdigit():
        number = number or found
        found = None
    return found or ctx_get(ctx, "project") or number, number


def zone(p: Problem, ctx: Context) -> str | None:
    """The zone the text names, else the context's."""
    url = p.values.get("url")
    from_url = group(re.search(rf"/zones/({ZONE})\b", url)) if isinstance(url, str) else None
    return group(p.search(rf"({ZONE_RE})")) or from_url or ctx_get(ctx, "zone")


def zones(p: Problem) -> list[str]:
    """Every distinct zone the text names, in order."""
    return list(dict.fromkeys(m.group(0).lower() for m in re.finditer(ZONE_RE, p.flat, re.IGNORECASE)))


def region_of(zone_name: str | None) -> str | None:
    """us-central1-a -> us-central1."""
    if not zone_name:
        return None
    head, _, tail = zone_name.rpartition("-")
    return head if len(tail) == 1 and head else zone_name


def region(p: Problem, ctx: Context, zone_name: str | None = None) -> str | None:
    """The region the text names, else the zone's region, else the context's."""
    return (
        group(p.search(rf"\bin region ({_REGION})\b"))
        or group(p.search(rf"\bregions/({_REGION})\b"))
        or region_of(zone_name)
        or group(p.search(rf"({REGION_RE})"))
        or ctx_get(ctx, "region")
        or region_of(ctx_get(ctx, "zone"))
    )


def gpu(p: Problem, ctx: Context) -> str | None:
    """The accelerator type (nvidia-tesla-t4, nvidia-l4 ...) the text names, else the context's."""
    found = group(p.search(rf"({GPU_RE})"))
    return found.lower() if found else ctx_get(ctx, "gpu")


def gpu_from_metric(metric: str | None) -> str | None:
    """The accelerator type behind a GPU quota metric; new GPUs fall back to a lower-cased guess."""
    if not metric:
        return None
    m = re.fullmatch(r"(?:PREEMPTIBLE_|COMMITTED_)?NVIDIA_(\w+?)_GPUS", metric.upper())
    if not m:
        return None
    name = m.group(1)
    if name in _TESLA:
        return f"nvidia-tesla-{name.lower()}"
    return "nvidia-" + name.lower().replace("_", "-")


def is_gpu_metric(metric: str | None) -> bool:
    """GPU quotas are the ones kftui can request for the user."""
    return bool(metric) and "GPU" in (metric or "").upper()


def quota_id_for(metric: str, regional: bool) -> str:
    """Cloud Quotas id for a Compute metric: GPUS_ALL_REGIONS -> GPUS-ALL-REGIONS-per-project."""
    base = metric.upper().replace("_", "-")
    return f"{base}-per-project-region" if regional else f"{base}-per-project"


def number(text: str | None) -> float | None:
    """A float from text such as '0.0', or None."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def facts(**items: FactValue | None) -> dict[str, FactValue]:
    """Facts without the unknowns: a missing value is absent, never null."""
    return {k: v for k, v in items.items() if v is not None and v != ""}
