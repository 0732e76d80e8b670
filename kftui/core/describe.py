"""`kubectl describe pod` as text, from the pod and its events, for the cockpit's describe view.

The layout follows kubectl's describe printer (pkg/describe: `describePod`, `describeContainers`,
`describeEvents`): the same keys, order and `<none>` placeholders, values aligned per block, events with
"(xN over AGE)". Every string from the object passes the sanitizer, so a hostile label cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kftui.core.events import event_count, mapping
from kftui.core.kube import human_age, parse_time
from kftui.core.sanitize import inert

Line = tuple[int, str, str]
"""(indent level, key without colon or "" for a continuation, value)."""


def _kv(items: Mapping[str, Any] | None, sep: str = "=") -> list[str]:
    """`k=v` lines (labels) or `k: v` lines (annotations, less the last-applied copy), sorted as kubectl does."""
    shown = {k: v for k, v in (items or {}).items() if k != "kubectl.kubernetes.io/last-applied-configuration"}
    return [f"{inert(k)}{sep}{inert(v)}" for k, v in sorted(shown.items())] or ["<none>"]


def _block(lines: list[Line], out: list[str]) -> None:
    """Align values within each run of keys at one indent, as kubectl's tabwriter does."""
    i = 0
    while i < len(lines):
        level = lines[i][0]
        j = i
        while j < len(lines) and lines[j][0] == level:
            j += 1
        width = max(len(k) + 1 for _, k, _ in lines[i:j] if k) + 2 if any(k for _, k, _ in lines[i:j]) else 0
        for _, key, value in lines[i:j]:
            pad = "  " * level
            if key:
                label = f"{key}:"
                out.append(f"{pad}{label}{' ' * (width - len(label)) if value else ''}{value}".rstrip())
            else:
                out.append(f"{pad}{' ' * width}{value}".rstrip())
        i = j


def _multi(level: int, key: str, values: list[str]) -> list[Line]:
    """A key whose first value shares its line and the rest follow aligned."""
    return [(level, key, values[0])] + [(level, "", v) for v in values[1:]]


def _state(state: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A container state the way kubectl spells it out."""
    state = state or {}
    if "running" in state:
        return [("State", "Running"), ("Started", _when(state["running"].get("startedAt")))]
    if "waiting" in state:
        w = state["waiting"] or {}
        return [("State", "Waiting"), ("Reason", inert(w.get("reason", "")))]  # kubectl leaves the message out
    if "terminated" in state:
        t = state["terminated"] or {}
        out = [("State", "Terminated"), ("Reason", inert(t.get("reason", "")))]
        if t.get("message"):
            out.append(("Message", inert(t["message"])))
        out += [("Exit Code", str(t.get("exitCode", ""))), ("Started", _when(t.get("startedAt"))),
                ("Finished", _when(t.get("finishedAt")))]
        return out
    return [("State", "Waiting")]


def _when(text: Any) -> str:
    """An RFC 3339 time as kubectl's describe prints it (RFC 1123 with zone)."""
    parsed = parse_time(str(text)) if text else None
    return parsed.strftime("%a, %d %b %Y %H:%M:%S %z") if parsed else "<unknown>"


def _resources(level: int, title: str, values: Mapping[str, Any] | None) -> list[Line]:
    """Limits or Requests with one quantity a line."""
    if not values:
        return []
    return [(level, title, "")] + [(level + 1, inert(k), inert(v)) for k, v in sorted(values.items())]


def _container(c: Mapping[str, Any], status: Mapping[str, Any] | None) -> list[Line]:
    """One container's block."""
    lines: list[Line] = []
    if status is not None:
        lines.append((2, "Container ID", inert(status.get("containerID", ""))))
    lines.append((2, "Image", inert(c.get("image", ""))))
    if status and status.get("imageID") is not None:
        lines.append((2, "Image ID", inert(status.get("imageID", ""))))
    ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in c.get("ports") or []]
    lines.append((2, "Port", ", ".join(ports) or "<none>"))
    lines.append((2, "Host Port", ", ".join(f"0/{p.get('protocol', 'TCP')}" for p in c.get("ports") or []) or
                  "<none>"))
    if c.get("command"):
        lines += [(2, "Command", "")] + [(3, "", inert(x)) for x in c["command"]]
    if c.get("args"):
        lines += [(2, "Args", "")] + [(3, "", inert(x)) for x in c["args"]]
    if status:
        lines += [(2, k, v) for k, v in _state(status.get("state"))]
        if status.get("lastState"):
            last = _state(status["lastState"])
            lines.append((2, "Last State", last[0][1]))
            lines += [(3, k, v) for k, v in last[1:]]
        lines.append((2, "Ready", "True" if status.get("ready") else "False"))
        lines.append((2, "Restart Count", str(status.get("restartCount", 0))))
    res = c.get("resources") or {}
    lines += _resources(2, "Limits", res.get("limits"))
    lines += _resources(2, "Requests", res.get("requests"))
    env = c.get("env") or []
    if env:
        lines.append((2, "Environment", ""))
        lines += [(3, inert(e.get("name", "")), inert(e.get("value", "<set from a source>"))) for e in env]
    else:
        lines.append((2, "Environment", "<none>"))
    mounts = [f"{inert(m.get('mountPath'))} from {inert(m.get('name'))} ({'ro' if m.get('readOnly') else 'rw'})"
              for m in c.get("volumeMounts") or []]
    lines += _multi(2, "Mounts", mounts or ["<none>"])
    return lines


