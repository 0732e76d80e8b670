"""Google APIs that are switched off for the project: one command turns each on."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import enable_api
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_SERVICE = r"[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,3}\.googleapis\.com"
# Projects of Google's own OAuth clients (gcloud and ADC): an API "disabled" there means no quota project.
GOOGLE_CLIENT_PROJECTS = frozenset({"764086051850", "32555940559"})

# Display titles Google uses in "X API has not been used": only for naming a service the text leaves out.
_TITLES = {
    "compute engine": "compute.googleapis.com",
    "kubernetes engine": "container.googleapis.com",
    "identity and access management (iam)": "iam.googleapis.com",
    "cloud resource manager": "cloudresourcemanager.googleapis.com",
    "service usage": "serviceusage.googleapis.com",
    "cloud quotas": "cloudquotas.googleapis.com",
    "cloud billing": "cloudbilling.googleapis.com",
    "artifact registry": "artifactregistry.googleapis.com",
    "cloud logging": "logging.googleapis.com",
    "google compute engine": "compute.googleapis.com",
    "cloud run admin": "run.googleapis.com",
    "cloud build": "cloudbuild.googleapis.com",
}


def consumer_number(p: Problem) -> str | None:
    """The project number Google says the call was billed to."""
    m = re.search(r"projects/(\d+)", p.metadata.get("consumer", ""))
    return m.group(1) if m else v.group(p.search(r"has not been used in project (\d+)"))


@rule("api-disabled", priority=55)
def api_disabled(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """An API is off in the project; name it and give the enable command."""
    names_service = p.has("googleapis.com")  # a cheap gate before the service-name regexes
    title_m = p.search(
        r"\b(?P<title>[A-Z][\w ()-]{1,60}?) API has not been used in project (?P<num>\d+|\S{1,40} before)"
    )
    bracket = (
        p.search(rf"API \[(?P<service>{_SERVICE})\] not enabled on project \[(?P<project>[\w-]+)\]")
        if names_service
        else None
    )
    consumer = (
        p.search(rf"service '(?P<service>{_SERVICE})' is not enabled for consumer '(?:project:)?(?P<project>[\w-]+)'")
        or p.search(rf"should enable service:(?P<service>{_SERVICE})\b")
        if names_service
        else None
    )
    if title_m is None:  # the old wording: "The Google Compute Engine API is not enabled for this project"
        title_m = p.search(r"\b(?:the )?(?P<title>[A-Z][\w ()-]{1,60}?) API is not enabled for (?:this|the) project\b")
    if not (
        p.has_reason("SERVICE_DISABLED", "ACCESSNOTCONFIGURED")
        or title_m
        or bracket
        or consumer
        or (
            names_service
            and p.search(rf"\b{_SERVICE} (?:is|has) not (?:been )?enabled\b|\bservice {_SERVICE} is disabled\b")
        )
    ):
        return None
    service = (
        p.metadata.get("service")
        or v.group(bracket, "service")
        or v.group(consumer, "service")
        or (v.group(p.search(rf"apis/api/({_SERVICE})")) if names_service else None)
        or (v.group(p.search(rf"\b({_SERVICE})\b")) if names_service else None)
    )
    title = p.metadata.get("serviceTitle") or (v.group(title_m, "title") or "").strip() or None
    if service is None and title:
        service = _TITLES.get(title.lower().removesuffix(" api"))
    project, number = v.project(p, ctx)
    project = v.group(bracket, "project") or v.group(consumer, "project") or project
    number = consumer_number(p) or number
    if project is None:
        project = number
    name = f"{title} API ({service})" if title and service else (service or title or "a required API")
    fixes: list[Fix] = []
    if service:
        fixes.append(enable_api(service, project))
    activation = p.metadata.get("activationUrl")
    if activation:
        fixes.append(Fix(title="Or enable it in the Console", url=activation))
    if not fixes:
        fixes.append(
            Fix(
                title="See which APIs are enabled",
                command=f"gcloud services list --enabled --project={v.or_placeholder(project, 'project')}",
            )
        )
    return Diagnosis(
        cause="api-disabled",
        title=f"{service or title or 'An API'} is not enabled in {v.project_words(project)}",
        explanation=(
            f"{v.project_words(project, capital=True)} has not turned on the {name}, so Google refuses "
            "every call to it. Enable it (it takes about a minute); if you enabled it just now, wait a few "
            "minutes for the change to reach all of Google's servers and try again."
        ),
        facts=v.facts(service=service, service_title=title, project=project, project_number=number),
        fixes=tuple(fixes),
    )
