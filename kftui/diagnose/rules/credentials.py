"""Credentials that exist but cannot work: a dead service-account key, no active account, VM access scopes."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

KEYS_DOC = "https://cloud.google.com/iam/docs/keys-create-delete"
SCOPES_DOC = "https://cloud.google.com/compute/docs/access/service-accounts#accesscopesiam"


@rule("sa-key-invalid", priority=79)
def sa_key_invalid(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """'Invalid JWT Signature' means the key file's key was deleted or rotated: signing in again cannot help."""
    if not p.search(r"invalid jwt signature"):
        return None
    account = v.ctx_get(ctx, "account") if (v.ctx_get(ctx, "account") or "").endswith(".gserviceaccount.com") else None
    key_file = v.ctx_get(ctx, "credentials_file")
    sa = v.or_placeholder(account, "SA_EMAIL")
    return Diagnosis(
        cause="sa-key-invalid",
        title="The service-account key was deleted or rotated (Invalid JWT Signature)",
        explanation=(
            "Google rejected the token request because the key file's private key no longer belongs to the "
            "service account: the key was deleted, rotated or disabled (or the file is damaged). `gcloud auth "
            "login` does not change this. Create a new key for the service account and point gcloud or "
            "GOOGLE_APPLICATION_CREDENTIALS at it, or stop using key files and sign in as yourself."
        ),
        facts=v.facts(credentials="service-account-key", account=account, credentials_file=key_file),
        fixes=(
            Fix(title="See the account's keys (the one in your file is gone)",
                command=f"gcloud iam service-accounts keys list --iam-account={q(sa)}", url=KEYS_DOC),
            Fix(title="Create a new key file",
                command=f"gcloud iam service-accounts keys create key.json --iam-account={q(sa)}"),
            Fix(title="Use it for gcloud", command="gcloud auth activate-service-account --key-file=key.json"),
            Fix(title="Or sign in as yourself for client libraries",
                command="gcloud auth application-default login"),
        ),
    )


@rule("no-active-account", priority=80)
def no_active_account(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """gcloud has no credentialed account selected (a new machine, another user, or sudo's own config)."""
    if not p.search(r"you do not currently have an active account selected"):
        return None
    account = v.ctx_get(ctx, "account")
    fixes = [Fix(title="Sign in", command="gcloud auth login"), Fix(title="See the accounts gcloud knows",
                                                                    command="gcloud auth list")]
    if account:
        fixes.insert(0, Fix(title=f"Select {account}", command=f"gcloud config set account {q(account)}"))
    return Diagnosis(
        cause="no-active-account",
        title="gcloud has no active account",
        explanation=(
            "gcloud stopped before calling Google because no account is selected: you have not signed in on "
            "this machine, or the command ran as another user (sudo uses root's gcloud configuration, not "
            "yours). Sign in, or select an account you already signed in with."
        ),
        facts=v.facts(account=account),
        fixes=tuple(fixes),
    )


@rule("insufficient-scopes", priority=79)
def insufficient_scopes(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A VM's (or GKE node's) access scopes cap what its service account may do, whatever its IAM roles."""
    if not (
        p.search(r"request had insufficient authentication scopes")
        or p.has_reason("ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        or p.search(r"does not have the correct permission scopes")
    ):
        return None
    zone = v.zone(p, ctx)
    cluster = v.ctx_get(ctx, "cluster")
    project, _ = v.project(p, ctx)
    where = v.or_placeholder(zone, "zone")
    return Diagnosis(
        cause="insufficient-scopes",
        title="The VM's access scopes do not allow this API",
        explanation=(
            "The call used the credentials of a Compute Engine VM or GKE node, and the VM's access scopes do "
            "not include this API, so Google refused it before looking at IAM roles. Give the VM the "
            "cloud-platform scope (the VM must be stopped), or create GKE node pools with "
            "--scopes=cloud-platform (scopes of an existing pool cannot change), or sign in with your own "
            "account instead of the VM's."
        ),
        facts=v.facts(zone=zone, cluster=cluster, project=project),
        fixes=(
            Fix(
                title="Give a (stopped) VM the cloud-platform scope",
                command=(
                    f"gcloud compute instances set-service-account VM_NAME --zone={where} --scopes=cloud-platform"
                ),
                url=SCOPES_DOC,
            ),
            Fix(
                title="For GKE: a new node pool with the cloud-platform scope",
                command=(
                    f"gcloud container node-pools create pool-cloud-platform --cluster="
                    f"{v.or_placeholder(cluster, 'cluster')} --location="
                    f"{v.or_placeholder(v.region_of(zone) or v.ctx_get(ctx, 'region'), 'region')}"
                    " --scopes=cloud-platform"
                ),
            ),
            Fix(title="Or use your own login on this machine", command="gcloud auth login"),
        ),
    )