def _toleration(t: Mapping[str, Any]) -> str:
    """kubectl's toleration spelling: key=value:effect op=Exists for Ns."""
    text = inert(t.get("key", ""))
    if t.get("value"):
        text += f"={inert(t['value'])}"
    if t.get("effect"):
        text += f":{inert(t['effect'])}"
    if t.get("operator") == "Exists":
        text += " op=Exists"
    if t.get("tolerationSeconds") is not None:
        text += f" for {t['tolerationSeconds']}s"
    return text


def _events(events: Sequence[Mapping[str, Any]], now: datetime | None) -> list[str]:
    """The Events table, oldest first, with repeat counts."""
    if not events:
        return ["Events:  <none>"]
    rows = [("Type", "Reason", "Age", "From", "Message"), ("----", "------", "----", "----", "-------")]
    for ev in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        last = human_age(parse_time(ev.get("lastTimestamp") or ev.get("eventTime")), now)
        count = event_count(ev.get("count"))
        age = f"{last} (x{count} over {human_age(parse_time(ev.get('firstTimestamp')), now)})" if count > 1 else last
        source = mapping(ev.get("source"))
        rows.append((inert(ev.get("type", "")), inert(ev.get("reason", "")), age,
                     inert(source.get("component") or ev.get("reportingComponent") or ""),
                     inert(ev.get("message", ""))))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["Events:"] + ["  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]


def describe_pod(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = (), now: datetime | None = None) -> str:
    """The whole describe text of a pod."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    lines: list[Line] = [(0, "Name", inert(meta.get("name", ""))), (0, "Namespace", inert(meta.get("namespace", "")))]
    if spec.get("priority") is not None:
        lines.append((0, "Priority", str(spec["priority"])))
    if spec.get("serviceAccountName"):
        lines.append((0, "Service Account", inert(spec["serviceAccountName"])))
    node = spec.get("nodeName")
    lines.append((0, "Node", f"{inert(node)}/{inert(status.get('hostIP', ''))}" if node else "<none>"))
    if status.get("startTime"):
        lines.append((0, "Start Time", _when(status["startTime"])))
    lines += _multi(0, "Labels", _kv(meta.get("labels")))
    lines += _multi(0, "Annotations", _kv(meta.get("annotations"), ": "))
    phase = inert(status.get("phase", ""))
    if meta.get("deletionTimestamp"):
        phase = f"Terminating (lasts {human_age(parse_time(meta['deletionTimestamp']), now)})"
    lines.append((0, "Status", phase))
    for key in ("reason", "message"):
        if status.get(key):
            lines.append((0, key.capitalize(), inert(status[key])))
    lines.append((0, "IP", inert(status.get("podIP", ""))))
    ips = [inert(i.get("ip", "")) for i in status.get("podIPs") or []]
    lines += _multi(0, "IPs", ips) if ips else [(0, "IPs", "<none>")]
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if owner:
        lines.append((0, "Controlled By", f"{inert(owner.get('kind'))}/{inert(owner.get('name'))}"))
    out: list[str] = []
    _block(lines, out)
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    for title, key in (("Init Containers", "initContainers"), ("Containers", "containers")):
        containers = spec.get(key) or []
        if not containers:
            continue
        out.append(f"{title}:")
        for c in containers:
            out.append(f"  {inert(c.get('name', ''))}:")
            block: list[str] = []
            _block(_container(c, statuses.get(c.get("name"))), block)
            out += block
    out.append("Conditions:")
    conds = status.get("conditions") or []
    width = max([len("Type"), *(len(str(c.get("type", ""))) for c in conds)]) + 3
    out.append(f"  {'Type'.ljust(width)}Status")
    out += [f"  {inert(c.get('type', '')).ljust(width)}{inert(c.get('status', ''))}" for c in conds]
    tail: list[Line] = []
    volumes = spec.get("volumes") or []
    if volumes:
        tail.append((0, "Volumes", ""))
    else:
        tail.append((0, "Volumes", "<none>"))
    rest: list[Line] = [(0, "QoS Class", inert(status.get("qosClass", "")))]
    rest += _multi(0, "Node-Selectors", _kv(spec.get("nodeSelector")))
    rest += _multi(0, "Tolerations", [_toleration(t) for t in spec.get("tolerations") or []] or ["<none>"])
    _block(tail, out)
    for v in volumes:
        out.append(f"  {inert(v.get('name', ''))}:")
        kind = next((k for k in v if k != "name"), "")
        detail = v.get(kind) or {}
        vol: list[Line] = [(2, "Type", inert(kind))]
        vol += [(2, inert(k), inert(val)) for k, val in sorted(detail.items()) if not isinstance(val, dict | list)]
        block = []
        _block(vol, block)
        out += block
    _block(rest, out)
    out += _events(events, now)
    return "\n".join(out) + "\n"
