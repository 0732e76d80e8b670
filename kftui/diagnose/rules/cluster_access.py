"""kubectl cannot reach the cluster's API server, or reaches it and is refused."""

from __future__ import annotations

import ipaddress

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

AUTHORIZED_NETWORKS_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks"
_KUBE_API = (
    r"unable to connect to the server|couldn't get current server api group list|/api\?timeout=|/api/v1/"
    r"|/apis/|kubernetes cluster|communicate with cluster"
)


def _private(host: str | None) -> bool:
    """Whether the endpoint is an RFC 1918 address (a private GKE endpoint)."""
    try:
        return host is not None and ipaddress.ip_address(host).is_private
    except ValueError:
        return False


def _where(ctx: v.Context) -> tuple[str, str]:
    """(cluster, location) for commands, placeholders when unknown."""
    location = v.ctx_get(ctx, "zone") or v.ctx_get(ctx, "region") or v.ctx_get(ctx, "location")
    return v.or_placeholder(v.ctx_get(ctx, "cluster"), "cluster"), v.or_placeholder(location, "region")


@rule("cluster-unreachable", priority=90)
def cluster_unreachable(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The API server's address does not answer: a private endpoint, authorized networks or a firewall."""
    m = p.search(
        r"dial tcp (?P<host>[\w.:-]{1,100}?):(?P<port>443|6443)\b: (?:i/o timeout|connect: connection timed out)"
    )
    if m is None or not p.search(_KUBE_API):
        return None
    if p.search(r"failed calling webhook"):
        return None  # the API server calling a webhook inside the cluster
    host = m.group("host")
    endpoint = f"{host}:{m.group('port')}" if any(ch.isdigit() for ch in host) else None
    private = _private(host)
    cluster, location = _where(ctx)
    fixes = [
        Fix(
            title="See the cluster's endpoints and authorized networks",
            command=(
                f"gcloud container clusters describe {cluster} --location={location}"
                ' --format="yaml(endpoint,privateClusterConfig,masterAuthorizedNetworksConfig)"'
            ),
        ),
        Fix(
            title="Allow your address (the flag replaces the list: include the CIDRs already there)",
            command=(
                f"gcloud container clusters update {cluster} --location={location}"
                " --enable-master-authorized-networks --master-authorized-networks=EXISTING_CIDRS,YOUR_IP/32"
            ),
            url=AUTHORIZED_NETWORKS_DOC,
        ),
    ]
    if private:
        fixes.insert(
            1,
            Fix(
                title="From a machine inside the VPC, fetch credentials for the private endpoint",
                command=f"gcloud container clusters get-credentials {cluster} --location={location} --internal-ip",
            ),
        )
    reason = (
        f"{host} is a private address, so only machines inside the cluster's VPC (or connected to it) can reach it"
        if private
        else "the control plane accepts connections only from its authorized networks, and yours is not one of "
        "them (or a firewall or proxy on your side drops the traffic)"
    )
    return Diagnosis(
        cause="cluster-unreachable",
        title=f"The cluster's API server{' at ' + endpoint if endpoint else ''} does not answer",
        explanation=(
            f"kubectl (or the client) waited for the Kubernetes API server and got no answer: {reason}. The "
            "cluster itself may be fine. Check the endpoint and the authorized networks, and connect from an "
            "allowed network."
        ),
        facts=v.facts(endpoint=endpoint, private_endpoint="yes" if private else None),
        fixes=tuple(fixes),
    )


@rule("cluster-unauthorized", priority=77)
def cluster_unauthorized(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The API server answered 401: kubectl's credentials for this cluster are missing or stale."""
    if not (
        p.search(r"you must be logged in to the server \(unauthorized\)")
        or p.search(r"the server has asked for the client to provide credentials")
    ):
        return None
    cluster, location = _where(ctx)
    return Diagnosis(
        cause="cluster-unauthorized",
        title="The cluster refused kubectl's credentials (Unauthorized)",
        explanation=(
            "The Kubernetes API server answered but did not accept who kubectl said it was: the gcloud login "
            "behind the GKE auth plugin expired, or the kubeconfig entry belongs to an older cluster of the same "
            "name. Sign in again and fetch the cluster's credentials afresh."
        ),
        facts=v.facts(cluster=v.ctx_get(ctx, "cluster")),
        fixes=(
            Fix(title="Sign in again", command="gcloud auth login"),
            Fix(
                title="Fetch fresh credentials for the cluster",
                command=f"gcloud container clusters get-credentials {cluster} --location={location}",
            ),
        ),
    )
