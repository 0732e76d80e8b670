"""The fake Kubernetes API holds up to the real release applied by the real kubectl, with a real API's rules.

Everything here runs the real `kubectl` (skipped when absent) against the sandbox; the release tests use the real
Kubeflow 26.03 rendering from ../shared/data (skipped, saying why, when absent).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.kube_fixtures import KubeSandbox, running_kube, wait_for
from tests.release_data import EXAMPLE, EXAMPLE_OBJECTS, ISTIO_GKE, as_list, documents, kubectl_or_skip, rendered

EMPTY_CLUSTER: dict[str, Any] = {"namespaces": ["default", "kube-system", "kube-public"]}


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeSandbox]:
    """A fresh, empty GKE-like cluster per test."""
    with running_kube(EMPTY_CLUSTER, tmp_path) as sb:
        yield sb


def kubectl(sb: KubeSandbox, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real kubectl against the sandbox, its discovery cache private to the test."""
    env = {**os.environ, "KUBECACHEDIR": str(sb.kubeconfig.parent / "kube-cache")}
    return subprocess.run([kubectl_or_skip(), "--kubeconfig", str(sb.kubeconfig), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False, env=env)


def applied_refs(stdout: str) -> set[str]:
    """`kind.group/name` (namespace-qualified) of every object kubectl reports applied."""
    return {line.split()[0] for line in stdout.splitlines() if line.endswith("serverside-applied")}


def http(sb: KubeSandbox, method: str, path: str, body: str, content_type: str) -> tuple[int, dict[str, Any]]:
    """One raw request; (status, decoded JSON body) for errors too."""
    req = urllib.request.Request(sb.url + path, data=body.encode(), method=method,
                                 headers={"Content-Type": content_type, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# ---- the real release ----------------------------------------------------------------------------


def test_real_release_applies_server_side_with_a_real_clusters_ordering(tmp_path: Path) -> None:
    # Webhook servers stay starting until the first pass a webhook refuses (not for a number of seconds, which a
    # slow machine's passes could outlast), then they have started: the refusal is seen however fast kubectl is.
    with running_kube({**EMPTY_CLUSTER, "webhook_ready_seconds": 600}, tmp_path) as kube:
        apply_and_check_the_release(kube)


def apply_and_check_the_release(kube: KubeSandbox) -> None:
    example = rendered(EXAMPLE)
    names = {(d["kind"], (d["metadata"].get("namespace") or ""), d["metadata"]["name"])
             for d in documents(example)}
    assert len(names) == EXAMPLE_OBJECTS
    accepted: set[str] = set()
    errors: list[str] = []
    for _ in range(5):  # upstream's `while ! kustomize build example | kubectl apply --server-side ...` bounded
        out = kubectl(kube, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=example, timeout=300)
        accepted |= {f"{line.split()[0]}" for line in out.stdout.splitlines() if "serverside-applied" in line}
        errors.append(out.stderr)
        if out.returncode == 0:
            break
        if "failed calling webhook" in out.stderr and kube.world.webhook_ready_seconds:
            kube.world.webhook_ready_seconds = 0  # the servers have started: touched, their deployments roll out
            touched = kubectl(kube, "annotate", "deployment", "--all", "-A", "--overwrite", "started=yes")
            assert touched.returncode == 0, touched.stderr
        time.sleep(1.5)  # upstream's loop sleeps 20 s between passes; the sandbox's controllers are quicker
    else:
        pytest.fail(f"the release never applied cleanly; last errors: {errors[-1][-2000:]}")
    # a real cluster's ordering problems, in kubectl's and the apiserver's words
    assert 'no matches for kind "Certificate" in version "cert-manager.io/v1"' in errors[0]
    assert "ensure CRDs are installed first" in errors[0]
    webhook = ('failed calling webhook "clusterservingruntime.kserve-webhook-server.validator": failed to call '
               'webhook: Post "https://kserve-webhook-server-service.kubeflow.svc:443/validate-serving-kserve-io-'
               'v1alpha1-clusterservingruntime?timeout=10s": no endpoints available for service '
               '"kserve-webhook-server-service"')
    assert any(webhook in e for e in errors[1:]), errors
    assert len(errors) >= 3  # CRDs first, then cert-manager's certificates, then KServe's runtimes
    # every object of the release was accepted (kubectl prints one line per object applied)
    listed = kubectl(kube, "get", "-f", "-", "-o", "name", stdin=example, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert len(listed.stdout.split()) == EXAMPLE_OBJECTS
    # the GKE Istio overlay on top: 37 objects, the CNI plugin in GKE's writable directory
    gke = rendered(ISTIO_GKE)
    out = kubectl(kube, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=gke)
    assert out.returncode == 0, out.stderr
    assert len(applied_refs(out.stdout)) == len(documents(gke))
    cni = json.loads(kubectl(kube, "get", "ds", "-n", "kube-system", "istio-cni-node", "-o", "json").stdout)
    paths = {v.get("hostPath", {}).get("path") for v in cni["spec"]["template"]["spec"]["volumes"]}
    assert "/home/kubernetes/bin" in paths and "/opt/cni/bin" not in paths
    # Knative's services.serving.knative.dev does not hide core Services; Istio's older versions are served
    svc = kubectl(kube, "get", "svc", "-A", "--no-headers")
    assert svc.returncode == 0, svc.stderr
    core_services = sum(1 for d in documents(example) if d["kind"] == "Service")
    assert len(svc.stdout.splitlines()) >= core_services
    assert kubectl(kube, "get", "services.serving.knative.dev", "-A").returncode == 0
    vs = kubectl(kube, "get", "virtualservices.v1alpha3.networking.istio.io", "-A", "-o", "json")
    items = json.loads(vs.stdout)["items"]
    assert items and {i["apiVersion"] for i in items} == {"networking.istio.io/v1alpha3"}


def test_client_side_apply_of_the_release_crds_hits_the_annotation_limit(kube: KubeSandbox) -> None:
    crds = [d for d in documents(rendered(EXAMPLE)) if d["kind"] == "CustomResourceDefinition"]
    text = as_list(crds)
    out = kubectl(kube, "apply", "-f", "-", stdin=text, timeout=300)
    assert out.returncode != 0
    too_long = [line for line in out.stderr.splitlines()
                if "is invalid: metadata.annotations: Too long: must have at most 262144 bytes" in line]
    assert len(too_long) == 8, out.stderr  # the count: 8 real CRDs exceed it with client-side apply
    assert all(line.startswith('Error from server (Invalid): error when creating "STDIN": '
                               'CustomResourceDefinition.apiextensions.k8s.io "') for line in too_long)
    server_side = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=text, timeout=300)
    assert server_side.returncode == 0, server_side.stderr  # why upstream applies with --server-side


# ---- the API's rules, one at a time --------------------------------------------------------------


CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: paint, namespace: default}
data: {color: %s}
"""


def test_server_side_apply_conflicts_between_managers_and_force_takes_the_field(kube: KubeSandbox) -> None:
    first = kubectl(kube, "apply", "--server-side", "--field-manager=alpha", "-f", "-", stdin=CONFIGMAP % "red")
    assert first.returncode == 0, first.stderr
    same = kubectl(kube, "apply", "--server-side", "--field-manager=beta", "-f", "-", stdin=CONFIGMAP % "red")
    assert same.returncode == 0, same.stderr  # the same value is shared ownership, not a conflict
    clash = kubectl(kube, "apply", "--server-side", "--field-manager=gamma", "-f", "-", stdin=CONFIGMAP % "blue")
    assert clash.returncode != 0
    assert 'Apply failed with 2 conflicts: conflicts with "alpha":\n- .data.color\nconflicts with "beta":' \
           in clash.stderr
    assert "--force-conflicts" in clash.stderr  # kubectl's own advice, shown for a real 409 Conflict
    status, body = http(kube, "PATCH", "/api/v1/namespaces/default/configmaps/paint?fieldManager=gamma",
                        CONFIGMAP % "blue", "application/apply-patch+yaml")
    assert status == 409 and body["reason"] == "Conflict" and body["kind"] == "Status"
    assert {"reason": "FieldManagerConflict", "message": 'conflict with "alpha"', "field": ".data.color"} \
        in body["details"]["causes"]
    forced = kubectl(kube, "apply", "--server-side", "--field-manager=gamma", "--force-conflicts", "-f", "-",
                     stdin=CONFIGMAP % "blue")
    assert forced.returncode == 0, forced.stderr
    cm = json.loads(kubectl(kube, "get", "cm", "paint", "-n", "default", "-o", "json",
                            "--show-managed-fields").stdout)
    assert cm["data"]["color"] == "blue"
    owners = {m["manager"]: m for m in cm["metadata"]["managedFields"]}
    assert "f:color" in owners["gamma"]["fieldsV1"]["f:data"] and owners["gamma"]["operation"] == "Apply"
    assert "alpha" not in owners  # force took its only field
    # an update by another client conflicts too, named with its apiVersion as the apiserver names updaters
    patched = kubectl(kube, "patch", "cm", "paint", "-n", "default", "--type=merge", "-p", '{"data":{"color":"x"}}')
    assert patched.returncode == 0, patched.stderr
    again = kubectl(kube, "apply", "--server-side", "--field-manager=gamma", "-f", "-", stdin=CONFIGMAP % "blue")
    assert 'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.color' in again.stderr


def test_an_applier_that_drops_a_field_it_alone_owned_removes_it(kube: KubeSandbox) -> None:
    two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pair, namespace: default}\ndata: {a: '1', b: '2'}\n"
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pair, namespace: default}\ndata: {a: '1'}\n"
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=two).returncode == 0
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=one).returncode == 0
    cm = json.loads(kubectl(kube, "get", "cm", "pair", "-n", "default", "-o", "json").stdout)
    assert cm["data"] == {"a": "1"}


def test_namespaced_objects_are_refused_until_their_namespace_exists(kube: KubeSandbox) -> None:
    cm = CONFIGMAP.replace("namespace: default", "namespace: later") % "red"
    out = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=cm)
    assert out.returncode != 0
    assert 'Error from server (NotFound): namespaces "later" not found' in out.stderr
    assert kubectl(kube, "create", "namespace", "later").returncode == 0
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=cm).returncode == 0
    sa = kubectl(kube, "get", "sa", "default", "-n", "later", "-o", "name")
    assert sa.stdout.strip() == "serviceaccount/default"  # what the service account controller adds


WEBHOOK = """apiVersion: v1
kind: Namespace
metadata: {name: hooks}
---
apiVersion: v1
kind: Service
metadata: {name: guard, namespace: hooks}
spec:
  selector: {app: guard}
  ports: [{port: 443, targetPort: 9443}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: guard}
webhooks:
- name: guard.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: %s
  clientConfig: {service: {name: guard, namespace: hooks, path: /validate}}
  rules: [{apiGroups: [""], apiVersions: [v1], resources: [configmaps], operations: [CREATE, UPDATE]}]
  namespaceSelector: {matchLabels: {guarded: "yes"}}
"""

GUARD_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: guard, namespace: hooks}
spec:
  selector: {matchLabels: {app: guard}}
  template:
    metadata: {labels: {app: guard}}
    spec:
      serviceAccountName: guard
      containers: [{name: guard, image: example.com/guard:1}]
      volumes: [{name: cert, secret: {secretName: guard-cert}}]
"""


def test_webhooks_fail_until_their_service_has_endpoints(kube: KubeSandbox) -> None:
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=WEBHOOK % "Fail").returncode == 0
    assert kubectl(kube, "create", "namespace", "app").returncode == 0
    assert kubectl(kube, "label", "namespace", "app", "guarded=yes").returncode == 0
    cm = CONFIGMAP.replace("namespace: default", "namespace: app") % "red"
    out = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=cm)
    assert ('Error from server (InternalError): Internal error occurred: failed calling webhook "guard.example.com": '
            'failed to call webhook: Post "https://guard.hooks.svc:443/validate?timeout=10s": no endpoints '
            'available for service "guard"') in out.stderr
    outside = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=CONFIGMAP % "red")
    assert outside.returncode == 0, outside.stderr  # the namespace selector leaves `default` alone
    # the webhook's pods need their service account and certificate secret before they run
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=GUARD_DEPLOYMENT).returncode == 0
    waited = kubectl(kube, "wait", "--for=condition=Available", "deployment/guard", "-n", "hooks", "--timeout=2s")
    assert waited.returncode != 0
    assert kubectl(kube, "create", "serviceaccount", "guard", "-n", "hooks").returncode == 0
    assert kubectl(kube, "create", "secret", "generic", "guard-cert", "-n", "hooks",
                   "--from-literal=tls.crt=x").returncode == 0
    waited = kubectl(kube, "wait", "--for=condition=Available", "deployment/guard", "-n", "hooks", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    ok = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=cm)
    assert ok.returncode == 0, ok.stderr


