"""OAuth sign-in refused because the client does not list the redirect URI (IAP, local apps, web apps)."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.core.plan import DASHBOARD_PORT, GOOGLE_REDIRECT, OAUTH2_CALLBACK
from kftui.diagnose import values as v
from kftui.diagnose.advice import CONSOLE
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

IAP_DOC = "https://cloud.google.com/iap/docs/custom-oauth-configuration"


@rule("redirect-uri-mismatch", priority=75)
def redirect_uri_mismatch(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google compares the redirect URI exactly (scheme, host, port, path and trailing slash)."""
    if not p.search(r"\bredirect_uri_mismatch\b") and not p.search(
        r"the redirect uri in the request,? \S+,? does not match the ones authorized"
    ):
        return None
    uri = v.group(p.search(r"the redirect uri in the request,? (\S+?),? (?:does not|did not) match")) or v.group(
        p.search(r"\bredirect_uri=(\S+?)(?:&|\s|$)")
    )
    client = v.group(p.search(r"oauthclient/([\w.-]+\.apps\.googleusercontent\.com)")) or v.group(
        p.search(r"\bclient_id=([\w.-]+\.apps\.googleusercontent\.com)")
    ) or v.ctx_get(ctx, "client_id")
    project = v.group(p.search(r"oauthclient/[^?\s]+\?project=(\d{5,}|[a-z][a-z0-9-]{4,28}[a-z0-9])\b")) or (
        v.ctx_get(ctx, "project")
    )
    origin = bool(p.search(r"register the javascript origin"))
    page = (
        f"{CONSOLE}/apis/credentials/oauthclient/{client}?project={v.or_placeholder(project, 'project')}"
        if client
        else f"{CONSOLE}/apis/credentials?project={v.or_placeholder(project, 'project')}"
    )
    iap = f"https://iap.googleapis.com/v1/oauth/clientIds/{client or 'CLIENT_ID'}:handleRedirect"
    what = "JavaScript origin" if origin and not uri else "redirect URI"
    fixes = [
        Fix(
            title=f"Add {uri or 'the ' + what} to the OAuth client's authorized {what}s",
            url=page,
        )
    ]
    if uri is None or OAUTH2_CALLBACK in uri:
        # kftui's Kubeflow signs in with Google through oauth2-proxy, on the port `kftui forward dashboard` uses
        fixes.append(Fix(
            title=f"For the Kubeflow kftui deployed, list exactly {GOOGLE_REDIRECT} on the client and open the "
                  f"dashboard on port {DASHBOARD_PORT} (another local port changes the redirect URI Google sees)",
            command="kftui forward dashboard",
        ))
    if (uri is not None and "iap.googleapis.com" in uri) or v.ctx_get(ctx, "iap"):
        fixes.append(Fix(title=f"For IAP (Kubeflow behind IAP) the redirect URI is {iap}", url=IAP_DOC))
    return Diagnosis(
        cause="redirect-uri-mismatch",
        title=f"The OAuth client does not allow the {what}" + (f" {uri}" if uri else ""),
        explanation=(
            f"Google refused the sign-in because the {what} the app sent"
            f"{' (' + uri + ')' if uri else ''} is not in the OAuth client's list. Google compares it exactly: "
            "scheme, host, port, path and the trailing slash must all match. Add it to the client (it takes a few "
            "minutes to apply), or make the app use one that is listed."
        ),
        facts=v.facts(redirect_uri=uri, client_id=client, project=project),
        fixes=tuple(fixes),
    )
