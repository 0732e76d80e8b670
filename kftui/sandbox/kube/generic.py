"""What the sandbox's stand-in controllers write: CRD and workload status, cert-manager's Secrets.

A real cluster's controllers decide when an install is usable: a CRD is served once Established, a Deployment is
Available once its pods run (they cannot start without their service account and the Secrets and ConfigMaps they
mount), a Certificate's Secret exists once cert-manager runs and its issuer exists. The world calls these when
objects change, so the same ordering shows up here as on GKE.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

STUCK_ANNOTATION = "sandbox.kftui.dev/stuck"
"""A workload carrying this annotation never becomes ready (to show a stuck install)."""

APPLY_PATCH = "application/apply-patch+yaml"


def split_api(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> (apps, v1); `v1` -> ("", v1)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def established(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The status a CRD reaches once the API server serves it."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    accepted = dict(names)
    accepted.setdefault("singular", str(names.get("kind", "")).lower())
    accepted.setdefault("listKind", f"{names.get('kind', '')}List")
    stored = [str(v["name"]) for v in spec.get("versions") or [] if v.get("storage") and v.get("name")]
    return {"conditions": [{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                            "message": "no conflicts found"},
                           {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                            "message": "the initial names have been accepted"}],
            "acceptedNames": accepted, "storedVersions": stored}


def _replicas(obj: Mapping[str, Any]) -> int:
    """spec.replicas, defaulting to 1 as the API does."""
    value = (obj.get("spec") or {}).get("replicas", 1)
    return int(value) if isinstance(value, int) else 1


def available(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The status a workload reaches once its pods are ready (Deployment, StatefulSet or DaemonSet)."""
    replicas = _replicas(obj)
    generation = int((obj.get("metadata") or {}).get("generation", 1))
    kind = obj.get("kind")
    if kind == "DaemonSet":
        return {"observedGeneration": generation, "currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                "numberAvailable": 1, "numberReady": 1, "updatedNumberScheduled": 1, "numberMisscheduled": 0}
    if kind == "StatefulSet":
        return {"observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas}
    return {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                            "message": "Deployment has minimum availability."},
                           {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                            "message": "ReplicaSet has successfully progressed."}]}


def progressing(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The status of a workload whose pods are not ready yet."""
    replicas = _replicas(obj)
    if obj.get("kind") == "DaemonSet":
        return {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberReady": 0,
                "numberUnavailable": 1, "numberMisscheduled": 0}
    if obj.get("kind") == "StatefulSet":
        return {"replicas": replicas, "readyReplicas": 0, "currentReplicas": replicas}
    return {"replicas": replicas, "updatedReplicas": replicas, "unavailableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                            "message": "Deployment does not have minimum availability."}]}


def is_ready(obj: Mapping[str, Any]) -> bool:
    """Whether a workload's pods are ready at its current generation."""
    status = obj.get("status") or {}
    generation = int((obj.get("metadata") or {}).get("generation", 1))
    if int(status.get("observedGeneration", 0) or 0) < generation:
        return False
    if obj.get("kind") == "DaemonSet":
        return int(status.get("numberReady", 0) or 0) > 0
    return int(status.get("readyReplicas", 0) or 0) >= max(_replicas(obj), 1)


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """A Running pod whose Ready condition is True."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def missing_for_pods(obj: Mapping[str, Any], exists: Callable[[str, str], bool]) -> list[str]:
    """What a workload's pods need that is not there yet: its service account, mounted Secrets and ConfigMaps."""
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    missing: list[str] = []
    account = str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")
    if not exists("serviceaccounts", account):
        missing.append(f"serviceaccount/{account}")
    for vol in pod.get("volumes") or []:
        for key, resource, name_key in (("secret", "secrets", "secretName"), ("configMap", "configmaps", "name")):
            ref = vol.get(key)
            if isinstance(ref, Mapping) and not ref.get("optional") and ref.get(name_key) \
                    and not exists(resource, str(ref[name_key])):
                missing.append(f"{resource[:-1]}/{ref[name_key]}")
    return missing


def tls_secret(namespace: str, name: str) -> dict[str, Any]:
    """The kubernetes.io/tls Secret cert-manager writes for a Certificate (placeholder key material)."""
    blob = base64.b64encode(b"sandbox certificate, not a real key").decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {"cert-manager.io/certificate-name": name}},
            "data": {"ca.crt": blob, "tls.crt": blob, "tls.key": blob}}


def certificate_ready() -> dict[str, Any]:
    """A Certificate's status once cert-manager issued it."""
    return {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                            "message": "Certificate is up to date and has not expired"}]}
