"""Who is calling: Application Default Credentials, expired logins, and the kubectl auth plugin."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule
from kftui.diagnose.rules.apis import GOOGLE_CLIENT_PROJECTS

ADC_DOC = "https://cloud.google.com/docs/authentication/provide-credentials-adc"
PLUGIN_DOC = "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"


@rule("adc-missing", priority=82)
def adc_missing(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Client libraries read ADC, not the gcloud login; say which store is empty and how to fill it."""
    missing_file = v.group(p.search(r"\bFile (\S+?) was not found\b"))
    is_adc_error = p.has("DefaultCredentialsError") or "DefaultCredentialsError" in str(p.values.get("exception"))
    if not (
        p.has(
            "default credentials were not found", "could not automatically determine credentials",
            "application default credentials have not been set up",
        )
        or (is_adc_error and (missing_file or p.has("credentials")))
    ):
        return None
    project = v.ctx_get(ctx, "project")
    if missing_file:
        explanation = (
            f"kftui could not sign in to Google Cloud: GOOGLE_APPLICATION_CREDENTIALS points to {missing_file}, "
            "and that file does not exist. Client libraries (and so kftui) trust that variable before anything "
            "else. Point it at an existing key file, or unset it to use your own login from "
            "`gcloud auth application-default login`."
        )
        fixes: tuple[Fix, ...] = (
            Fix(title="Stop using the missing key file", command="unset GOOGLE_APPLICATION_CREDENTIALS"),
            Fix(title="Sign in for client libraries", command="gcloud auth application-default login", url=ADC_DOC),
        )
    else:
        explanation = (
            "kftui could not find Application Default Credentials (ADC), the login that client libraries use. "
            "ADC is separate from `gcloud auth login`: being signed in to gcloud is not enough. Run "
            "`gcloud auth application-default login` with the same account you use for gcloud, then try again."
        )
        fixes = (
            Fix(title="Sign in for client libraries", command="gcloud auth application-default login", url=ADC_DOC),
            Fix(title="Check which account gcloud itself uses", command="gcloud auth list"),
        )
    if project:
        fixes = (
            *fixes,
            Fix(
                title=f"Bill API calls to {project}",
                command=f"gcloud auth application-default set-quota-project {q(project)}",
            ),
        )
    return Diagnosis(
        cause="adc-missing",
        title="No Application Default Credentials" + (f" ({missing_file} is missing)" if missing_file else ""),
        explanation=explanation,
        facts=v.facts(credentials_file=missing_file, project=project),
        fixes=fixes,
    )


