"""A demo world ready for a deploy (container API on, Owner, GPU and CPU quota), shared by CLI and UI tests."""

from __future__ import annotations

import base64
import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

from kftui.sandbox import SCENARIOS
from kftui.sandbox.base import load_yaml

MINI = Path(__file__).resolve().parent / "data" / "kustomize" / "kubeflow-mini"
MINI_RELATIVE = "tests/data/kustomize/kubeflow-mini"
"""The same kustomization as the tests' working directory (the repo root) sees it: the same text in every clone."""
PROJECT = "robot-ml-demo"
ZONE = "us-central1-a"


def ready_scenario(target: Path, gpu_quota: int = 8, polls_to_done: int | None = None) -> Path:
    """The demo world with everything a deploy needs granted: container API, Owner, GPU and CPU quota."""
    shutil.copytree(SCENARIOS / "demo", target)
    gcp = load_yaml((target / "gcp.yaml").read_text())
    proj = gcp["projects"][PROJECT]
    proj["services"]["container.googleapis.com"] = "ENABLED"
    proj["iam"]["granted"] = ["*"]
    proj["iam"].pop("denied", None)
    proj["iam"]["bindings"] = [{"role": "roles/owner", "members": [f"serviceAccount:ada@{PROJECT}.iam.gserviceaccount.com"]}]
    (target / "gcp.yaml").write_text(yaml.safe_dump(gcp))
    compute_file = target / "gcp_compute.yaml"
    comp = load_yaml(compute_file.read_text())
    c = comp["projects"][PROJECT]["compute"]
    c.setdefault("quotas", {}).update(GPUS_ALL_REGIONS={"limit": gpu_quota, "usage": 0},
                                      CPUS_ALL_REGIONS={"limit": 128, "usage": 0})
    region = c["regions"]["us-central1"].setdefault("quotas", {})
    region.update(CPUS={"limit": 128, "usage": 0}, NVIDIA_T4_GPUS={"limit": gpu_quota, "usage": 0})
    c["machineTypes"] = {ZONE: ["e2-standard-8", "e2-standard-4", "n1-standard-4", "n1-standard-8"]}
    if polls_to_done is not None:
        comp["projects"][PROJECT].setdefault("container", {})["pollsToDone"] = polls_to_done
    compute_file.write_text(yaml.safe_dump(comp))
    return target


OAUTH2_PROXY: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "oauth2-proxy", "namespace": "oauth2-proxy"},
    "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "oauth2-proxy"}}, "template": {
        "metadata": {"labels": {"app.kubernetes.io/name": "oauth2-proxy"}},
        "spec": {"containers": [{"name": "oauth2-proxy", "image": "quay.io/oauth2-proxy/oauth2-proxy:v7.10.0",
                                 "env": [{"name": f"OAUTH2_PROXY_{k}", "valueFrom": {"secretKeyRef": {
                                     "name": "oauth2-proxy-h675gf55ht", "key": v}}}
                                     for k, v in (("CLIENT_ID", "client-id"), ("CLIENT_SECRET", "client-secret"),
                                                  ("COOKIE_SECRET", "cookie-secret"))]}],
                 "volumes": [{"name": "oauth2-proxy-config", "configMap": {"name": "oauth2-proxy-hk55gm96k4"}},
                             {"name": "oauth2-proxy-theme", "configMap": {"name": "oauth2-proxy-theme"}}]}}},
}
"""oauth2-proxy's Deployment as the release ships it (secret and config from kustomize-hashed names)."""


def seed_oauth2_proxy(kube: Any) -> None:
    """Upstream's oauth2-proxy in the cluster, with the ConfigMaps its pods mount, for a Google sign-in to edit."""
    kube.add_namespace("oauth2-proxy")
    for name in ("oauth2-proxy-hk55gm96k4", "oauth2-proxy-theme"):
        kube.put("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": name, "namespace": "oauth2-proxy"}, "data": {}})
    kube.put("deployments", copy.deepcopy(OAUTH2_PROXY))


def assert_google_login(kube: Any, client_id: str, client_secret: str) -> None:
    """What `kftui deploy` (and the plan script) leave for Google sign-in: the Secret, the config, the references."""
    secret = kube.get("secrets", "oauth2-proxy", "kftui-google-oauth")
    assert secret is not None
    assert base64.b64decode(secret["data"]["client-secret"]).decode() == client_secret
    assert base64.b64decode(secret["data"]["client-id"]).decode() == client_id
    config = kube.get("configmaps", "oauth2-proxy", "kftui-oauth2-proxy-google")
    assert config is not None and 'provider = "google"' in config["data"]["oauth2_proxy.cfg"]
    assert 'redirect_url = "http://localhost:8080/oauth2/callback"' in config["data"]["oauth2_proxy.cfg"]
    proxy = kube.get("deployments", "oauth2-proxy", "oauth2-proxy")
    assert proxy is not None
    pod = proxy["spec"]["template"]["spec"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["containers"][0]["env"]}
    assert {k: (r["name"], r["key"]) for k, r in refs.items()} == {
        "OAUTH2_PROXY_CLIENT_ID": ("kftui-google-oauth", "client-id"),
        "OAUTH2_PROXY_CLIENT_SECRET": ("kftui-google-oauth", "client-secret"),
        "OAUTH2_PROXY_COOKIE_SECRET": ("kftui-google-oauth", "cookie-secret")}
    assert {v["name"]: v["configMap"]["name"] for v in pod["volumes"]}["oauth2-proxy-config"] == \
        "kftui-oauth2-proxy-google"
