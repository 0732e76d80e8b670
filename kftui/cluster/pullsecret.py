"""Pull secrets for private registries, attached where Kubeflow's notebooks pull from: `default-editor`.

Each registry family has its own user name: Artifact Registry and GCR take `_json_key` with a service-account key
(or `oauth2accesstoken` with a one-hour access token), Docker Hub a user and access token, ECR the user `AWS` with
the password `aws ecr get-login-password --region R` prints, which expires after 12 hours.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kftui.cluster._http import api_error
from kftui.core.images import ecr_region, registry_kind
from kftui.errors import KftuiError

NOTEBOOK_SA = "default-editor"
"""Kubeflow's profile controller makes this service account; notebook pods run (and pull) as it."""
EXPIRES = {"ecr": "12 hours", "oauth2accesstoken": "1 hour"}


def expected_user(host: str, json_key: bool) -> str | None:
    """The user name a registry family insists on, if it insists on one."""
    kind = registry_kind(host)
    if kind in ("artifact-registry", "gcr"):
        return "_json_key" if json_key else "oauth2accesstoken"
    if kind == "ecr":
        return "AWS"
    return None


def secret_body(name: str, namespace: str, host: str, user: str, password: str) -> dict[str, Any]:
    """A kubernetes.io/dockerconfigjson Secret for one registry host."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = {"auths": {host: {"username": user, "password": password, "auth": auth}}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "kftui"},
                         "annotations": {"kftui.dev/registry": host}},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}


def apply_pull_secret(client: Any, namespace: str, name: str, host: str, user: str, password: str,
                      service_account: str = NOTEBOOK_SA) -> bool:
    """Create or replace the secret and add it to the service account's imagePullSecrets; True if it was new."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    core = CoreV1Api(client)
    body = secret_body(name, namespace, host, user, password)
    created = True
    try:
        core.create_namespaced_secret(namespace, body, _request_timeout=(10, 30))
    except ApiException as exc:
        if exc.status != 409:
            raise KftuiError(f"secret {name} in {namespace}: {api_error(exc)}") from exc
        created = False
        try:
            core.patch_namespaced_secret(name, namespace, body, _request_timeout=(10, 30))
        except ApiException as again:
            raise KftuiError(f"secret {name} in {namespace}: {api_error(again)}") from again
    try:
        sa = core.read_namespaced_service_account(service_account, namespace, _request_timeout=(10, 30))
        held = [s.name for s in sa.image_pull_secrets or []]
        if name not in held:
            patch = {"imagePullSecrets": [{"name": n} for n in [*held, name]]}
            core.patch_namespaced_service_account(service_account, namespace, patch, _request_timeout=(10, 30))
    except ApiException as exc:
        raise KftuiError(f"service account {service_account} in {namespace}: {api_error(exc)} (the secret {name} "
                         "was made; add it to the service account's imagePullSecrets by hand)") from exc
    return created


def ecr_refresh_cronjob(namespace: str, name: str, host: str, service_account: str = NOTEBOOK_SA) -> str:
    """A CronJob that renews an ECR pull secret every 8 hours (the token lasts 12), as YAML to review and apply."""
    region = ecr_region(host) or "REGION"
    script = (f"kubectl create secret docker-registry {name} -n {namespace} --docker-server={host} "
              f"--docker-username=AWS --docker-password=\"$(aws ecr get-login-password --region {region})\" "
              "--dry-run=client -o yaml | kubectl apply -f -")
    doc = {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": f"{name}-refresh", "namespace": namespace},
        "spec": {"schedule": "0 */8 * * *", "concurrencyPolicy": "Forbid", "jobTemplate": {"spec": {"template": {
            "spec": {"serviceAccountName": f"{name}-refresher", "restartPolicy": "OnFailure", "containers": [{
                "name": "refresh", "image": "public.ecr.aws/aws-cli/aws-cli:2.17.0",
                "command": ["/bin/sh", "-c", script],
                "envFrom": [{"secretRef": {"name": f"{name}-aws-credentials"}}]}]}}}}},
    }
    import yaml

    head = (f"# Renews {name} before ECR's 12-hour token runs out. It needs: a Secret {name}-aws-credentials "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) allowed ecr:GetAuthorizationToken, a service account "
            f"{name}-refresher allowed to update secrets in {namespace}, and an image with both aws and kubectl.\n"
            f"# Pods pull as {service_account}; the secret stays attached there.\n")
    return head + yaml.safe_dump(doc, sort_keys=False)