def available(kube: KubeSandbox, name: str, namespace: str) -> bool:
    out = kubectl(kube, "get", "deployment", name, "-n", namespace, "-o", "json")
    conditions = json.loads(out.stdout).get("status", {}).get("conditions") or []
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


def test_a_webhook_server_takes_its_start_up_time_even_when_its_configuration_comes_later(tmp_path: Path) -> None:
    with running_kube({**EMPTY_CLUSTER, "webhook_ready_seconds": 600}, tmp_path) as kube:
        assert kube.world.webhook_ready_seconds == 600  # the scenario's setting (the default is short)
        setup = WEBHOOK.partition("---\napiVersion: admissionregistration")[0]  # the namespace and the service
        assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=setup).returncode == 0
        for args in (("serviceaccount", "guard"), ("secret", "generic", "guard-cert", "--from-literal=tls.crt=x")):
            assert kubectl(kube, "create", *args, "-n", "hooks").returncode == 0
        assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=GUARD_DEPLOYMENT).returncode == 0
        # nothing says yet that its pods serve a webhook: the controller makes it Available as any deployment
        waited = kubectl(kube, "wait", "--for=condition=Available", "deployment/guard", "-n", "hooks",
                         "--timeout=20s")
        assert waited.returncode == 0, waited.stderr
        # the configuration arrives while the server is within its start-up time: it is in fact still starting
        assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=WEBHOOK % "Fail").returncode == 0
        assert not available(kube, "guard", "hooks")
        assert kubectl(kube, "label", "namespace", "default", "guarded=yes").returncode == 0
        refused = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=CONFIGMAP % "red")
        assert 'no endpoints available for service "guard"' in refused.stderr
        # once started (here: the world's setting lowered, and the deployment touched), it serves
        kube.world.webhook_ready_seconds = 0
        assert kubectl(kube, "annotate", "deployment", "guard", "-n", "hooks", "touched=yes").returncode == 0
        waited = kubectl(kube, "wait", "--for=condition=Available", "deployment/guard", "-n", "hooks",
                         "--timeout=20s")
        assert waited.returncode == 0, waited.stderr
        ok = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=CONFIGMAP % "red")
        assert ok.returncode == 0, ok.stderr

