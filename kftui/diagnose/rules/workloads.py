"""Pods that started and then died or were thrown off: out of memory, evicted, crash-looping, failing probes."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, FactValue, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_LISTING = r"(?:^|\s)(?:(?P<ns>[a-z0-9][a-z0-9-]{0,62}) )?(?P<pod>[a-z0-9][a-z0-9.-]{2,252}) \d+/\d+ CrashLoopBackOff\b"


def _pod(p: Problem, ctx: v.Context) -> tuple[str | None, str | None]:
    """(pod, namespace): the caller's, the notebook controller's re-post prefix, or a `kubectl get pods` row."""
    pod = v.ctx_get(ctx, "pod") or (str(p.values["pod"]) if "pod" in p.values else None)
    namespace = v.ctx_get(ctx, "namespace")
    if pod is None:
        row = re.search(_LISTING, p.flat)
        if row is not None:
            pod = row.group("pod")
            namespace = namespace or row.group("ns")
    if pod is None:
        pod = v.group(p.search(r"\bpod/([a-z0-9][a-z0-9.-]{0,252})\b"))
    return pod, namespace


def _look(pod: str | None, namespace: str | None, previous: bool = False) -> tuple[Fix, ...]:
    """The two commands that show why a container stopped."""
    ns = v.or_placeholder(namespace, "namespace")
    name = v.or_placeholder(pod, "pod")
    logs = f"kubectl -n {ns} logs {name} --all-containers" + (" --previous" if previous else "")
    return (
        Fix(title="Read the events and the last container state", command=f"kubectl -n {ns} describe pod {name}"),
        Fix(title="Read the logs" + (" of the run that died" if previous else ""), command=logs),
    )


def _exit_code(p: Problem) -> int | None:
    """The container's last exit code, in kubectl's, KFP's and other tools' wordings."""
    m = p.search(r"exit ?code[:\s(']{0,4}(\d{1,3})\b")
    return int(m.group(1)) if m else None


@rule("oom-killed", priority=85)
def oom_killed(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A container went over its memory limit and the kernel killed it (exit code 137)."""
    code = _exit_code(p)
    if not (p.search(r"\bOOMKilled\b") or code == 137):
        return None
    if p.search(r"command terminated with non-zero exit code"):
        return None  # kubectl exec's own process was killed, not the pod
    pod, namespace = _pod(p, ctx)
    limit = v.group(p.search(r"\blimits?:?\s+(?:cpu:?\s+\S+\s+)?memory:?\s+(\d+(?:\.\d+)?[KMGT]i?)\b"))
    sure = bool(p.search(r"\bOOMKilled\b"))
    how = (
        "Kubernetes reports OOMKilled: the container used more memory than its limit"
        if sure
        else "Exit code 137 means the container was killed with SIGKILL, which on Kubernetes is almost always the "
        "out-of-memory killer (the container went over its memory limit)"
    )
    return Diagnosis(
        cause="oom-killed",
        title=f"{'Pod ' + pod if pod else 'The container'} ran out of memory (exit code 137)",
        explanation=(
            f"{how}{' of ' + limit if limit else ''}. Retrying gives the same result. Give it more memory: raise "
            "the limit (for a pipeline step, set_memory_limit; for a notebook, more memory in the form), or make "
            "the code use less, for example with smaller batches."
        ),
        facts=v.facts(exit_code=137, pod=pod, namespace=namespace, memory_limit=limit),
        fixes=(
            *_look(pod, namespace, previous=True),
            Fix(
                title="Raise the memory limit of a Deployment or StatefulSet",
                command=(
                    f"kubectl -n {v.or_placeholder(namespace, 'namespace')} set resources deployment/NAME"
                    " --requests=memory=4Gi --limits=memory=8Gi"
                ),
            ),
        ),
    )


