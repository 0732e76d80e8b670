"""The autoscaler simulates a new node from each pool's template; if the template shows no GPU it never scales."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

FAQ = "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md"
_GPU = r"Insufficient (?:nvidia\.com/gpu|alpha\.kubernetes\.io/nvidia-gpu)"


@rule("autoscaler-gpu-template", priority=86)
def autoscaler_gpu_template(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A template node (or node group) rejected for lack of GPU: the pool exists but its template hides the GPU."""
    m = p.search(rf"cannot put \S+ on template-node-for-(?P<group>[\w.-]{{1,200}}?)-\d+, reason: {_GPU}") or p.search(
        rf"can't be scheduled on (?P<group>[\w.:/-]{{1,400}}), predicate checking error: {_GPU}"
    )
    if m is None:
        return None
    if p.search(r"max node group size reached|in backoff after failed scale-up|quota exceeded"):
        return None
    group = m.group("group").rstrip("/").rsplit("/", 1)[-1]
    cluster = v.or_placeholder(v.ctx_get(ctx, "cluster"), "cluster")
    location = v.or_placeholder(v.ctx_get(ctx, "region") or v.ctx_get(ctx, "zone"), "region")
    return Diagnosis(
        cause="autoscaler-gpu-template",
        title=f"The autoscaler sees no GPU on node group {group}'s template",
        explanation=(
            f"To decide a scale-up the cluster autoscaler imagines a new node of {group} from its template, and "
            "that template shows no GPU, so it concludes a new node would not help and never adds one. On GKE the "
            "pool must be created with --accelerator (then the template has the GPU even at 0 nodes); on AWS a "
            "group that scales from 0 needs the node-template tags that declare nvidia.com/gpu."
        ),
        facts=v.facts(node_group=group),
        fixes=(
            Fix(
                title="GKE: check that the pool declares its GPUs",
                command=(
                    f"gcloud container node-pools list --cluster={cluster} --location={location}"
                    ' --format="table(name,config.machineType,config.accelerators)"'
                ),
            ),
            Fix(
                title="AWS: declare the GPU on the Auto Scaling group's template",
                command=(
                    "aws autoscaling create-or-update-tags --tags ResourceId=ASG_NAME,"
                    "ResourceType=auto-scaling-group,Key=k8s.io/cluster-autoscaler/node-template/resources/"
                    "nvidia.com/gpu,Value=1,PropagateAtLaunch=true"
                ),
                url=FAQ,
            ),
        ),
    )
