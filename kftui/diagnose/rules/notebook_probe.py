"""A notebook server that runs but never turns Ready: its readiness probe fails, so the dashboard spins forever.

kubelet says only `Readiness probe failed: HTTP probe failed with statuscode: 503` or `... Get "http://IP:8888/
notebook/NS/NAME/api": dial tcp IP:8888: connect: connection refused`; the user sees a notebook that never opens and
no reason. In words: the Jupyter server in the image does not answer where Kubeflow sends the user (port 8888, under
the NB_PREFIX path), which is what a custom image gets wrong most often.
"""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_PROBE = r"\breadiness probe failed: (?P<why>.{0,300})"
_NOTEBOOK_URL = r"https?://[\w.:-]{1,80}/notebook/(?P<ns>[a-z0-9][a-z0-9-]{0,62})/(?P<name>[a-z0-9][a-z0-9-]{0,62})/"
_REISSUED = r"\breissued from pod/(?P<pod>[a-z0-9][a-z0-9.-]{0,252}):"
_IMAGES = "https://www.kubeflow.org/docs/components/notebooks/container-images/"


@rule("notebook-not-answering", priority=83)
def notebook_not_answering(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A Kubeflow notebook's pod runs but fails its readiness probe: say why in words and what to check."""
    m = p.search(_PROBE)
    if m is None:
        return None
    why = m.group("why")
    url = re.search(_NOTEBOOK_URL, why, re.IGNORECASE)
    if url is None and (re.search(r'\bget "?https?://', why, re.IGNORECASE) or p.has("istio-proxy")):
        return None  # another probe (the Istio sidecar's /healthz/ready ...): the general probe-failed rule answers
    notebook = v.ctx_get(ctx, "notebook") or (url.group("name") if url else None)
    if notebook is None:
        return None  # not known to be a notebook: the general probe-failed rule answers
    reissued = p.search(_REISSUED)
    pod = v.ctx_get(ctx, "pod") or (reissued.group("pod") if reissued else None)
    namespace = v.ctx_get(ctx, "namespace") or (url.group("ns") if url else None)
    pod = pod or f"{notebook}-0"
    status = v.group(re.search(r"statuscode: (\d{3})", why, re.IGNORECASE))
    refused = "connection refused" in why.lower()
    prefix = f"/notebook/{namespace}/{notebook}/" if namespace else "/notebook/NAMESPACE/NAME/"
    if refused:
        title = f"Notebook {notebook} is running, but nothing answers on its port 8888"
        cause_words = (
            "the container started, yet no Jupyter server listens on port 8888: it crashed or is still starting "
            "inside, or the image starts it on another port or on localhost only"
        )
        check = "start Jupyter on 0.0.0.0 port 8888 (`--ip=0.0.0.0 --port=8888`)"
    else:
        code = status or "an error"
        title = f"Notebook {notebook} is running, but Jupyter answers HTTP {code} instead of being ready"
        cause_words = (
            f"a server answers on port 8888, but with HTTP {code} at the notebook's address {prefix}: "
            "usually a custom image whose Jupyter ignores the NB_PREFIX environment variable (so it serves at / and "
            "not under the prefix), or a server that is up but not ready yet"
        )
        check = "serve under the prefix (`--ServerApp.base_url=$NB_PREFIX`)"
    return Diagnosis(
        cause="notebook-not-answering",
        title=title,
        explanation=(
            f"Kubernetes started the notebook's pod {pod}, but its readiness probe keeps failing, so the pod never "
            f"turns Ready and the Kubeflow dashboard shows the notebook spinning with no reason: {cause_words}. "
            f"The container's log says which; images made for Kubeflow must {check} and run as user 1000. "
            "The Kubeflow base images (jupyter-scipy, jupyter-pytorch-cuda ...) do this already."
        ),
        facts=v.facts(notebook=notebook, pod=pod, namespace=namespace, probe="readiness",
                      http_status=int(status) if status else None),
        fixes=(
            Fix(title="Read the notebook server's log (why Jupyter does not answer)",
                command=f"kubectl -n {v.or_placeholder(namespace, 'namespace')} logs {pod} --all-containers"),
            Fix(title="See the probe, its failures and the container's state",
                command=f"kubectl -n {v.or_placeholder(namespace, 'namespace')} describe pod {pod}"),
            Fix(title="What a notebook image must do (port 8888, NB_PREFIX, user 1000)", url=_IMAGES),
        ),
    )