@rule("node-pressure-eviction", priority=69)
def node_pressure_eviction(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The kubelet evicted the pod because its node ran short; pods using more than they request go first."""
    m = p.search(r"the node was low on resource: (?P<resource>[\w-]{2,40})")
    condition = v.group(p.search(r"the node had condition: \[(\w+Pressure)\]"))
    if m is None and condition is None:
        return None
    resource = v.group(m, "resource") or {"MemoryPressure": "memory", "DiskPressure": "ephemeral-storage"}.get(
        condition or ""
    )
    container = v.group(p.search(r"container ([a-z0-9][a-z0-9-]{0,62}) was using"))
    request = v.group(p.search(r"exceeds its request of ([\w.]+)")) or v.group(p.search(r"request is ([\w.]+)"))
    pod, namespace = _pod(p, ctx)
    facts: dict[str, FactValue] = v.facts(
        resource=resource, container=container, request=request, pod=pod, namespace=namespace
    )
    zero = request == "0"
    return Diagnosis(
        cause="node-pressure-eviction",
        title=f"Evicted: the node ran low on {resource or 'a resource'}",
        explanation=(
            f"The node ran short of {resource or 'a resource'} and the kubelet evicted pods to save itself, "
            f"starting with those that use more than they request{' (this one requested none)' if zero else ''}. "
            "The pod will not come back by itself unless a controller recreates it. Set requests close to the "
            "real use so the scheduler places the pod on a node with room, or use bigger nodes."
        ),
        facts=facts,
        fixes=(
            Fix(
                title="See which pods were evicted",
                command="kubectl get pods -A --field-selector=status.phase=Failed",
            ),
            Fix(title="See how much each node has left", command="kubectl describe nodes | grep -A 8 'Allocated'"),
            Fix(
                title="Request what the container really uses",
                command=(
                    f"kubectl -n {v.or_placeholder(namespace, 'namespace')} set resources deployment/NAME"
                    f" --requests={'memory=2Gi' if resource != 'ephemeral-storage' else 'ephemeral-storage=10Gi'}"
                ),
            ),
        ),
    )


@rule("crash-loop", priority=84)
def crash_loop(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The container keeps exiting and Kubernetes waits longer before each restart; the logs say why."""
    if not p.search(r"\bCrashLoopBackOff\b|back-off restarting failed container"):
        return None
    pod, namespace = _pod(p, ctx)
    code = _exit_code(p)
    restarts = v.group(p.search(r"restart count:\s*(\d{1,6})"))
    meaning = {
        1: "the program failed (an error it reported itself)",
        2: "the program was started wrongly (a bad argument or configuration)",
        127: "the command was not found in the image",
        126: "the command is not executable",
        139: "the program crashed (segmentation fault)",
        143: "it was stopped with SIGTERM (often a failing liveness probe)",
    }.get(code or -1)
    said = f" with exit code {code}, which usually means {meaning}" if code is not None and meaning else (
        f" with exit code {code}" if code is not None else ""
    )
    return Diagnosis(
        cause="crash-loop",
        title=f"{'Pod ' + pod if pod else 'A container'} keeps crashing (CrashLoopBackOff)",
        explanation=(
            f"The container starts and exits{said}, and Kubernetes restarts it with a growing delay. Nothing "
            "outside the pod is wrong yet: the reason is in the logs of the run that died, usually a missing "
            "setting, a database or service it cannot reach, or a bad image."
        ),
        facts=v.facts(pod=pod, namespace=namespace, exit_code=code, restarts=int(restarts) if restarts else None),
        fixes=_look(pod, namespace, previous=True),
    )


@rule("probe-failed", priority=82)
def probe_failed(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A readiness (or liveness/startup) probe fails: the container runs but does not answer where expected."""
    m = p.search(r"\b(?P<probe>readiness|liveness|startup) probe failed: (?P<why>.{0,160})")
    if m is None:
        return None
    probe = m.group("probe").lower()
    why = m.group("why")
    pod, namespace = _pod(p, ctx)
    status = v.group(re.search(r"statuscode: (\d{3})", why, re.IGNORECASE))
    refused = "connection refused" in why.lower()
    detail = (
        f"the app answered HTTP {status}" if status
        else "nothing listens on the probed port yet" if refused
        else "the check did not pass"
    )
    effect = (
        "Kubernetes sends it no traffic until the probe passes (a notebook shows as still starting)"
        if probe == "readiness"
        else "Kubernetes restarts the container each time it fails"
    )
    return Diagnosis(
        cause="probe-failed",
        title=f"{'Pod ' + pod if pod else 'The container'} fails its {probe} probe",
        explanation=(
            f"The container is running but its {probe} probe fails ({detail}), so {effect}. It is normal for the "
            "first seconds of a start; if it lasts, the app is not serving on the probed port and path (a crash "
            "inside, a slow start, or a custom image that serves elsewhere)."
        ),
        facts=v.facts(probe=probe, pod=pod, namespace=namespace, http_status=int(status) if status else None),
        fixes=_look(pod, namespace),
    )
