"""Volumes that never bind: the pod waits for a claim, the claim waits for a disk."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule


@rule("unbound-pvc", priority=76)
def unbound_pvc(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The scheduler will not place a pod whose PersistentVolumeClaim has no volume."""
    missing_claim = v.group(p.search(r"persistentvolumeclaim \"([\w.-]+)\" not found"))
    missing_class = v.group(p.search(r"storageclass(?:\.storage\.k8s\.io)? \"([\w.-]+)\" not found"))
    if not (
        p.has("unbound immediate PersistentVolumeClaims", "unbound PersistentVolumeClaims")
        or missing_claim
        or missing_class
        or p.search(r"running (?:PreBind plugin \"VolumeBinding\"|\"VolumeBinding\" prebind plugin)")
        or p.search(r"\bProvisioningFailed\b|failed to provision volume with storageclass|failed to bind volumes")
        or p.has("no persistent volumes available for this claim")
    ):
        return None
    pvc = missing_claim or v.group(p.search(r"(?:persistentvolumeclaim/|(?:claim|pvc) \")([a-z0-9][\w.-]*)"))
    pod = v.ctx_get(ctx, "pod") or (str(p.values["pod"]) if "pod" in p.values else None)
    namespace = v.ctx_get(ctx, "namespace")
    ns = v.or_placeholder(namespace, "namespace")
    if missing_claim:
        why = f"the claim {missing_claim} does not exist (deleted, or never created)"
    elif missing_class:
        why = f"its StorageClass {missing_class} does not exist in this cluster"
    else:
        why = ("no volume was made for it yet: the StorageClass may be missing or unable to provision "
               "(disk quota, a zone mismatch), or the claim asks for an access mode the class cannot give")
    return Diagnosis(
        cause="unbound-pvc",
        title="The pod waits for a volume that is not bound",
        explanation=(
            f"{('Pod ' + pod) if pod else 'The pod'} mounts a PersistentVolumeClaim that has no volume, so the "
            f"scheduler will not place it: {why}. The claim's own events say which; on GKE the default class is "
            "standard-rwo."
        ),
        facts=v.facts(pvc=pvc, storage_class=missing_class, pod=pod, namespace=namespace),
        fixes=(
            Fix(title="List the claims and their status", command=f"kubectl -n {ns} get pvc"),
            Fix(
                title="Read the claim's events",
                command=f"kubectl -n {ns} describe pvc {v.or_placeholder(pvc, 'PVC')}",
            ),
            Fix(title="See the storage classes (one should be default)", command="kubectl get storageclass"),
        ),
    )
