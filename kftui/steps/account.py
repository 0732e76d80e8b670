"""The account step: which identity gcloud and the client libraries use, and whether they agree."""

from __future__ import annotations

from collections.abc import Iterator

from kftui.core.cloud import AuthState
from kftui.core.diagnosis import Fix
from kftui.core.findings import Finding, Status
from kftui.diagnose import diagnose_exception
from kftui.steps.base import Field, Progress, StepContext

ADC_LOGIN = "gcloud auth application-default login"
PLUGIN_INSTALL = "gcloud components install gke-gcloud-auth-plugin"
PLUGIN_DOCS = "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"


class AccountStep:
    """Finds the blog's two-accounts trap before it bites: gcloud deploys as one user, libraries read as another."""

    id = "account"
    title = "Account"
    order = 10
    requires: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()

    def run(self, ctx: StepContext) -> Iterator[Finding]:
        """Read gcloud's and ADC's identities once, then judge each question from that one reading."""
        from kftui.gcp.auth import auth_state

        try:
            state: AuthState = auth_state()
        except Exception as exc:
            diagnosis = diagnose_exception(exc)
            yield Finding("account.gcloud", Status.FAIL, diagnosis.title, diagnosis.explanation, diagnosis=diagnosis)
            return
        yield self._gcloud(state)
        yield self._adc(state)
        yield self._match(state)
        yield self._quota_project(state)
        yield self._plugin(state)

    def _gcloud(self, state: AuthState) -> Finding:
        learned = {"project": state.project} if state.project else {}
        if learned:
            learned["configuration"] = state.active_configuration or "default"
        if not state.account:
            return Finding(
                "account.gcloud",
                Status.FAIL,
                "gcloud has no active account",
                "The gcloud CLI (and kubectl through its auth plugin) has nobody to act as.",
                fixes=(Fix("Log in with gcloud", command="gcloud auth login"),),
            )
        others = [c.name for c in state.configurations if not c.is_active]
        switch = (
            tuple(
                Fix(
                    f"Switch to configuration '{n}'",
                    command=f"gcloud config configurations activate {n}",
                    action=f"activate-configuration:{n}",
                )
                for n in others
            )
            if others
            else ()
        )
        where = f"project {state.project}" if state.project else "no project set"
        return Finding(
            "account.gcloud",
            Status.PASS,
            f"gcloud acts as {state.account}",
            f"Configuration '{state.active_configuration or 'default'}', {where}."
            + (f" Other configurations: {', '.join(others)}." if others else ""),
            fixes=switch,
            learned=learned,
        )

    def _adc(self, state: AuthState) -> Finding:
        if state.adc is None:
            return Finding(
                "account.adc",
                Status.FAIL,
                "No Application Default Credentials",
                "kftui and every Google client library use Application Default Credentials, which are separate "
                "from `gcloud auth login`. None were found.",
                fixes=(Fix("Create them with your user account", command=ADC_LOGIN),),
            )
        who = state.adc.email or "an identity without an email"
        return Finding(
            "account.adc",
            Status.PASS,
            f"Application Default Credentials act as {who}",
            f"Kind: {state.adc.kind}" + (f", from {state.adc.path}." if state.adc.path else "."),
        )

    def _match(self, state: AuthState) -> Finding:
        if state.adc is None or not state.account:
            return Finding(
                "account.match", Status.SKIP, "Identities not compared", "One of the two identities is missing."
            )
        if state.identities_match:
            return Finding(
                "account.match",
                Status.PASS,
                "gcloud and ADC use the same account",
                f"Both act as {state.account}, so what kftui checks is what kubectl and gcloud will do.",
            )
        return Finding(
            "account.match",
            Status.WARN,
            "gcloud and ADC use different accounts",
            f"gcloud (and kubectl) act as {state.account}, but the client libraries act as "
            f"{state.adc.email or 'another identity'}. You would deploy as one and read as the other; "
            "permissions and quota checks can disagree.",
            fixes=(
                Fix(f"Make ADC use {state.account}", command=ADC_LOGIN),
                Fix("Or switch gcloud to the ADC account", command=f"gcloud config set account {state.adc.email}")
                if state.adc.email
                else Fix("Or list gcloud's accounts", command="gcloud auth list"),
            ),
        )

    def _quota_project(self, state: AuthState) -> Finding:
        adc = state.adc
        if adc is None:
            return Finding("account.quota-project", Status.SKIP, "No ADC to check", "Set up ADC first.")
        if adc.quota_project:
            return Finding(
                "account.quota-project",
                Status.PASS,
                f"ADC quota project: {adc.quota_project}",
                "API usage by kftui is billed and rate-limited against this project.",
            )
        if adc.kind == "service_account":
            return Finding(
                "account.quota-project",
                Status.PASS,
                "Service account bills its own project",
                "Service-account credentials need no separate quota project.",
            )
        project = state.project or "PROJECT_ID"
        return Finding(
            "account.quota-project",
            Status.WARN,
            "ADC has no quota project",
            "User credentials without a quota project make some APIs refuse or warn "
            "('without a quota project'); set the project that should be charged.",
            fixes=(
                Fix("Set the quota project", command=f"gcloud auth application-default set-quota-project {project}"),
            ),
        )

    def _plugin(self, state: AuthState) -> Finding:
        if state.auth_plugin:
            return Finding(
                "account.auth-plugin",
                Status.PASS,
                "gke-gcloud-auth-plugin is installed",
                f"kubectl can authenticate to GKE ({state.auth_plugin}).",
            )
        return Finding(
            "account.auth-plugin",
            Status.FAIL,
            "gke-gcloud-auth-plugin is missing",
            "kubectl needs it to talk to GKE clusters; without it every kubectl call fails with "
            "'exec: executable gke-gcloud-auth-plugin not found'.",
            fixes=(
                Fix("Install it with gcloud", command=PLUGIN_INSTALL, url=PLUGIN_DOCS),
                Fix("Or from your OS packages", command="sudo apt-get install google-cloud-cli-gke-gcloud-auth-plugin"),
            ),
        )

    def apply(self, action: str, ctx: StepContext, progress: Progress) -> str:
        """Switching gcloud configuration is the one thing this step does for the user."""
        from kftui.gcp.auth import run_gcloud

        prefix = "activate-configuration:"
        if not action.startswith(prefix):
            raise ValueError(f"the account step has no action {action!r}")
        name = action[len(prefix) :]
        progress(f"gcloud config configurations activate {name}")
        run_gcloud("config", "configurations", "activate", name)
        return f"gcloud now uses configuration '{name}'"


STEP = AccountStep()
