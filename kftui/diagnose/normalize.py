"""One place that turns whatever shape an error arrives in into plain searchable text, so rules stay small."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kftui.core.diagnosis import FactValue

HEAD_CHARS = 128 << 10
TAIL_CHARS = 384 << 10
MAX_CHARS = HEAD_CHARS + TAIL_CHARS
"""Analyse at most this much text, so that the rules' regexes stay fast (about 0.9 s at most): the head, where an
API error puts its message, and the tail, where a log ends with the crash; what goes is the middle of a long log."""

METRIC_ID = r"[A-Z0-9_]{2,64}"
"""A Compute quota metric as errors spell it (GPUS_ALL_REGIONS, NVIDIA_L4_GPUS): bounded, so a run of id characters
longer than any real metric is not one, and no trailing text ever becomes part of a fact."""
QUOTA_ID = r"[\w-]{2,100}"
"""A quota id / limit name (GPUS-ALL-REGIONS-per-project, NVIDIA-L4-GPUS-per-project-region)."""
METRIC_NAME = r"[a-z0-9][a-z0-9.-]{0,99}/\w{1,100}"
"""A full metric name (compute.googleapis.com/nvidia_l4_gpus)."""
REGION_ID = r"[a-z]{2,20}-[a-z]{2,20}\d{1,2}"
"""A Google Cloud region (us-central1, europe-west4)."""

_MAX_JSON_TRIES = 20
_MAX_PREFIX_ROUNDS = 8

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_WHITESPACE = re.compile(r"\s+")
# Escapes left by JSON inside JSON, Python reprs and YAML line continuations (\" and \\\" and a trailing \).
_ESCAPED_NEWLINE = re.compile(r"\\+[nt](?=[\s\"'{}\[\]]|$)")
_ESCAPES = re.compile(r"\\+(?=[\"' ]|$)")

# Each prefix is stripped from the start of a line; named groups become values.
_PREFIXES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^ERROR:\s*\((?P<command>gcloud[\w.-]{0,100})\)\s*",
        r"^(?-i:(?P<exception>(?:[a-z_]\w{0,60}\.){1,8}[A-Z]\w{0,80})):\s+",  # google.api_core.exceptions.Forbidden:
        r"^(?:Error|HTTP error)\s+(?P<http_status>\d{3}):\s*",
        r"^(?P<http_status>\d{3})\s+(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+(?P<url>https?://\S+?):\s+",
        r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+(?P<url>https?://\S+?):\s+",
        r"^Reissued from (?:pod|statefulset)/(?P<pod>[\w.-]{1,253}):\s*",
        r"^ResponseError:\s*code=(?P<http_status>\d{3}),\s*message=",
        r"^Could not fetch resource:\s*",
        r"^-\s+",
        r"^(?:Warning|Normal)\s+(?P<event_reason>[A-Z]\w+)\s+(?:\S+(?: \(x\d+ over \S+\))?\s+)?"
        r"(?:default-scheduler|cluster-autoscaler|kubelet|notebook-controller|\S+-controller)\s+",
    )
)


@dataclass(frozen=True)
class Problem:
    """An error made searchable: cleaned lines, folded text, and what Google's JSON said outright."""

    raw: str
    lines: tuple[str, ...]
    flat: str
    reasons: frozenset[str] = frozenset()
    """ErrorInfo and `errors[].reason` values, upper-cased (SERVICE_DISABLED, QUOTAEXCEEDED ...)."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """ErrorInfo metadata merged (service, consumer, permission ...)."""
    values: Mapping[str, FactValue] = field(default_factory=dict)
    """Values read from prefixes and JSON (http_status, command, pod, quota info)."""

    def search(self, pattern: str) -> re.Match[str] | None:
        """Case-insensitive search of the folded text; rules never see line breaks or tabs."""
        return re.search(pattern, self.flat, re.IGNORECASE)

    def last(self, pattern: str) -> re.Match[str] | None:
        """The last match, for event streams where the newest line decides."""
        found: re.Match[str] | None = None
        for found in re.finditer(pattern, self.flat, re.IGNORECASE):  # noqa: B007
            pass
        return found

    def has(self, *needles: str) -> bool:
        """Whether any needle occurs, ignoring case."""
        low = self.flat.lower()
        return any(n.lower() in low for n in needles)

    def has_reason(self, *reasons: str) -> bool:
        """Whether Google's JSON carried one of these reasons."""
        return any(r.upper() in self.reasons for r in reasons)

    def first_line(self, limit: int = 200) -> str:
        """The first meaningful line, shortened, for messages about text no rule knows."""
        for line in self.lines:
            if line.strip(" -:{}[]"):
                return line if len(line) <= limit else line[: limit - 3] + "..."
        return ""


def cut(text: str) -> str:
    """At most HEAD_CHARS from the top and TAIL_CHARS from the bottom, each cut at a line's end where there is one
    (the middle of a long log goes; a blank line stands where it was)."""
    if len(text) <= MAX_CHARS:
        return text
    head, tail = text[:HEAD_CHARS], text[-TAIL_CHARS:]
    end = head.rfind("\n")
    head = head[:end + 1] if end > 0 else head
    start = tail.find("\n")
    tail = tail[start + 1:] if 0 <= start < len(tail) - 1 else tail
    return head + "\n" + tail


