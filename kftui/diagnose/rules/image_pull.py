"""Images that cannot be pulled: no credentials, an expired ECR token, or a name that does not exist."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_IMAGE = (
    r"(?:failed to pull image|pulling image|pull image|failed to pull and unpack image|image)"
    r" \"(?P<image>[^\"\s]+)\""
)
_PULL_CONTEXT = (
    r"failed to pull|errimagepull|imagepullbackoff|pulling image|failed to resolve reference|error response"
    r" from daemon|pull access denied|failed to authorize|no basic auth credentials"
)
_ECR = r"(?P<account>\d{12})\.dkr\.ecr\.(?P<aws_region>[a-z0-9-]+)\.amazonaws\.com"


def _image(p: Problem, ctx: v.Context) -> dict[str, str]:
    """Image, registry and (for ECR) the AWS region and account, as facts."""
    image = v.group(p.search(_IMAGE), "image") or v.ctx_get(ctx, "image")
    if image is None:
        image = v.group(p.search(r"pull access denied for ([\w./:-]+)"))
    registry = None
    if image:
        head = image.split("/", 1)[0]
        registry = head if ("." in head or ":" in head or head == "localhost") and "/" in image else "docker.io"
    else:
        registry = v.group(p.search(r"https?://([\w.-]+\.[a-z]{2,})(?::\d+)?/v2/"))
    ecr = re.search(_ECR, registry or "") or p.search(_ECR)
    found = v.facts(
        image=image,
        registry=registry or (ecr.group(0) if ecr else None),
        aws_region=ecr.group("aws_region") if ecr else None,
        aws_account=ecr.group("account") if ecr else None,
        pod=v.ctx_get(ctx, "pod") or (str(p.values["pod"]) if "pod" in p.values else None),
        namespace=v.ctx_get(ctx, "namespace"),
    )
    return {k: str(val) for k, val in found.items()}


def _secret_fix(facts: dict[str, str], name: str = "regcred") -> Fix:
    """A pull secret for the registry, refreshed with apply so the command can run again later."""
    ns = v.or_placeholder(facts.get("namespace"), "namespace")
    registry = facts.get("registry", "REGISTRY")
    if "aws_region" in facts:
        password = f"$(aws ecr get-login-password --region {facts['aws_region']})"
        command = (
            f"kubectl -n {ns} create secret docker-registry {name} --docker-server={registry}"
            f' --docker-username=AWS --docker-password="{password}" --dry-run=client -o yaml | kubectl apply -f -'
        )
    else:
        command = (
            f"kubectl -n {ns} create secret docker-registry {name} --docker-server={registry}"
            " --docker-username=USER --docker-password=TOKEN"
        )
    return Fix(title=f"Create (or refresh) the pull secret {name} in {ns}", command=command)


def _attach_fix(facts: dict[str, str], name: str = "regcred", account: str | None = None) -> Fix:
    """Notebooks pull as default-editor and pipelines as pipeline-runner, unless the caller knows the account."""
    ns = v.or_placeholder(facts.get("namespace"), "namespace")
    return Fix(
        title=(f"Let service account {account} use it" if account
               else "Let notebooks in this namespace use it (pipelines: pipeline-runner)"),
        command=(
            f"kubectl -n {ns} patch serviceaccount {account or 'default-editor'}"
            f" -p '{{\"imagePullSecrets\": [{{\"name\": \"{name}\"}}]}}'"
        ),
    )


def _who_pulls(ctx: v.Context, namespace: str | None) -> str:
    """Which service account the secret must reach: the one the caller names, else Kubeflow's usual two."""
    account = v.ctx_get(ctx, "service_account")
    if account:
        where = namespace or "its namespace"
        return f"The pod pulls as service account {account} in {where}, so the secret must be attached to it."
    return ("Notebooks pull with the profile namespace's default-editor service account and pipeline steps with "
            "pipeline-runner, so the secret must be attached to them.")


