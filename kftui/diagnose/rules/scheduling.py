"""Why the scheduler leaves a pod Pending: no free GPU, no matching node, or a taint in the way."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, FactValue, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule
from kftui.diagnose.rules.autoscaler import verdict

_NODES = r"\b(?P<available>\d{1,6})/(?P<total>\d{1,6}) nodes are available"
_GPU_SHORT = r"(?:\b(?P<count>\d{1,6}) )?Insufficient nvidia\.com/gpu"
_SYSTEM_TAINTS = ("node.kubernetes.io/", "node-role.kubernetes.io/", "node.cloudprovider.kubernetes.io/")
_SELECTOR = r"didn't match (?:Pod's )?node (?:affinity/selector|selector|affinity)"


def _pod_facts(p: Problem, ctx: v.Context) -> dict[str, FactValue]:
    """Pod, namespace and node counts every scheduling diagnosis reports."""
    nodes = p.last(_NODES)
    return v.facts(
        pod=v.ctx_get(ctx, "pod") or (str(p.values["pod"]) if "pod" in p.values else None),
        namespace=v.ctx_get(ctx, "namespace"),
        nodes_total=int(nodes.group("total")) if nodes else None,
        nodes_available=int(nodes.group("available")) if nodes else None,
    )


def _describe(facts: dict[str, FactValue]) -> Fix:
    """kubectl describe for the pod, the place all of this is written."""
    pod = v.or_placeholder(facts.get("pod"), "pod")
    return Fix(
        title="Read the pod's events",
        command=f"kubectl -n {v.or_placeholder(facts.get('namespace'), 'namespace')} describe pod {pod}",
    )


def gpu_pool_fix(ctx: v.Context, gpu: str | None, zone: str | None) -> Fix:
    """A GPU node pool that scales from zero, the shape kftui recommends."""
    location = v.ctx_get(ctx, "location") or v.ctx_get(ctx, "region") or v.region_of(zone)
    return Fix(
        title="Create a GPU node pool that scales from 0",
        command=(
            "gcloud container node-pools create gpu-pool"
            f" --cluster={v.or_placeholder(v.ctx_get(ctx, 'cluster'), 'cluster')}"
            f" --location={v.or_placeholder(location, 'region')} --node-locations={v.or_placeholder(zone, 'zone')}"
            f" --machine-type=n1-standard-4 --accelerator=type={v.or_placeholder(gpu, 'gpu')},count=1,"
            "gpu-driver-version=default --enable-autoscaling --min-nodes=0 --max-nodes=2"
        ),
        action="cluster.create_gpu_pool",
    )


@rule("insufficient-gpu", priority=70)
def insufficient_gpu(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """No node has a free GPU; tell apart 'no GPU pool at all' from 'not yet known why'."""
    short = p.last(_GPU_SHORT)
    if short is None:
        return None
    facts = _pod_facts(p, ctx)
    gpu = v.gpu(p, ctx)
    zone = v.zone(p, ctx)
    said = verdict(p)
    no_pool = (said is not None and said.kind == "nofit") or v.ctx_get(ctx, "gpu_pools") == "0"
    who = f"Pod {facts['pod']}" if "pod" in facts else "The pod"
    total = facts.get("nodes_total")
    nodes = f"none of the cluster's {total} nodes" if total is not None else "no node"
    if no_pool:
        variant = "no-gpu-pool"
        title = "No node pool can provide a GPU"
        explanation = (
            f"{who} asks for a GPU, but {nodes} has one free, and the autoscaler says even a new node would not "
            "fit: the cluster has no GPU node pool (or none with this GPU type), or the pool's template does not "
            "show its GPUs (a pool made without --accelerator). Add a GPU node pool that scales from 0 in a zone "
            f"that offers {v.shown(gpu, 'your GPU type')}; the pod then starts once its node is up."
        )
        fixes: tuple[Fix, ...] = (gpu_pool_fix(ctx, gpu, zone), _describe(facts))
    else:
        variant = "unknown"
        title = "Waiting for a GPU: no node has one free"
        explanation = (
            f"{who} asks for a GPU, but {nodes} has one free, so it stays Pending (a notebook spins). There are "
            "three usual reasons: the cluster has no GPU node pool, the GPU pool is at its maximum size, or the "
            "autoscaler cannot add a node because of GPU quota. The autoscaler's next event says which (kftui "
            "shows it as soon as it appears); a GPU node without its driver also shows no GPU."
        )
        fixes = (
            Fix(title="See which nodes have GPUs", command="kubectl get nodes -L cloud.google.com/gke-accelerator"),
            _describe(facts),
            gpu_pool_fix(ctx, gpu, zone),
        )
    count = v.group(short, "count")
    return Diagnosis(
        cause="insufficient-gpu",
        title=title,
        explanation=explanation,
        facts={**facts, **v.facts(variant=variant, gpu=gpu, zone=zone,
                                  nodes_short=int(count) if count else None)},
        fixes=fixes,
    )


def _unnamed_taint(facts: dict[str, FactValue]) -> Diagnosis:
    """Older schedulers say only that nodes had taints; the nodes' own list says which."""
    who = f"pod {facts['pod']}" if "pod" in facts else "the pod"
    return Diagnosis(
        cause="untolerated-taint",
        title="The free nodes have taints the pod does not tolerate",
        explanation=(
            f"The scheduler keeps {who} off the nodes because they carry taints it does not tolerate (this "
            "wording does not say which). On a one-node test cluster it is usually the control-plane taint or a "
            "node that is not ready; on GKE GPU nodes it is nvidia.com/gpu, which a pod that requests a GPU "
            "tolerates automatically. List the taints, then add the toleration or fix the node."
        ),
        facts={**facts},
        fixes=(
            Fix(
                title="See the taints on each node",
                command="kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints",
            ),
            _describe(facts),
        ),
    )


