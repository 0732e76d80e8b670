"""Applying Kubeflow's manifests: resources whose kind the cluster does not serve yet."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule


@rule("crd-not-established", priority=60)
def crd_not_established(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """One apply creates a CRD and its resources; the API server serves the new kind only moments later."""
    m = p.search(r"no matches for kind \"([\w.-]+)\" in version \"([\w./-]+)\"")
    if m is None:
        m = p.search(r"the server doesn't have a resource type \"([\w.-]+)\"()")
        if m is None and not p.has("ensure CRDs are installed first"):
            return None
    kind = v.group(m, 1)
    api_version = v.group(m, 2) or None
    name = v.group(p.search(r"resource mapping not found for name: \"([\w.-]+)\""))
    group = api_version.split("/")[0] if api_version and "/" in api_version else None
    what = f"kind {kind}" + (f" ({api_version})" if api_version else "") if kind else "a custom kind"
    return Diagnosis(
        cause="crd-not-established",
        title="The cluster does not know a kind in the manifests yet",
        explanation=(
            f"The manifests create {what}, but the cluster does not serve it yet. Kubeflow's manifests define "
            "their CustomResourceDefinitions in the same apply as the resources that use them, and a new CRD "
            "takes a few seconds to be established, so the first passes fail and the apply is simply repeated "
            "(upstream's install loop does the same). If it keeps failing, the CRD itself is missing from the "
            "kustomization or was rejected."
        ),
        facts=v.facts(kind=kind, api_version=api_version, name=name),
        fixes=(
            Fix(title="See whether the CRD exists and is established",
                command=f"kubectl get crd -o wide | grep -i {group or v.or_placeholder(kind, 'kind')}"),
            Fix(title="Apply again (the loop kftui runs)",
                command="kustomize build example | kubectl apply --server-side --force-conflicts -f -"),
        ),
    )
