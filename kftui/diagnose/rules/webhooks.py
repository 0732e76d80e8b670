"""Admission webhooks that are not serving yet (cert-manager, Istio, KServe ...): apply again once they are."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_NOT_SERVING = (
    r"no endpoints available for service|service unavailable|the server is currently unable to handle the request"
    r"|connect: connection refused|connect: no route to host|i/o timeout|context deadline exceeded"
    r"|x509: certificate signed by unknown authority|tls: failed to verify certificate"
)
# Where the usual webhooks live when the error names only the webhook.
_HOMES = {"cert-manager.io": ("cert-manager", "cert-manager-webhook"), "istio.io": ("istio-system", "istiod")}


@rule("webhook-not-ready", priority=83)
def webhook_not_ready(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The API server could not call a webhook that must approve the object, usually because it is still starting."""
    m = p.search(r"failed calling (?:admission )?webhook \"(?P<webhook>[\w.-]{1,253})\"")
    if m is None or not p.search(_NOT_SERVING):
        return None
    webhook = m.group("webhook")
    url = p.search(r"https://(?P<service>[a-z0-9-]{1,63})\.(?P<namespace>[a-z0-9-]{1,63})\.svc(?::\d+)?/")
    service = v.group(p.search(r"no endpoints available for service \"([\w.-]{1,253})\"")) or v.group(url, "service")
    namespace = v.group(url, "namespace")
    if service == "kubernetes":  # cert-manager's old APIService path goes through the API server itself
        service, namespace = None, None
    home = next((h for suffix, h in _HOMES.items() if webhook.endswith(suffix)), None)
    if namespace is None and home is not None:
        namespace, service = home[0], service or home[1]
    ns = v.or_placeholder(namespace, "namespace")
    fixes = [
        Fix(
            title=f"Wait until the webhook's deployments in {ns} are available",
            command=f"kubectl -n {ns} wait --for=condition=Available deployment --all --timeout=300s",
        ),
        Fix(
            title="Check that the webhook service has endpoints",
            command=f"kubectl -n {ns} get pods,endpoints" + (f" {service}" if service else ""),
        ),
        Fix(
            title="Then apply the manifests again (objects already created are left as they are)",
            command="kubectl apply --server-side --force-conflicts -f MANIFESTS",
        ),
    ]
    return Diagnosis(
        cause="webhook-not-ready",
        title=f"The webhook {webhook} is not serving yet",
        explanation=(
            f"The API server must ask the admission webhook {webhook} before it accepts this object, and the "
            f"webhook{' service ' + service if service else ''} did not answer: it is usually still starting "
            "(its pods are not ready or its certificate is not issued yet), which is normal in the first minutes "
            "of an install. Wait for its deployments, then apply again; if it never becomes ready, read its pods' "
            "events and logs."
        ),
        facts=v.facts(webhook=webhook, service=service, namespace=namespace),
        fixes=tuple(fixes),
    )
