"""Kubeflow Pipelines: the logs that vanish with their pods, said plainly."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import console, q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule


@rule("pipeline-logs-gone", priority=60)
def logs_gone(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """'Failed to retrieve pod logs' means the step's pod was deleted, not that the step failed."""
    if not (
        p.has("failed to retrieve pod logs")
        or p.search(r"\blogs?\b.{0,120}\bpods? \"[\w.-]+\" not found")
        or p.search(r"pods? \"[\w.-]+\" not found.{0,120}\blogs?\b")
    ):
        return None
    if p.search(r"unable to retrieve workflow status|s3error|specified key does not exist|nosuchkey"):
        return None  # the UI's own backend or the log archive failed: the pod being gone is not known
    pod = v.group(p.search(r"pods? \"([\w.-]+)\" not found")) or v.ctx_get(ctx, "pod")
    namespace = v.ctx_get(ctx, "namespace")
    project = v.ctx_get(ctx, "project")
    run = v.ctx_get(ctx, "run_id") or v.group(p.search(r"\brun[ /:]+([0-9a-f]{8}-[0-9a-f-]{27})\b"))
    query = 'resource.type="k8s_container" AND labels."k8s-pod/pipeline/runid"="RUN_ID"'
    pod_query = f'resource.type="k8s_container" AND resource.labels.pod_name="{v.or_placeholder(pod, "pod")}"'
    return Diagnosis(
        cause="pipeline-logs-gone",
        title=f"The logs are gone with pod {pod}" if pod else "The step's pod, and its logs, are gone",
        explanation=(
            f"The pipeline step ran in {('pod ' + pod) if pod else 'a pod'} that has since been deleted (finished "
            "pipeline pods are garbage-collected), and its logs went with it; the Pipelines UI only says 'Failed "
            "to retrieve pod logs'. The step itself may well have succeeded. On GKE, Cloud Logging keeps container "
            "logs for 30 days, so read them there; kftui's watch view keeps logs it has already followed."
        ),
        facts=v.facts(pod=pod, namespace=namespace, project=project, run_id=run),
        fixes=(
            Fix(
                title="Read the pod's logs from Cloud Logging",
                command=(
                    f"gcloud logging read {q(pod_query)}"
                    f" --project={q(v.or_placeholder(project, 'project'))} --limit=500"
                ),
            ),
            Fix(
                title="Or every step of the run",
                command=(
                    f"gcloud logging read {q(query.replace('RUN_ID', run or 'RUN_ID'))}"
                    f" --project={q(v.or_placeholder(project, 'project'))} --limit=2000"
                ),
                url=console("logs/query", project),
            ),
        ),
    )
