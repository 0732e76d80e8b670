"""The OAuth step: sign in to the deployed Kubeflow with Google accounts (oauth2-proxy), if you give it a client."""

from __future__ import annotations

from collections.abc import Iterator

from kftui.core import validate
from kftui.core.cloud import ProjectInfo
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.core.plan import DASHBOARD_PORT, FORWARD_DASHBOARD, GOOGLE_REDIRECT, PASSWORD_RULE
from kftui.secrets import Secret, SecretStore, default_store
from kftui.steps.base import CONSOLE, Field, Progress, StepContext, error_finding, project_of, services_of

CLIENT_ID = "oauth_client_id"
CLIENT_SECRET = "oauth_client_secret"
AUDIENCE = "oauth_audience"
"""Optional answer: "external" when people outside the organization must sign in."""

REDIRECT_URI = GOOGLE_REDIRECT
"""The authorised redirect URI the client must list: oauth2-proxy's callback behind `kftui forward dashboard`
(the same constant the deploy writes into oauth2-proxy's redirect_url)."""
NO_CLIENT_API = (
    "Google offers no API that creates OAuth clients (the IAP OAuth Admin API, the last one, shut down on "
    "2026-03-19), so the client is made in the Console."
)
LOGO_WARNING = (
    "Do NOT upload a logo: for an external app a logo sends the app to Google's verification, and it "
    "cannot simply be taken back."
)
WITHOUT_CLIENT = (
    "Without a client, Kubeflow signs people in with Dex and one password, which the Deploy step asks for "
    f"({PASSWORD_RULE})."
)


def redirect_uri() -> str:
    """The one redirect URI Google must allow for the deployed Kubeflow (oauth2-proxy's callback on localhost)."""
    return REDIRECT_URI


def store_client_secret(value: str, store: SecretStore | None = None) -> str:
    """Keep the client secret (keyring or memory); returns where, for the UI to say. Never logged or written."""
    return (store or default_store()).put(CLIENT_SECRET, value)


def _audience(info: ProjectInfo, audience: str | None) -> str:
    """The consent screen's audience: Internal for organization members only, else External (personal projects)."""
    if info.has_organization and (audience or "internal").lower() != "external":
        return "Internal"
    return "External"


class OAuthStep:
    """Google sign-in for the deployed Kubeflow: the consent screen's audience from the project's parent, the
    Console walk-through for a Web client with oauth2-proxy's redirect URI, and the client's ID and secret."""

    id = "oauth"
    title = "OAuth"
    order = 60
    requires: tuple[str, ...] = ("project",)
    checks: tuple[str, ...] = ("oauth.route",)
    fields: tuple[Field, ...] = (
        Field(
            CLIENT_ID,
            "OAuth client ID",
            placeholder="1234567890-abc123.apps.googleusercontent.com",
            help=f"From Google Auth Platform > Clients: a Web application client listing {GOOGLE_REDIRECT}. "
            "Optional: without one, Kubeflow signs in with Dex and a password.",
            validate=validate.oauth_client_id,
            required=False,
        ),
        Field(
            CLIENT_SECRET,
            "OAuth client secret",
            kind="secret",
            placeholder="GOCSPX-…",
            help="Shown once when the client is created; kept in the OS keyring (or memory), never in a file.",
            validate=validate.oauth_client_secret,
            required=False,
        ),
    )

    def __init__(self, store: SecretStore | None = None) -> None:
        self._store = store

    @property
    def store(self) -> SecretStore:
        """Where the client secret is kept; the process-wide store unless a test gives its own."""
        return self._store or default_store()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """Read the project's parent (it decides the consent screen's audience), then check the client's inputs."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding("oauth.route", Status.SKIP, "Sign-in not planned", "Not checked: no project chosen.")
            return
        try:
            info: ProjectInfo = services_of(ctx).projects().get(project)
        except GcpApiError as exc:
            yield error_finding("oauth.route", exc, project, f"read where {project} lives")
            return
        audience = ctx.answer(AUDIENCE)
        kind = _audience(info, str(audience) if audience else None)
        if kind == "Internal":
            who = (f"{project} belongs to {info.parent}: with the consent screen's audience Internal, only members "
                   "of your organization can sign in.")
        else:
            why = ("has no organization (a personal account)" if not info.has_organization
                   else "must admit people outside the organization")
            who = (f"{project} {why}, so the consent screen's audience is External; keep the app in Testing, where "
                   "only the test users you list can sign in (published, any Google account could).")
        given = bool(str(ctx.answer(CLIENT_ID) or "").strip())
        yield Finding(
            "oauth.route",
            Status.PASS,
            "Sign-in: Google accounts through oauth2-proxy" if given
            else "Sign-in: Dex and a password, or Google accounts once you give an OAuth client",
            "The deployed Kubeflow puts oauth2-proxy in front of the dashboard; given a Web application OAuth "
            f"client, it signs people in with their Google accounts (no IAP is involved). {who} {WITHOUT_CLIENT}",
        )
        yield self._client(ctx, project, kind)

    def _client(self, ctx: StepContext, project: str, audience: str) -> Finding:
        """The client's two inputs and the redirect URI it must list; a warning until both are given."""
        client_id = str(ctx.answer(CLIENT_ID) or "").strip()
        typed = ctx.answer(CLIENT_SECRET)
        if typed:
            store_client_secret(typed.reveal() if isinstance(typed, Secret) else str(typed), self.store)
        secret = self.store.get(CLIENT_SECRET)
        problem = validate.oauth_client_id(client_id) if client_id else None
        if problem:
            return Finding("oauth.client", Status.FAIL, "The OAuth client ID is not valid", problem)
        secret_problem = validate.oauth_client_secret(secret.reveal()) if secret is not None else None
        if secret_problem:
            return Finding("oauth.client", Status.FAIL, "The OAuth client secret is not valid", secret_problem)
        reach = (f"`{FORWARD_DASHBOARD}` serves Kubeflow on port {DASHBOARD_PORT}; keep that port free, or Google "
                 "refuses the sign-in with redirect_uri_mismatch.")
        edit = Fix("Open the OAuth clients", url=f"{CONSOLE}/auth/clients?project={project}")
        if client_id and secret is not None:
            return Finding(
                "oauth.client",
                Status.PASS,
                "OAuth client given: the deploy signs people in with Google",
                f"Client {client_id}; its secret is {self.store.describe()} and goes only into a Kubernetes Secret. "
                f"The client must list the authorised redirect URI {REDIRECT_URI} exactly (Google compares "
                f"scheme, host, port and path). {reach}",
                fixes=(edit,),
            )
        wanted = [name for name, have in (("client ID", client_id), ("client secret", secret)) if not have]
        return Finding(
            "oauth.client",
            Status.WARN,
            f"Google sign-in waits for the OAuth {' and '.join(wanted)} (optional)",
            f"1. Set up the consent screen (Google Auth Platform > Branding): audience {audience}, your email as "
            f"support contact. {LOGO_WARNING} "
            "2. Create a client of type Web application. "
            f"3. Under Authorised redirect URIs add {REDIRECT_URI}, oauth2-proxy's callback. {reach} "
            f"4. Paste the client ID and secret here; the secret will be {self.store.describe()}. {NO_CLIENT_API}",
            fixes=(
                Fix("Set up the consent screen (no logo!)", url=f"{CONSOLE}/auth/branding?project={project}"),
                Fix("Create a Web application client", url=f"{CONSOLE}/auth/clients/create?project={project}"),
            ),
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """The client can only be made in the Console now, so there is nothing to apply."""
        raise ValueError(f"the OAuth step has no action {action!r}")


STEP = OAuthStep()
