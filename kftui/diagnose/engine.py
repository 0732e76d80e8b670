"""The three ways in (text, exception, events) and the one way out: the best rule's Diagnosis."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kftui.core.diagnosis import UNKNOWN, Diagnosis, FactValue, Fix
from kftui.diagnose.normalize import Problem, clean, normalize, strip_prefixes
from kftui.diagnose.registry import all_rules
from kftui.diagnose.values import Context, ctx_get, facts, or_placeholder

_CHAIN_DEPTH = 3


def causes() -> list[str]:
    """Every cause id the engine can answer with, `unknown` included."""
    return sorted({r.cause for r in all_rules()} | {UNKNOWN})


def _context(context: Mapping[str, Any]) -> dict[str, str]:
    """Keep only usable string values, so callers may pass what they have without filtering."""
    return {k: v.strip() for k, v in context.items() if isinstance(v, str) and v.strip()}


def diagnose_problem(problem: Problem, ctx: Context) -> Diagnosis:
    """The first matching rule in priority order, else the generic explanation."""
    for candidate in all_rules():
        try:
            found = candidate.match(problem, ctx)
        except Exception:  # noqa: S112 - one faulty rule must not hide the others' answer
            continue
        if found is not None:
            return found
    return unknown(problem, ctx)


def diagnose(text: str, **context: str) -> Diagnosis:
    """Explain raw error text; context values (project, zone, gpu ...) fill in what the text lacks."""
    if not isinstance(text, str):
        text = str(text)
    return diagnose_problem(normalize(text), _context(context))


def _text_of(value: Any) -> str | None:
    """A str from str or bytes attributes, decoded without ever failing."""
    if isinstance(value, bytes | bytearray):
        return bytes(value[: 1 << 20]).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return None


def _safe_str(exc: BaseException) -> str:
    """str() of an exception whose __str__ may itself be broken."""
    try:
        return str(exc)
    except Exception:
        return ""


def _exception_parts(exc: BaseException, reasons: list[str], metadata: dict[str, str]) -> list[str]:
    """Text, reasons and metadata one exception carries, read by duck typing."""
    parts: list[str] = []
    raw = _text_of(getattr(exc, "raw_text", None))
    parts.append(raw if raw and raw.strip() else _safe_str(exc))
    body = _text_of(getattr(exc, "body", None))
    if body:
        parts.append(body)
    response = getattr(exc, "response", None)
    if response is not None and not isinstance(response, str | bytes):
        resp_text = None
        try:
            resp_text = _text_of(getattr(response, "text", None))
        except Exception:
            resp_text = None
        if resp_text and resp_text not in parts[0]:
            parts.append(resp_text)
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        reasons.append(reason)
    meta = getattr(exc, "metadata", None)
    if isinstance(meta, Mapping):
        for k, v in meta.items():
            if isinstance(v, str | int | float):
                metadata.setdefault(str(k), str(v))
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple):
        for item in errors[:20]:
            if isinstance(item, Mapping):
                if isinstance(item.get("reason"), str):
                    reasons.append(item["reason"])
                if isinstance(item.get("message"), str) and item["message"] not in parts[0]:
                    parts.append(item["message"])
    filename = getattr(exc, "filename", None)
    if isinstance(exc, FileNotFoundError) and isinstance(filename, str) and filename not in parts[0]:
        parts.append(f"No such file or directory: '{filename}'")
    parts.append(f"(raised as {type(exc).__module__}.{type(exc).__name__})")
    return parts


def diagnose_exception(exc: BaseException, **context: str) -> Diagnosis:
    """Explain an exception from any client library (google, kubernetes, OS) without importing them."""
    reasons: list[str] = []
    metadata: dict[str, str] = {}
    values: dict[str, FactValue] = {}
    for attr in ("code", "status"):
        status = getattr(exc, attr, None)
        if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
            values.setdefault("http_status", status)
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    for _ in range(_CHAIN_DEPTH):
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        parts.extend(_exception_parts(current, reasons, metadata))
        current = current.__cause__ or current.__context__
    problem = normalize("\n".join(parts), reasons=reasons, metadata=metadata, values=values)
    return diagnose_problem(problem, _context(context))


def _event_lines(events: Iterable[Mapping[str, Any]], values: dict[str, FactValue]) -> list[str]:
    """One `Reason: message` line per event, with the notebook controller's re-post prefix removed."""
    lines: list[str] = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        reason = clean(str(event.get("reason") or "")).strip()
        message = clean(str(event.get("message") or "")).strip()
        message = strip_prefixes(" ".join(message.split()), values)
        if not message and not reason:
            continue
        lines.append(f"{reason}: {message}" if reason else message)
    return lines


def diagnose_events(events: Sequence[Mapping[str, str]], **context: str) -> Diagnosis:
    """Explain a Pending pod or notebook from its events in time order; the newest autoscaler word wins."""
    values: dict[str, FactValue] = {}
    lines = _event_lines(list(events)[-200:], values)
    ctx = _context(context)
    if "pod" in values and "pod" not in ctx:
        ctx["pod"] = str(values["pod"])
    problem = normalize("\n".join(lines), values=values)
    found = diagnose_problem(problem, ctx)
    if found.known:
        return found
    warnings = [e for e in events if isinstance(e, Mapping) and str(e.get("type")) == "Warning"]
    if warnings:
        last = _event_lines(warnings[-1:], {})
        return unknown(normalize("\n".join(last)), ctx)
    return found


def unknown(problem: Problem, ctx: Context) -> Diagnosis:
    """An honest answer when no rule matched: quote the message and give the general route."""
    first = problem.first_line()
    namespace = ctx_get(ctx, "namespace")
    pod = ctx_get(ctx, "pod") or (str(problem.values["pod"]) if "pod" in problem.values else None)
    quoted = f'The message begins: "{first}". ' if first else "The error text was empty. "
    explanation = (
        quoted + "kftui has no rule for it yet, so it cannot say more than the text does. "
        "Look in the full text for a quota, permission, API or resource name, and let `kftui doctor` "
        "check the project, billing, APIs, permissions and GPU quotas for you."
    )
    fixes = [Fix(title="Check the whole setup", command="kftui doctor")]
    if pod:
        ns = or_placeholder(namespace, "namespace")
        fixes.append(Fix(title=f"Read the events of pod {pod}", command=f"kubectl -n {ns} describe pod {pod}"))
    elif namespace:
        fixes.append(
            Fix(
                title=f"Read the recent events in {namespace}",
                command=f"kubectl -n {namespace} get events --sort-by=.lastTimestamp",
            )
        )
    return Diagnosis(
        cause=UNKNOWN,
        title="kftui does not recognise this error yet",
        explanation=explanation,
        facts=facts(first_line=first or None, project=ctx_get(ctx, "project"), namespace=namespace, pod=pod),
        fixes=tuple(fixes),
    )


def to_json_line(diagnosis: Diagnosis) -> str:
    """One JSON object on one line, ASCII-safe for any terminal."""
    return json.dumps(diagnosis.to_json(), sort_keys=False)