def clean(text: str) -> str:
    """Cut to size, drop terminal escapes and control characters, unify line ends."""
    text = cut(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = text.replace("\t", " ")
    return _CONTROL.sub("", text)


def fold(text: str) -> str:
    """All whitespace runs become one space."""
    return _WHITESPACE.sub(" ", text).strip()


def _walk(node: Any, out: dict[str, Any], depth: int = 0) -> None:
    """Collect messages, reasons, metadata and quota info from any nesting of Google or Kubernetes JSON."""
    if depth > 12:
        return
    if isinstance(node, list):
        for item in node[:50]:
            _walk(item, out, depth + 1)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "message" and isinstance(value, str):
            out["messages"].append(value)
        elif key == "reason" and isinstance(value, str):
            out["reasons"].add(value.upper())
        elif key in {"status", "code"} and isinstance(value, str) and value.isupper():
            out["reasons"].add(value)
        elif key == "code" and isinstance(value, int) and 100 <= value <= 599 and depth <= 1:
            out["values"].setdefault("http_status", value)
        elif key == "metadata" and isinstance(value, dict):
            for mk, mv in value.items():
                if isinstance(mv, str | int | float) and not isinstance(mv, bool):
                    out["metadata"].setdefault(str(mk), str(mv))
        elif key == "quotaInfo" and isinstance(value, dict):
            _quota_info(value, out["values"])
        else:
            _walk(value, out, depth + 1)


def _quota_info(info: Mapping[str, Any], values: dict[str, FactValue]) -> None:
    """Compute's structured quota detail, the most exact source of metric, limit and region."""
    if _is_id(info.get("metricName"), METRIC_NAME):
        values.setdefault("metric_name", info["metricName"])
    if _is_id(info.get("limitName"), QUOTA_ID):
        values.setdefault("quota_id", info["limitName"])
    limit = info.get("limit")
    if isinstance(limit, int | float) and not isinstance(limit, bool):
        values.setdefault("limit", float(limit))
    dims = info.get("dimensions")
    if isinstance(dims, dict) and _is_id(dims.get("region"), REGION_ID):
        values.setdefault("region", dims["region"])


def _is_id(value: Any, pattern: str) -> bool:
    """Whether a JSON value is exactly one id of that kind (a fact is the id or nothing, never an id plus junk)."""
    return isinstance(value, str) and re.fullmatch(pattern, value, re.IGNORECASE) is not None


def _unwrap_json(text: str, out: dict[str, Any]) -> str:
    """Replace each embedded JSON object by its messages, keeping reasons and metadata aside."""
    decoder = json.JSONDecoder()
    pieces: list[str] = []
    pos = 0
    tries = 0
    while tries < _MAX_JSON_TRIES:
        start = text.find("{", pos)
        if start < 0:
            break
        after = text[start + 1 : start + 64].lstrip()
        if not after.startswith('"'):
            pieces.append(text[pos : start + 1])
            pos = start + 1
            continue
        tries += 1
        try:
            obj, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            pieces.append(text[pos : start + 1])
            pos = start + 1
            continue
        found: dict[str, Any] = {"messages": [], "reasons": set(), "metadata": {}, "values": {}}
        _walk(obj, found)
        out["reasons"] |= found["reasons"]
        for k, v in found["metadata"].items():
            out["metadata"].setdefault(k, v)
        for k, v in found["values"].items():
            out["values"].setdefault(k, v)
        messages = list(dict.fromkeys(m.strip() for m in found["messages"] if m.strip()))
        pieces.append(text[pos:start])
        pieces.append("\n".join(messages) if messages else text[start:end])
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def strip_prefixes(line: str, values: dict[str, FactValue]) -> str:
    """Remove the wrappers tools put in front of the real message, remembering what they said."""
    for _ in range(_MAX_PREFIX_ROUNDS):
        before = line
        for pattern in _PREFIXES:
            m = pattern.match(line)
            if m is None or m.end() == 0:
                continue
            for name, value in m.groupdict().items():
                if value:
                    values.setdefault(name, int(value) if value.isdigit() else value)
            line = line[m.end() :]
        if line == before:
            break
    return line


def normalize(
    text: str,
    *,
    reasons: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    values: Mapping[str, FactValue] | None = None,
) -> Problem:
    """Build the Problem every rule reads; extra reasons and metadata come from exception objects."""
    raw = clean(text)
    out: dict[str, Any] = {
        "messages": [],
        "reasons": {r.upper() for r in reasons if isinstance(r, str) and r},
        "metadata": {str(k): str(v) for k, v in (metadata or {}).items() if v is not None},
        "values": dict(values or {}),
    }
    unwrapped = _unwrap_json(raw, out) if "{" in raw else raw
    found_values: dict[str, FactValue] = out["values"]
    lines: list[str] = []
    for line in unwrapped.split("\n"):
        stripped = _SPACES.sub(" ", line).strip()
        if stripped:
            stripped = strip_prefixes(stripped, found_values).strip()
        if stripped:
            lines.append(stripped)
    flat = fold(" ".join(lines))
    if "\\" in flat:
        flat = fold(_ESCAPES.sub("", _ESCAPED_NEWLINE.sub(" ", flat)))
    return Problem(
        raw=raw,
        lines=tuple(lines),
        flat=flat,
        reasons=frozenset(out["reasons"]),
        metadata=dict(out["metadata"]),
        values=found_values,
    )
