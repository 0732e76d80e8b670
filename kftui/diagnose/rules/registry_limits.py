"""Registries that throttle pulls: Docker Hub's anonymous pull limit, and mirrors that rate-limit too."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule
from kftui.diagnose.rules.image_pull import _image

DOCKER_LIMITS = "https://docs.docker.com/docker-hub/usage/pulls/"


@rule("registry-rate-limited", priority=81)
def registry_rate_limited(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A 429 from the registry while pulling is a limit on pulls, not on Google API calls."""
    if not p.search(r"\btoomanyrequests: |you have reached your pull rate limit"):  # not api_core TooManyRequests
        return None
    facts = _image(p, ctx)
    mirror = v.group(p.search(r"rate limited \| ([\w.-]+\.[a-z]{2,}) \|"))
    if mirror:
        facts["registry"] = mirror
    elif p.search(r"registry-1\.docker\.io|docker\.com/increase-rate-limit"):
        facts["registry"] = "docker.io"
    registry = facts.get("registry", "the registry")
    ns = v.or_placeholder(facts.get("namespace"), "namespace")
    hub = registry == "docker.io"
    fixes: tuple[Fix, ...]
    if hub:
        explanation = (
            "Docker Hub refused the pull because this address has used up its anonymous pull allowance (a few "
            "hundred pulls per 6 hours, shared by every node behind the same NAT). It clears by itself within "
            "hours. For good, pull with a Docker Hub account (a pull secret with a personal access token), or "
            "copy the images into Artifact Registry and use them from there."
        )
        fixes = (
            Fix(
                title=f"Create a Docker Hub pull secret in {ns}",
                command=(
                    f"kubectl -n {ns} create secret docker-registry dockerhub --docker-server=https://index.docker.io/v1/"
                    " --docker-username=DOCKERHUB_USERNAME --docker-password=DOCKERHUB_ACCESS_TOKEN"
                ),
                url=DOCKER_LIMITS,
            ),
            Fix(
                title="Let notebooks in the namespace pull with it (pipelines: pipeline-runner)",
                command=(
                    f"kubectl -n {ns} patch serviceaccount default-editor"
                    " -p '{\"imagePullSecrets\": [{\"name\": \"dockerhub\"}]}'"
                ),
            ),
        )
    else:
        explanation = (
            f"The registry {registry} answered 'too many requests' while the image was pulled: it throttles "
            "pulls from your address. Wait and retry, pull with credentials if it gives signed-in users more, "
            "or use another registry or mirror."
        )
        fixes = (Fix(title="Retry the pull later (delete the pod to retry now)",
                     command=f"kubectl -n {ns} delete pod {v.or_placeholder(facts.get('pod'), 'pod')}"),)
    return Diagnosis(
        cause="registry-rate-limited",
        title=f"{'Docker Hub' if hub else registry} is rate-limiting image pulls",
        explanation=explanation,
        facts=facts,
        fixes=fixes,
    )
