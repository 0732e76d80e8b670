"""Manifests written for another Kubernetes: API versions the cluster removed (or does not have yet)."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_NO_MATCH = r"no matches for kind \"(?P<kind>[\w.-]{1,100})\" in version \"(?P<version>[\w./-]{1,120})\""
DEPRECATION_GUIDE = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"

REMOVED: dict[str, str] = {
    "extensions/v1beta1": "1.16 (Ingress: 1.22)",
    "apps/v1beta1": "1.16",
    "apps/v1beta2": "1.16",
    "admissionregistration.k8s.io/v1beta1": "1.22",
    "apiextensions.k8s.io/v1beta1": "1.22",
    "apiregistration.k8s.io/v1beta1": "1.22",
    "authentication.k8s.io/v1beta1": "1.22",
    "authorization.k8s.io/v1beta1": "1.22",
    "certificates.k8s.io/v1beta1": "1.22",
    "coordination.k8s.io/v1beta1": "1.22",
    "networking.k8s.io/v1beta1": "1.22",
    "rbac.authorization.k8s.io/v1beta1": "1.22",
    "scheduling.k8s.io/v1beta1": "1.22",
    "batch/v1beta1": "1.25",
    "discovery.k8s.io/v1beta1": "1.25",
    "events.k8s.io/v1beta1": "1.25",
    "autoscaling/v2beta1": "1.25",
    "policy/v1beta1": "1.25",
    "node.k8s.io/v1beta1": "1.25",
    "flowcontrol.apiserver.k8s.io/v1beta1": "1.26",
    "autoscaling/v2beta2": "1.26",
    "flowcontrol.apiserver.k8s.io/v1beta2": "1.29",
    "flowcontrol.apiserver.k8s.io/v1beta3": "1.32",
}
"""Built-in API versions and the Kubernetes release that stopped serving them (the deprecation guide)."""

ADDED: dict[str, str] = {
    "apiextensions.k8s.io/v1": "1.16",
    "admissionregistration.k8s.io/v1": "1.16",
    "networking.k8s.io/v1": "1.19",
    "policy/v1": "1.21",
    "discovery.k8s.io/v1": "1.21",
    "autoscaling/v2": "1.23",
}
"""Built-in API versions and the release that first served them, for clusters too old for new manifests."""


@rule("api-version-removed", priority=62)
def api_version_removed(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """'no matches for kind' on a built-in API version is a version mismatch, not a CRD still being set up."""
    found = None
    for m in re.finditer(_NO_MATCH, p.flat, flags=re.IGNORECASE):
        version = m.group("version")
        if version in REMOVED or version in ADDED:
            found = (m.group("kind"), version)
            break
    if found is None:
        return None
    kind, version = found
    too_new = version in REMOVED
    if too_new:
        explanation = (
            f"The manifests use {kind} from {version}, which Kubernetes stopped serving in {REMOVED[version]}, "
            "and this cluster is newer. Retrying will not help, and GKE cannot go back to an old Kubernetes. Use "
            "a release of the software whose manifests use the current API version (for Kubeflow, the current "
            "manifests, which kftui deploys), or update the manifests to the replacement version."
        )
        title = f"The manifests use {version}, which this Kubernetes no longer serves"
    else:
        explanation = (
            f"The manifests use {kind} from {version}, which Kubernetes serves only from {ADDED[version]} on, and "
            "this cluster is older. Upgrade the cluster (GKE: a supported release channel) or use manifests made "
            "for its version."
        )
        title = f"This Kubernetes is too old for {version}"
    cluster = v.or_placeholder(v.ctx_get(ctx, "cluster"), "cluster")
    location = v.or_placeholder(v.ctx_get(ctx, "zone") or v.ctx_get(ctx, "region"), "region")
    fixes = [
        Fix(title="See the cluster's Kubernetes version", command="kubectl version"),
        Fix(
            title=f"See which versions of {version.split('/')[0]} it serves",
            command=f"kubectl api-versions | grep '^{version.split('/')[0]}/'",
            url=DEPRECATION_GUIDE,
        ),
    ]
    if not too_new:
        fixes.append(
            Fix(
                title="Upgrade the GKE control plane",
                command=f"gcloud container clusters upgrade {cluster} --location={location} --master",
            )
        )
    return Diagnosis(
        cause="api-version-removed",
        title=title,
        explanation=explanation,
        facts=v.facts(
            kind=kind, api_version=version, direction="too-new" if too_new else "too-old",
            removed_in=REMOVED.get(version), added_in=ADDED.get(version),
        ),
        fixes=tuple(fixes),
    )