@rule("image-pull-token-expired", priority=80)
def token_expired(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """ECR tokens live 12 hours, so a pull secret made from one dies quietly the next day."""
    if not p.search(
        r"authorization token has expired|\btoken (?:has )?expired\b.{0,80}reauthenticate"
        r"|denied: the security token included in the request is invalid"
    ):
        return None
    facts = _image(p, ctx)
    registry = facts.get("registry", "the registry")
    secret_facts = dict(facts)
    if "aws_region" not in secret_facts:  # these are Amazon ECR's (and STS's) words even when the text hides the host
        secret_facts["aws_region"] = "AWS_REGION"
        if "ecr" not in secret_facts.get("registry", ""):
            secret_facts["registry"] = "AWS_ACCOUNT.dkr.ecr.AWS_REGION.amazonaws.com"
    return Diagnosis(
        cause="image-pull-token-expired",
        title=f"The pull secret for {registry} holds an expired token",
        explanation=(
            f"Kubernetes offered {registry} a token that has expired, so the pull of "
            f"{facts.get('image', 'the image')} was refused. Amazon ECR tokens live only 12 hours, and a pull "
            "secret made from one stops working without warning. Refresh the secret now, and for good use a "
            "job that refreshes it every few hours, or mirror the image to Artifact Registry."
        ),
        facts=facts,
        fixes=(_secret_fix(secret_facts, "ecr-pull"), _attach_fix(secret_facts, "ecr-pull")),
    )


_AUTH = (
    r"no basic auth credentials|unauthorized: authentication required|pull access denied|"
    r"requested access to the resource is denied|failed to authorize|failed to fetch (?:anonymous|oauth) token|"
    r"\b401 unauthorized\b|\b403 forbidden\b|artifactregistry\.repositories\.downloadArtifacts|"
    r"denied: permission|unauthorized: you don't have the needed permissions"
)


@rule("image-pull-auth", priority=79)
def pull_auth(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The registry wants credentials the pod does not have."""
    if not (p.search(_AUTH) and p.search(_PULL_CONTEXT)):
        return None
    facts = _image(p, ctx)
    registry = facts.get("registry", "the registry")
    image = facts.get("image", "the image")
    google = registry.endswith(("gcr.io", "pkg.dev"))
    if google:
        how = (
            "For Artifact Registry or gcr.io in another project, grant the nodes' service account "
            "roles/artifactregistry.reader on that project; no secret is needed."
        )
    elif "aws_region" in facts:
        how = (
            "For Amazon ECR, make a pull secret from `aws ecr get-login-password` and attach it to the "
            "service account that pulls (it expires after 12 hours)."
        )
    else:
        how = "Make a pull secret with a registry token and attach it to the service account that pulls."
    fixes: list[Fix] = []
    if google:
        project = v.ctx_get(ctx, "project")
        fixes.append(
            Fix(
                title="Let the GKE nodes read images",
                command=(
                    f"gcloud projects add-iam-policy-binding {q(v.or_placeholder(project, 'project'))}"
                    " --member=serviceAccount:PROJECT_NUMBER-compute@developer.gserviceaccount.com"
                    " --role=roles/artifactregistry.reader"
                ),
            )
        )
    fixes += [_secret_fix(facts), _attach_fix(facts, account=v.ctx_get(ctx, "service_account"))]
    return Diagnosis(
        cause="image-pull-auth",
        title=f"No credentials to pull from {registry}",
        explanation=(
            f"{registry} refused to hand out {image}: the pod sent no credentials it accepts. "
            f"{_who_pulls(ctx, facts.get('namespace'))} {how} (Docker Hub answers the same for a name that does "
            "not exist, so check the spelling too.)"
        ),
        facts=facts,
        fixes=tuple(fixes),
    )


@rule("image-not-found", priority=77)
def image_not_found(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """The registry answered, and the image or tag is not there."""
    if not (
        p.search(r"manifest unknown|manifest for \S+ not found|name unknown|repository does not exist|code = NotFound")
        or p.search(r"failed to resolve reference \"[^\"]+\": [^\s]+: not found")
        or (p.search(_PULL_CONTEXT) and p.search(r"\bnot found\b"))
    ):
        return None
    if not p.search(_PULL_CONTEXT + r"|manifest"):
        return None
    facts = _image(p, ctx)
    image = facts.get("image", "the image")
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    return Diagnosis(
        cause="image-not-found",
        title=f"Image {image} does not exist",
        explanation=(
            f"The registry{' ' + facts['registry'] if 'registry' in facts else ''} was reached but has no {image}:"
            " the repository name or "
            f"the tag ({tag}) is wrong, or the image was pushed somewhere else (another project, region or "
            "registry) or not at all. Check the exact name and push it, then the pod retries on its own."
        ),
        facts={**facts, **v.facts(tag=tag)},
        fixes=(
            Fix(title="Check that the image exists", command=f"docker manifest inspect {facts.get('image', 'IMAGE')}"),
        ),
    )
