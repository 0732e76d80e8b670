"""The OAuth step: which sign-in route IAP can use for this project, and the custom client when needed."""

from __future__ import annotations

from collections.abc import Iterator

from kftui.core import validate
from kftui.core.cloud import ProjectInfo
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.secrets import SecretStore, default_store
from kftui.steps.base import CONSOLE, Field, Progress, StepContext, error_finding, project_of, services_of

CLIENT_ID = "oauth_client_id"
CLIENT_SECRET = "oauth_client_secret"
AUDIENCE = "oauth_audience"
"""Optional answer: "external" when people outside the organization must sign in."""

REDIRECT_URI = "https://iap.googleapis.com/v1/oauth/clientIds/{client_id}:handleRedirect"
IAP_API_GONE = (
    "The IAP OAuth Admin API (`gcloud iap oauth-brands` / `oauth-clients`) was closed to new projects on "
    "2026-01-19 and shut down on 2026-03-19, so no command can create the client any more."
)
LOGO_WARNING = (
    "Do NOT upload a logo: for an external app a logo sends the app to Google's verification, and it "
    "cannot simply be taken back."
)
ACCESS_NOTE = (
    "Everyone who opens Kubeflow through IAP also needs the role IAP-secured Web App User "
    "(roles/iap.httpsResourceAccessor), which Owner and Editor do not include."
)


def redirect_uri(client_id: str | None) -> str:
    """IAP's redirect URI for a client (with a placeholder until the client id is known)."""
    return REDIRECT_URI.format(client_id=client_id or "CLIENT_ID")


def store_client_secret(value: str, store: SecretStore | None = None) -> str:
    """Keep the client secret (keyring or memory); returns where, for the UI to say. Never logged or written."""
    return (store or default_store()).put(CLIENT_SECRET, value)


def _route(info: ProjectInfo, audience: str | None) -> str:
    """`google-managed` for organization projects with internal users, else `custom`."""
    if info.has_organization and (audience or "internal").lower() != "external":
        return "google-managed"
    return "custom"


class OAuthStep:
    """Picks the OAuth route from the project's parent, then walks the custom route through the Console."""

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
            help="From Google Auth Platform > Clients, after creating a Web application client.",
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
        """Read the project's parent, explain the route, then check the custom client's inputs if needed."""
        from kftui.gcp.errors import GcpApiError

        project = project_of(ctx)
        if project is None:
            yield Finding("oauth.route", Status.SKIP, "OAuth route not decided", "Not checked: no project chosen.")
            return
        try:
            info: ProjectInfo = services_of(ctx).projects().get(project)
        except GcpApiError as exc:
            yield error_finding("oauth.route", exc, project, f"read where {project} lives")
            return
        audience = ctx.answer(AUDIENCE)
        route = _route(info, str(audience) if audience else None)
        if route == "google-managed":
            yield Finding(
                "oauth.route",
                Status.PASS,
                "Google-managed OAuth client (organization users)",
                f"{project} belongs to {info.parent}, so IAP can use Google's managed OAuth client, which admits "
                "only users of your organization: nothing to create. If people outside the organization must "
                f"sign in, a custom OAuth client is needed instead. {ACCESS_NOTE}",
                learned={"oauth_route": route},
            )
            return
        why = (
            "has no organization (a personal account)"
            if not info.has_organization
            else "must admit users outside the organization"
        )
        yield Finding(
            "oauth.route",
            Status.PASS,
            "Custom OAuth client (created in the Console)",
            f"{project} {why}, and Google's managed client admits only organization users, so IAP needs your "
            f"own OAuth client. {IAP_API_GONE} {ACCESS_NOTE}",
            learned={"oauth_route": route},
        )
        yield self._client(ctx, project)

    def _client(self, ctx: StepContext, project: str) -> Finding:
        """The custom client's two inputs: warn with the Console walk-through until both are given."""
        client_id = str(ctx.answer(CLIENT_ID) or "").strip()
        typed = ctx.answer(CLIENT_SECRET)
        if typed:
            store_client_secret(str(typed.reveal() if hasattr(typed, "reveal") else typed), self.store)
        secret = self.store.get(CLIENT_SECRET)
        problem = validate.oauth_client_id(client_id) if client_id else None
        if problem:
            return Finding("oauth.client", Status.FAIL, "The OAuth client ID is not valid", problem)
        secret_problem = validate.oauth_client_secret(secret.reveal()) if secret is not None else None
        if secret_problem:
            return Finding("oauth.client", Status.FAIL, "The OAuth client secret is not valid", secret_problem)
        if client_id and secret is not None:
            return Finding(
                "oauth.client",
                Status.PASS,
                "Custom OAuth client given",
                f"Client {client_id}; its secret is {self.store.describe()}. Make sure the client lists the "
                f"redirect URI {redirect_uri(client_id)}",
            )
        wanted = [name for name, have in (("client ID", client_id), ("client secret", secret)) if not have]
        return Finding(
            "oauth.client",
            Status.WARN,
            f"Waiting for the OAuth {' and '.join(wanted)}",
            "1. Set up the consent screen (Google Auth Platform > Branding): audience External, your email as "
            f"support contact. {LOGO_WARNING} "
            "2. Create a client of type Web application. "
            f"3. Add the redirect URI {redirect_uri(client_id or None)} "
            "(CLIENT_ID is the new client's ID). "
            f"4. Paste the client ID and secret here; the secret will be {self.store.describe()}.",
            fixes=(
                Fix("Set up the consent screen (no logo!)", url=f"{CONSOLE}/auth/branding?project={project}"),
                Fix("Create a Web application client", url=f"{CONSOLE}/auth/clients/create?project={project}"),
            ),
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """The client can only be made in the Console now, so there is nothing to apply."""
        raise ValueError(f"the OAuth step has no action {action!r}")


STEP = OAuthStep()