def test_a_webhook_that_ignores_failures_lets_writes_through(kube: KubeSandbox) -> None:
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=WEBHOOK % "Ignore").returncode == 0
    assert kubectl(kube, "create", "namespace", "app").returncode == 0
    assert kubectl(kube, "label", "namespace", "app", "guarded=yes").returncode == 0
    cm = CONFIGMAP.replace("namespace: default", "namespace: app") % "red"
    out = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=cm)
    assert out.returncode == 0, out.stderr


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: services.serving.knative.dev}
spec:
  group: serving.knative.dev
  scope: Namespaced
  names: {plural: services, singular: service, kind: Service, shortNames: [ksvc, kservice], categories: [all]}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object,
     x-kubernetes-preserve-unknown-fields: true}}}
  - {name: v1beta1, served: true, storage: false, schema: {openAPIV3Schema: {type: object,
     x-kubernetes-preserve-unknown-fields: true}}}
"""


def test_a_crd_named_like_a_core_resource_is_served_beside_it_at_every_version(kube: KubeSandbox) -> None:
    core = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n"
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=core).returncode == 0
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=CRD).returncode == 0
    established = kubectl(kube, "wait", "--for", "condition=established", "crd/services.serving.knative.dev",
                          "--timeout=10s")
    assert established.returncode == 0, established.stderr
    old = "apiVersion: serving.knative.dev/v1beta1\nkind: Service\nmetadata: {name: hello, namespace: default}\n" \
          "spec: {template: {spec: {containers: [{image: example.com/hello}]}}}\n"
    out = kubectl(kube, "apply", "--server-side", "-f", "-", stdin=old)
    assert out.returncode == 0, out.stderr
    svc = kubectl(kube, "get", "svc", "-A", "-o", "name")
    assert svc.returncode == 0 and svc.stdout.split() == ["service/web"], svc.stderr
    ksvc = json.loads(kubectl(kube, "get", "ksvc", "-n", "default", "-o", "json").stdout)
    assert [i["apiVersion"] for i in ksvc["items"]] == ["serving.knative.dev/v1"]  # read at the preferred version
    beta = json.loads(kubectl(kube, "get", "services.v1beta1.serving.knative.dev", "hello", "-n", "default",
                              "-o", "json").stdout)
    assert beta["apiVersion"] == "serving.knative.dev/v1beta1" and beta["spec"]["template"]
    status, _ = http(kube, "GET", "/apis/serving.knative.dev/v1alpha1/namespaces/default/services", "", "x/y")
    assert status == 404  # a version the CRD does not serve


def test_discovery_aggregated_for_kubectl_and_legacy_for_other_clients(kube: KubeSandbox) -> None:
    agg = urllib.request.Request(kube.url + "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    with urllib.request.urlopen(agg, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
        groups = {g["metadata"]["name"]: g for g in json.loads(resp.read())["items"]}
    for group in ("networking.k8s.io", "admissionregistration.k8s.io", "autoscaling", "policy", "scheduling.k8s.io"):
        assert group in groups
    assert [v["version"] for v in groups["autoscaling"]["versions"]] == ["v2", "v1"]
    with urllib.request.urlopen(kube.url + "/apis/autoscaling", timeout=10) as resp:
        assert json.loads(resp.read())["preferredVersion"]["version"] == "v2"
    with urllib.request.urlopen(kube.url + "/apis/policy/v1", timeout=10) as resp:
        assert "poddisruptionbudgets" in {r["name"] for r in json.loads(resp.read())["resources"]}
    resources = kubectl(kube, "api-resources", "-o", "name")
    assert resources.returncode == 0, resources.stderr
    for name in ("networkpolicies.networking.k8s.io", "horizontalpodautoscalers.autoscaling",
                 "poddisruptionbudgets.policy", "priorityclasses.scheduling.k8s.io",
                 "validatingwebhookconfigurations.admissionregistration.k8s.io"):
        assert name in resources.stdout.split()
    assert not any(path.startswith("/apis/apps/v1") for _, path in kube.world.requests)  # aggregated was enough


def test_put_with_a_stale_resource_version_conflicts(kube: KubeSandbox) -> None:
    assert kubectl(kube, "apply", "--server-side", "-f", "-", stdin=CONFIGMAP % "red").returncode == 0
    current = json.loads(kubectl(kube, "get", "cm", "paint", "-n", "default", "-o", "json").stdout)
    current["metadata"]["resourceVersion"] = "1"
    status, body = http(kube, "PUT", "/api/v1/namespaces/default/configmaps/paint", json.dumps(current),
                        "application/json")
    assert status == 409 and body["message"].startswith('Operation cannot be fulfilled on configmaps "paint"')
    wait_for(lambda: kube.world.get("configmaps", "default", "paint"), what="configmap still there")


# ---- server-side apply of keyed lists, item by item ----------------------------------------------


def deployment(*containers: str, finalizer: str | None = None) -> str:
    """A Deployment whose pod template carries the given containers (YAML flow mappings)."""
    meta = "{name: web, namespace: default" + (f", finalizers: [{finalizer}]" if finalizer else "") + "}"
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata: " + meta + "\nspec:\n  selector: {matchLabels: "
            "{app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
            + "".join(f"      - {c}\n" for c in containers))


WEB = ("{name: web, image: 'nginx:1.27', args: [--port, '80'], ports: [{containerPort: 80}], "
       "env: [{name: MODE, value: prod}, {name: DEBUG, value: 'no'}]}")


def managed(kube: KubeSandbox) -> dict[str, Any]:
    """managedFields by manager, as `kubectl get --show-managed-fields` prints them."""
    out = kubectl(kube, "get", "deployment", "web", "-n", "default", "-o", "json", "--show-managed-fields")
    assert out.returncode == 0, out.stderr
    return {m["manager"]: m for m in json.loads(out.stdout)["metadata"]["managedFields"]}


def containers(kube: KubeSandbox) -> list[dict[str, Any]]:
    out = kubectl(kube, "get", "deployment", "web", "-n", "default", "-o", "json")
    return list(json.loads(out.stdout)["spec"]["template"]["spec"]["containers"])


def ssa(kube: KubeSandbox, manager: str, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return kubectl(kube, "apply", "--server-side", f"--field-manager={manager}", *extra, "-f", "-", stdin=text)


def test_two_managers_own_their_own_containers_item_by_item(kube: KubeSandbox) -> None:
    assert ssa(kube, "alpha", deployment(WEB)).returncode == 0
    side = ssa(kube, "beta", deployment("{name: proxy, image: 'envoy:1.31'}"))
    assert side.returncode == 0, side.stderr  # another item of a keyed list: merged, not a conflict
    assert [c["name"] for c in containers(kube)] == ["web", "proxy"]
    fields = managed(kube)
    alpha = fields["alpha"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    web = alpha['k:{"name":"web"}']
    assert web["."] == {} and web["f:image"] == {} and web["f:args"] == {}  # args is atomic: owned whole
    assert set(web["f:env"]) == {'k:{"name":"MODE"}', 'k:{"name":"DEBUG"}'}
    assert web["f:env"]['k:{"name":"MODE"}'] == {".": {}, "f:name": {}, "f:value": {}}
    assert web["f:ports"] == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}
    beta = fields["beta"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert set(beta) == {'k:{"name":"proxy"}'} and fields["beta"]["operation"] == "Apply"


def test_a_conflict_names_the_item_field_and_force_takes_only_it(kube: KubeSandbox) -> None:
    assert ssa(kube, "alpha", deployment(WEB)).returncode == 0
    other = "{name: web, image: 'nginx:1.28', ports: [{containerPort: 80}]}"
    clash = ssa(kube, "beta", deployment(other))
    assert clash.returncode != 0
    assert ('Apply failed with 1 conflict: conflict with "alpha": .spec.template.spec.containers[name="web"].image'
            in clash.stderr)  # the same port is shared ownership; only the image differs
    assert ssa(kube, "beta", deployment(other), "--force-conflicts").returncode == 0
    fields = managed(kube)
    alpha = fields["alpha"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    beta = fields["beta"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert "f:image" not in alpha and {"f:args", "f:env", "f:name", "."} <= set(alpha)
    assert "f:image" in beta and "f:ports" in beta and "f:env" not in beta
    web = containers(kube)[0]
    assert web["image"] == "nginx:1.28" and web["args"] == ["--port", "80"] and len(web["env"]) == 2
    args = ssa(kube, "beta", deployment("{name: web, image: 'nginx:1.28', args: [--port, '81']}"))
    assert 'conflict with "alpha": .spec.template.spec.containers[name="web"].args' in args.stderr  # atomic


def test_an_applier_that_drops_an_item_it_alone_owned_removes_only_that_item(kube: KubeSandbox) -> None:
    assert ssa(kube, "alpha", deployment(WEB, finalizer="example.com/alpha")).returncode == 0
    side = "{name: web, env: [{name: TRACE, value: 'on'}]}"
    assert ssa(kube, "beta", deployment(side, finalizer="example.com/beta")).returncode == 0
    web = containers(kube)[0]
    assert [e["name"] for e in web["env"]] == ["MODE", "DEBUG", "TRACE"]
    fewer = WEB.replace(", {name: DEBUG, value: 'no'}", "")
    assert ssa(kube, "alpha", deployment(fewer, finalizer="example.com/alpha")).returncode == 0
    web = containers(kube)[0]
    assert [e["name"] for e in web["env"]] == ["MODE", "TRACE"]  # DEBUG gone, beta's TRACE stays
    meta = json.loads(kubectl(kube, "get", "deployment", "web", "-n", "default", "-o", "json").stdout)["metadata"]
    assert meta["finalizers"] == ["example.com/alpha", "example.com/beta"]  # a set: each manager's value
    beta = managed(kube)["beta"]["fieldsV1"]
    assert beta["f:metadata"]["f:finalizers"] == {'v:"example.com/beta"': {}}


WIDGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, properties: {name: {type: string}, size: {type: integer}}}
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
              steps: {type: array, items: {type: string}}
"""


