"""`kftui image check` and `kftui pullsecret create`: a custom notebook image checked and made pullable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from kftui.errors import KftuiError, ToolMissingError, UsageError

MARKS = {"pass": "✔", "warn": "!", "fail": "✘"}


def check(image: str, pull_secret: str | None, namespace: str | None, context: str | None, kubeconfig: str | None,
          as_json: bool) -> int:
    """Print what the image's registry says about it; 0 when fit, 1 when not (or it could not be checked)."""
    from kftui.cluster.images import check_image, secret_credentials
    from kftui.core.images import parse_reference
    from kftui.core.sanitize import inert

    try:
        ref = parse_reference(image)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    credentials = None
    if pull_secret:
        from kftui.cluster.kubeconfig import api_client, current_context

        ctx = current_context(kubeconfig)
        ns = namespace or (ctx.namespace if ctx else None)
        if not ns:
            raise UsageError("-n: give the namespace the pull secret lives in")
        credentials = secret_credentials(api_client(context, kubeconfig), ns, pull_secret, ref.registry)
    report = check_image(image, credentials)
    if as_json:
        print(json.dumps({"image": report.image, "digest": report.digest, "ok": report.ok, "error": report.error,
                          "error_kind": report.error_kind,
                          "checks": [{"status": c.status, "message": c.message} for c in report.checks]}))
        return 0 if report.ok else 1
    print(inert(report.image) + (f"  {report.digest}" if report.digest else ""))
    if report.error:
        print(f"  cannot check: {inert(report.error)}")
        if report.error_kind == "auth" and not pull_secret:
            print(f"  make a pull secret: kftui pullsecret create NAME --registry {ref.registry} -n NAMESPACE")
        return 1
    for c in report.checks:
        print(f"  {MARKS.get(c.status, '?')} {inert(c.message)}")
    return 0 if report.ok else 1


def _password(host: str, json_key: str | None, from_gcloud: bool, password_stdin: bool) -> str:
    """The secret half, from where the registry family gets it; never from the command line."""
    from kftui.core.images import ecr_region, registry_kind

    if json_key:
        path = Path(json_key)
        try:
            text = path.read_text(encoding="utf-8")
            json.loads(text)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--json-key: {path} is not a readable service-account key (JSON): {exc}") from exc
        return text
    if from_gcloud:
        return _run(["gcloud", "auth", "print-access-token"], "gcloud")
    if password_stdin:
        text = sys.stdin.readline().rstrip("\n")
        if not text:
            raise UsageError("--password-stdin: nothing was read from standard input")
        return text
    if registry_kind(host) == "ecr":
        return _run(["aws", "ecr", "get-login-password", "--region", ecr_region(host) or ""], "aws")
    raise UsageError("password: pass --password-stdin (Docker Hub: an access token), --json-key FILE or "
                     "--from-gcloud (Artifact Registry, GCR); ECR runs aws ecr get-login-password itself")


def _run(argv: list[str], tool: str) -> str:
    """A credential helper's output (its first line), or one line saying why not."""
    if shutil.which(tool) is None:
        raise ToolMissingError(f"{tool} is not on PATH; it is needed to get the registry password ({' '.join(argv)})")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise KftuiError(f"{' '.join(argv)} failed: {(done.stderr or done.stdout).strip()[:300]}")
    return done.stdout.strip().splitlines()[0]


def create(name: str, registry: str, namespace: str | None, username: str | None, password_stdin: bool,
           json_key: str | None, from_gcloud: bool, service_account: str, cronjob: bool, context: str | None,
           kubeconfig: str | None) -> None:
    """Make the pull secret, attach it to the notebooks' service account, and say how long it lasts."""
    from kftui.cluster.kubeconfig import api_client, current_context
    from kftui.cluster.pullsecret import apply_pull_secret, ecr_refresh_cronjob, expected_user
    from kftui.core.images import registry_kind
    from kftui.core.sanitize import inert

    host = registry.removeprefix("https://").removeprefix("http://").rstrip("/")
    if not host or "/" in host or any(ch.isspace() for ch in host):
        raise UsageError("--registry: give the registry host only, e.g. us-docker.pkg.dev or docker.io")
    ctx = current_context(kubeconfig)
    ns = namespace or (ctx.namespace if ctx else None)
    if not ns:
        raise UsageError("-n: give the profile namespace the notebooks run in")
    wanted = expected_user(host, bool(json_key))
    user = username or wanted
    if wanted and username and username != wanted:
        raise UsageError(f"--username: {host} takes the user {wanted!r} (not {username!r})")
    if not user:
        raise UsageError(f"--username: {host} needs your registry user name")
    password = _password(host, json_key, from_gcloud, password_stdin)
    created = apply_pull_secret(api_client(context, kubeconfig), ns, name, host, user, password, service_account)
    print(f"{'Created' if created else 'Replaced'} secret {inert(name)} in {inert(ns)} for {inert(host)} "
          f"(user {inert(user)}) and attached it to service account {inert(service_account)}.")
    kind = registry_kind(host)
    if kind == "ecr":
        print("ECR passwords expire after 12 hours: re-run this command, or apply the CronJob "
              f"`kftui pullsecret create {name} --registry {host} -n {ns} --cronjob` prints.")
    elif user == "oauth2accesstoken":
        print("An access token lasts 1 hour: for a lasting secret use --json-key with a service-account key "
              "that has roles/artifactregistry.reader.")
    if cronjob and kind == "ecr":
        print(ecr_refresh_cronjob(ns, name, host, service_account))