@rule("adc-no-quota-project", priority=80)
def adc_no_quota_project(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """User ADC without a quota project is billed to Google's own client project, which refuses."""
    consumer = re.search(r"projects/(\d+)", p.metadata.get("consumer", ""))
    in_text = v.group(p.search(r"has not been used in project (\d+)"))
    google_owned = (consumer and consumer.group(1) in GOOGLE_CLIENT_PROJECTS) or in_text in GOOGLE_CLIENT_PROJECTS
    if not (
        google_owned
        or p.has("without a quota project", "requires a quota project")
        or p.search(r"authenticated using end user credentials from (?:the )?google cloud sdk\b")
        or p.search(r"quota project,? which is not set")
    ):
        return None
    project, _ = v.project(p, ctx)
    if project in GOOGLE_CLIENT_PROJECTS:
        project = v.ctx_get(ctx, "project")
    proj = v.or_placeholder(project, "project")
    service = p.metadata.get("service")
    return Diagnosis(
        cause="adc-no-quota-project",
        title="Application Default Credentials have no quota project",
        explanation=(
            "Your Application Default Credentials are your own user login but name no quota project, so "
            "Google bills API calls to the gcloud tool's own project, which has "
            f"{service or 'most APIs'} switched off and refuses. Set your project "
            f"({v.shown(project, 'the one you deploy to')}) as the ADC quota project; it also needs the "
            "Service Usage Consumer role there, which Owners and Editors have."
        ),
        facts=v.facts(project=project, service=service),
        fixes=(
            Fix(
                title=f"Use {proj} as the quota project",
                command=f"gcloud auth application-default set-quota-project {q(proj)}",
                action="adc.set_quota_project",
            ),
            Fix(
                title="Why this happens",
                url="https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds",
            ),
        ),
    )


@rule("credentials-expired", priority=78)
def credentials_expired(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Expired or revoked logins look like crashes; the fix is only to sign in again."""
    if not (
        p.has(
            "reauthentication is needed", "reauthentication failed", "reauthentication required", "invalid_grant",
            "invalid_rapt", "rapt_required",
        )
        or p.search(r"\btoken has been expired or revoked\b")
        or p.search(r"problem (?:refreshing|reauthenticating while refreshing) your current auth tokens")
        or ("RefreshError" in f"{p.flat} {p.values.get('exception')}" and p.has("token", "reauth", "expired"))
    ):
        return None
    if p.search(r"invalid jwt signature"):
        return None  # a dead service-account key, which signing in again does not fix
    adc = p.has("application-default", "application default", "google.auth") or "google.auth" in str(
        p.values.get("exception")
    )
    command = "gcloud auth application-default login" if adc else "gcloud auth login"
    return Diagnosis(
        cause="credentials-expired",
        title="Your Google login has expired" + (" (Application Default Credentials)" if adc else ""),
        explanation=(
            "Google would not refresh the saved login: it has expired or was revoked (password change, "
            "session policy or `gcloud auth revoke`). Nothing in the project is wrong. Sign in again with "
            f"`{command}`; kftui uses the ADC login and kubectl uses the gcloud login, so renew both if unsure."
        ),
        facts=v.facts(credentials="adc" if adc else "gcloud", project=v.ctx_get(ctx, "project")),
        fixes=(
            Fix(title="Sign in again", command=command),
            Fix(
                title="And the other login store",
                command="gcloud auth login" if adc else "gcloud auth application-default login",
            ),
        ),
    )


@rule("auth-plugin-missing", priority=85)
def auth_plugin_missing(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """kubectl cannot talk to GKE without the auth plugin; the error reads like a network failure."""
    removed = p.search(r"the gcp auth plugin has been removed")  # kubectl 1.26+ with an old kubeconfig
    if not (p.has("gke-gcloud-auth-plugin") or removed):
        return None
    if not removed and not p.search(
        r"not found|not executable|no such file|executable file not found|command not found|failed to"
        r" find|is not installed|plugin that is not installed"
    ):
        return None
    cluster = v.ctx_get(ctx, "cluster")
    location = v.ctx_get(ctx, "zone") or v.ctx_get(ctx, "region") or v.ctx_get(ctx, "location")
    return Diagnosis(
        cause="auth-plugin-missing",
        title="gke-gcloud-auth-plugin is not installed",
        explanation=(
            "kubectl (and kftui's cluster view) log in to GKE through a helper program, "
            "gke-gcloud-auth-plugin, and it is not installed or not on your PATH, so every cluster call "
            "fails before it starts. Install it with gcloud (or your package manager if gcloud came from "
            "apt or yum), then fetch the cluster credentials again."
        ),
        facts=v.facts(tool="gke-gcloud-auth-plugin", cluster=cluster),
        fixes=(
            Fix(title="Install the plugin", command="gcloud components install gke-gcloud-auth-plugin", url=PLUGIN_DOC),
            Fix(
                title="Or, for gcloud installed with apt",
                command="sudo apt-get install google-cloud-cli-gke-gcloud-auth-plugin",
            ),
            Fix(
                title="Then refresh kubectl's credentials",
                command=(
                    f"gcloud container clusters get-credentials {v.or_placeholder(cluster, 'cluster')}"
                    f" --location={v.or_placeholder(location, 'region')}"
                ),
            ),
        ),
    )


_INSTALL = {
    "gcloud": "https://cloud.google.com/sdk/docs/install",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/",
    "kustomize": "https://kubectl.docs.kubernetes.io/installation/kustomize/",
    "helm": "https://helm.sh/docs/intro/install/",
    "docker": "https://docs.docker.com/engine/install/",
    "aws": "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
}
_TOOL = "|".join(_INSTALL)


@rule("tool-missing", priority=40)
def tool_missing(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A command-line tool kftui or the user needs is not on PATH."""
    m = (
        p.search(rf"no such file or directory: '(?:[^']*/)?(?P<tool>{_TOOL})'")
        or p.search(rf"\b(?P<tool>{_TOOL}): (?:command )?not found\b")
        or p.search(rf"exec: \"?(?P<tool>{_TOOL})\"?: executable file not found")
        or p.search(rf"command not found: (?P<tool>{_TOOL})\b")
    )
    if m is None:
        return None
    tool = m.group("tool").lower()
    command = "gcloud components install kubectl" if tool == "kubectl" else None
    return Diagnosis(
        cause="tool-missing",
        title=f"{tool} is not installed (or not on PATH)",
        explanation=(
            f"The command needs the program `{tool}`, and it could not be found on your PATH. Install it, "
            "open a new shell so PATH is re-read, and run the command again."
        ),
        facts=v.facts(tool=tool),
        fixes=(Fix(title=f"Install {tool}", command=command, url=_INSTALL[tool]),),
    )