def widget(parts: str, tags: str, steps: str) -> str:
    return ("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\n"
            f"spec: {{parts: {parts}, tags: {tags}, steps: {steps}}}\n")


def test_a_custom_resource_merges_the_lists_its_crd_marks_and_keeps_the_others_atomic(kube: KubeSandbox) -> None:
    assert ssa(kube, "setup", WIDGET_CRD).returncode == 0
    assert kubectl(kube, "wait", "--for", "condition=established", "crd/widgets.example.com").returncode == 0
    assert ssa(kube, "alpha", widget("[{name: a, size: 1}]", "[red]", "[build]")).returncode == 0
    beta = ssa(kube, "beta", widget("[{name: b, size: 2}]", "[blue]", "[build]"))
    assert beta.returncode == 0, beta.stderr  # other items, another set value, the same atomic list: no conflict
    out = kubectl(kube, "get", "widget", "w", "-n", "default", "-o", "json", "--show-managed-fields")
    obj = json.loads(out.stdout)
    assert [p["name"] for p in obj["spec"]["parts"]] == ["a", "b"] and obj["spec"]["tags"] == ["red", "blue"]
    fields = {m["manager"]: m["fieldsV1"]["f:spec"] for m in obj["metadata"]["managedFields"]}
    assert fields["beta"]["f:parts"] == {'k:{"name":"b"}': {".": {}, "f:name": {}, "f:size": {}}}
    assert fields["beta"]["f:tags"] == {'v:"blue"': {}} and fields["beta"]["f:steps"] == {}
    clash = ssa(kube, "beta", widget("[{name: b, size: 2}]", "[blue]", "[build, test]"))
    assert 'conflict with "alpha": .spec.steps' in clash.stderr  # unmarked: atomic, owned whole