@rule("untolerated-taint", priority=72)
def untolerated_taint(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The only nodes with room are tainted (usually GPU nodes) and the pod does not tolerate it."""
    found = [
        (int(m.group("count") or 0), m.group("taint").strip())
        for m in re.finditer(
            r"(?:(?P<count>\d{1,6}) node\(s\) )?had (?:untolerated )?taints? \{(?P<taint>[^}]{0,200})\}",
            p.flat,
            re.IGNORECASE,
        )
    ]
    if not found and p.search(r"\bnode(?:\(s\))? had taints that the pod didn't tolerate"):
        found = [(0, "")]  # the old wording, which does not name the taint
    if not found:
        return None
    custom = [t for t in found if not t[1].startswith(_SYSTEM_TAINTS)]
    gpu_taints = [t for t in found if "gpu" in t[1].split(":", 1)[0].lower()]
    if gpu_taints:
        taint = gpu_taints[0][1]
    elif custom:
        taint = max(custom, key=lambda t: t[0])[1]  # the nodes kept off by a taint someone set on purpose
    else:
        taint = found[0][1]
    gpu_taint = bool(gpu_taints)
    if not gpu_taint and (p.search(_SELECTOR) or (not custom and p.search(_GPU_SHORT))):
        return None  # a selector no node matches decides first; with a GPU short, only a taint set on purpose
    facts = _pod_facts(p, ctx)
    key = taint.split(":", 1)[0].strip()
    if not key:
        return _unnamed_taint(facts)
    gke = key == "nvidia.com/gpu"
    who = f"pod {facts['pod']}" if "pod" in facts else "the pod"
    if gpu_taint and not gke:
        explanation = (
            f"The nodes that could take {who} carry the taint {{{taint}}}, which someone set on them (it is not "
            "GKE's nvidia.com/gpu taint), and the pod does not tolerate it. Add a matching toleration to the pod "
            f"(key {key}), or remove the taint from the nodes if it is not needed."
        )
    elif gpu_taint:
        explanation = (
            f"The nodes that could take {who} are GPU nodes, and GKE marks them with the taint {{{taint}}} so "
            "that only pods asking for a GPU land there. This pod does not tolerate it: it most likely requests "
            "no nvidia.com/gpu (GKE adds the toleration to pods that do). Request a GPU in the pod (for a "
            "notebook, pick a GPU in the form), or add the toleration if it must run there without one."
        )
    else:
        explanation = (
            f"The nodes that could take {who} carry the taint {{{taint}}}, which the pod does not tolerate, so "
            "the scheduler keeps it off them. Taints like node.kubernetes.io/not-ready or unreachable mean the "
            "node itself is unhealthy; others are set on purpose and need a matching toleration in the pod."
        )
    return Diagnosis(
        cause="untolerated-taint",
        title=f"The free nodes have taint {key} that the pod does not tolerate",
        explanation=explanation,
        facts={**facts, **v.facts(taint=taint, taint_key=key, gke_taint="yes" if gke else "no")},
        fixes=(
            Fix(
                title="See the taints on each node",
                command="kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints",
            ),
            _describe(facts),
        ),
    )


@rule("node-selector-mismatch", priority=65)
def node_selector_mismatch(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The pod wants a node label nobody has, typically a GPU type with no pool."""
    if p.search(_SELECTOR) is None or p.search(_GPU_SHORT):
        return None
    facts = _pod_facts(p, ctx)
    gpu = v.gpu(p, ctx)
    zone = v.zone(p, ctx)
    who = f"Pod {facts['pod']}" if "pod" in facts else "The pod"
    pod = v.or_placeholder(facts.get("pod"), "pod")
    ns = v.or_placeholder(facts.get("namespace"), "namespace")
    return Diagnosis(
        cause="node-selector-mismatch",
        title="No node has the labels the pod asks for",
        explanation=(
            f"{who} may only run on nodes with certain labels (node selector or affinity), and no node, nor any "
            "node pool the autoscaler could grow, has them. For GPU notebooks the label is usually "
            f"cloud.google.com/gke-accelerator={v.shown(gpu, 'GPU_TYPE')}, so this means no pool has that GPU "
            "type. Create a pool with it, or choose a GPU type (vendor) the cluster has."
        ),
        facts={**facts, **v.facts(gpu=gpu)},
        fixes=(
            Fix(
                title="Compare the pod's selector ...",
                command=f"kubectl -n {ns} get pod {pod} -o jsonpath='{{.spec.nodeSelector}}'",
            ),
            Fix(
                title="... with the nodes' GPU labels",
                command="kubectl get nodes -L cloud.google.com/gke-accelerator",
            ),
            gpu_pool_fix(ctx, gpu, zone),
        ),
    )


@rule("insufficient-resources", priority=62)
def insufficient_resources(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Not enough CPU or memory anywhere; smaller requests or a bigger pool."""
    found = sorted({m.lower() for m in _find_all(p, r"Insufficient (cpu|memory|ephemeral-storage|pods)\b")})
    if not found:
        return None
    facts = _pod_facts(p, ctx)
    who = f"Pod {facts['pod']}" if "pod" in facts else "The pod"
    what = " and ".join(found)
    return Diagnosis(
        cause="insufficient-resources",
        title=f"Not enough {what} on any node",
        explanation=(
            f"{who} requests more {what} than any node has free, so it stays Pending. Lower the requests (a "
            "notebook's CPU and memory fields), stop idle workloads, or let the CPU node pool grow "
            "(autoscaling with a higher --max-nodes, or a larger machine type)."
        ),
        facts={**facts, **v.facts(resources=",".join(found))},
        fixes=(
            Fix(
                title="See what each node has left",
                command="kubectl describe nodes | grep -A 8 'Allocated resources'",
            ),
            _describe(facts),
        ),
    )


def _find_all(p: Problem, pattern: str) -> list[str]:
    """Every first group of a pattern in the text."""
    return [m.group(1) for m in re.finditer(pattern, p.flat, re.IGNORECASE)]
