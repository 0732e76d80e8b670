"""Admission as a real API server runs it: namespace existence, object validation and admission webhooks.

Webhooks are not called (the sandbox runs no webhook servers); what matters for an install is when a call would
fail. A webhook whose service has no ready endpoints fails the request with the apiserver's words, unless its
failurePolicy is Ignore, so the ordering problems of a real cluster (cert-manager's Certificates before its
webhook is up, KServe's runtimes before its controller has its certificate) show up here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ANNOTATIONS_LIMIT = 262_144
"""Total bytes of keys and values in metadata.annotations (apimachinery's TotalAnnotationSizeLimitB)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the API refuses a request: the HTTP code, the Status reason, the message and details."""

    code: int
    reason: str
    message: str
    details: Mapping[str, Any] | None = None


def annotations_size(obj: Mapping[str, Any]) -> int:
    """Bytes of annotation keys plus values, as the apiserver counts them."""
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    return sum(len(str(k).encode()) + len(str(v).encode()) for k, v in ann.items())


def validate(obj: Mapping[str, Any], kind: str, group: str, name: str) -> Refusal | None:
    """The metadata checks every kind gets: the annotation size limit."""
    if annotations_size(obj) > ANNOTATIONS_LIMIT:
        qualified = f"{kind}.{group}" if group else kind
        detail = f"Too long: must have at most {ANNOTATIONS_LIMIT} bytes"
        return Refusal(422, "Invalid", f'{qualified} "{name}" is invalid: metadata.annotations: {detail}',
                       {"name": name, "group": group, "kind": kind,
                        "causes": [{"reason": "FieldValueTooLong", "message": detail,
                                    "field": "metadata.annotations"}]})
    return None


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions) against labels; empty or absent matches all."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = [str(v) for v in expr.get("values") or []]
        present = key in labels
        value = str(labels.get(key)) if present else None
        if op == "In" and not (present and value in values):
            return False
        if op == "NotIn" and present and value in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _rule_matches(rule: Mapping[str, Any], operation: str, group: str, resource: str, namespaced: bool) -> bool:
    """One RuleWithOperations (matchPolicy Equivalent: any version of the resource matches)."""
    ops = rule.get("operations") or []
    if "*" not in ops and operation not in ops:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    resources = rule.get("resources") or []
    if not any(r in ("*", "*/*", resource) for r in resources):
        return False
    scope = rule.get("scope", "*")
    return bool(scope == "*" or (scope == "Namespaced") == namespaced)


@dataclass(frozen=True, slots=True)
class Request:
    """What admission sees of one write."""

    operation: str
    group: str
    resource: str
    namespaced: bool
    namespace: str | None
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None


Lookup = Callable[[str, str | None, str], Mapping[str, Any] | None]
"""(resource key, namespace, name) -> the stored object or None."""


def webhooks(configs: Iterable[Mapping[str, Any]], req: Request, lookup: Lookup,
             has_endpoints: Callable[[str, str], bool]) -> Refusal | None:
    """Run every matching webhook of the given configurations; the first that cannot be called refuses."""
    if req.group == "admissionregistration.k8s.io":
        return None  # webhooks never intercept webhook configurations
    labels = dict((req.obj.get("metadata") or {}).get("labels") or {})
    old_labels = dict(((req.old or {}).get("metadata") or {}).get("labels") or {})
    ns_labels: Mapping[str, Any] | None = None
    if req.resource == "namespaces":
        ns_labels = labels
    elif req.namespaced and req.namespace:
        ns_obj = lookup("namespaces", None, req.namespace)
        ns_labels = dict(((ns_obj or {}).get("metadata") or {}).get("labels") or {})
        ns_labels.setdefault("kubernetes.io/metadata.name", req.namespace)
    for config in configs:
        for hook in config.get("webhooks") or []:
            if not any(_rule_matches(r, req.operation, req.group, req.resource, req.namespaced)
                       for r in hook.get("rules") or []):
                continue
            if ns_labels is not None and not selector_matches(hook.get("namespaceSelector"), ns_labels):
                continue
            obj_sel = hook.get("objectSelector")
            if not (selector_matches(obj_sel, labels) or (req.old is not None and
                                                          selector_matches(obj_sel, old_labels))):
                continue
            refusal = _call(hook, lookup, has_endpoints)
            if refusal is not None and hook.get("failurePolicy", "Fail") != "Ignore":
                return refusal
    return None


def _call(hook: Mapping[str, Any], lookup: Lookup, has_endpoints: Callable[[str, str], bool]) -> Refusal | None:
    """Whether the API server could reach a webhook's service; a Refusal in its words when not."""
    svc = (hook.get("clientConfig") or {}).get("service")
    if not svc:
        return None  # a URL webhook: outside the cluster, assumed reachable
    ns, name = str(svc.get("namespace", "default")), str(svc.get("name", ""))
    port = int(svc.get("port", 443))
    path = str(svc.get("path") or "")
    timeout = int(hook.get("timeoutSeconds") or 10)
    url = f"https://{name}.{ns}.svc:{port}{path}?timeout={timeout}s"
    if lookup("services", ns, name) is None:
        why = f'service "{name}" not found'
    elif not has_endpoints(ns, name):
        why = f'no endpoints available for service "{name}"'
    else:
        return None
    text = f'failed calling webhook "{hook.get("name")}": failed to call webhook: Post "{url}": {why}'
    return Refusal(500, "InternalError", f"Internal error occurred: {text}", {"causes": [{"message": text}]})
