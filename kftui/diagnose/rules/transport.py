"""Calls that never got Google's JSON answer: refused, unresolvable, TLS, proxy, timeout, reset, or garbage back.

Each names the API and the URL it tried (from kftui's own error, or from the urllib3/requests text a user pastes)
and says what to check: an endpoint override pointing somewhere dead, the network, DNS, a proxy or its CA.
"""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_TITLES = {
    "compute": "Compute Engine API",
    "container": "Kubernetes Engine API",
    "serviceusage": "Service Usage API",
    "cloudresourcemanager": "Cloud Resource Manager API",
    "cloudbilling": "Cloud Billing API",
    "cloudquotas": "Cloud Quotas API",
    "oauth2": "Google OAuth 2.0 token endpoint",
    "iam": "IAM API",
}

_WORDS = {
    "refused": "the connection was refused: nothing listens at that address and port",
    "dns": "its host name could not be resolved (DNS)",
    "tls": "the TLS handshake failed: the certificate was not trusted or the port does not speak TLS",
    "proxy": "the HTTP proxy in between refused the connection or failed",
    "timeout": "it did not answer in time",
    "reset": "the connection was cut before the whole answer arrived",
}

_POOL = re.compile(
    r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)"
    r"(?:: Max retries exceeded with url: (?P<path>/\S*))?",
    re.IGNORECASE,
)
_URL = re.compile(r"\bhttps?://[^\s'\"()<>,]+", re.IGNORECASE)


def _failure(p: Problem) -> str | None:
    """Which transport failure the text describes, if any."""
    said = p.metadata.get("transport")
    if said in _WORDS:
        return said
    if p.has("proxyerror", "unable to connect to proxy", "tunnel connection failed"):
        return "proxy"
    if p.has("sslerror", "certificate verify failed", "ssl: wrong_version_number", "wrong version number"):
        return "tls"
    if p.has("nameresolutionerror", "name or service not known", "temporary failure in name resolution",
             "nodename nor servname", "getaddrinfo failed", "failed to resolve '"):  # fmt: skip
        return "dns"
    if p.has("connection refused", "[errno 111]", "actively refused"):
        return "refused"
    if p.has("read timed out", "connecttimeouterror", "connect timeout=", "timed out. (read timeout"):
        return "timeout"
    if p.has("connection reset by peer", "connection aborted", "remotedisconnected", "connection broken:",
             "incompleteread", "chunkedencodingerror"):  # fmt: skip
        return "reset"
    return None


def _where(p: Problem) -> tuple[str | None, str | None]:
    """(url, host) the call was reaching."""
    url = p.metadata.get("url")
    pool = _POOL.search(p.raw)
    if not url and pool:
        scheme = pool.group("scheme").lower()
        port = pool.group("port")
        default = (scheme == "https" and port == "443") or (scheme == "http" and port == "80")
        url = f"{scheme}://{pool.group('host')}{'' if default else ':' + port}{pool.group('path') or ''}"
    if not url:
        found = _URL.search(p.raw)
        url = found.group(0).rstrip(".:;") if found else None
    if url:
        url = url.split("?", 1)[0]
    host = re.sub(r"^https?://", "", url or "").split("/", 1)[0] or None
    return url, host


def _api(p: Problem, url: str | None, host: str | None) -> str | None:
    """The API's gcloud name (compute, container...): said by kftui, or read off the Google host or path."""
    if p.metadata.get("api"):
        return p.metadata["api"]
    if host and host.endswith(".googleapis.com"):
        return host.split(".", 1)[0]
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if url else ""
    if path.startswith("/compute/"):
        return "compute"
    return None


def _override(api: str | None, host: str | None) -> str | None:
    """The gcloud override variable that sent the call to a non-Google host, if that is what happened."""
    if api is None or api == "oauth2" or (host and host.endswith("googleapis.com")):
        return None
    return f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"


def _name(api: str | None, host: str | None) -> str:
    """How the explanation names what was called."""
    if api:
        return f"the {_TITLES.get(api, api + ' API')}"
    return f"the server at {host}" if host else "the server"


def _fixes(failure: str, api: str | None, url: str | None, host: str | None) -> tuple[Fix, ...]:
    """Where to look first for each failure: the override, the network, DNS, the proxy or its CA."""
    fixes: list[Fix] = []
    override = _override(api, host)
    if override:
        fixes.append(
            Fix(
                title=f"The endpoint comes from {override}: point it at a live server, or unset it to use Google",
                command=f"unset {override}; gcloud config unset api_endpoint_overrides/{api}",
            )
        )
    target = url or (f"https://{host}" if host else "https://compute.googleapis.com")
    if failure == "dns":
        fixes.append(Fix(title=f"Check that {host or 'the host'} resolves", command=f"getent hosts {host or 'HOST'}"))
    if failure == "tls":
        fixes.append(
            Fix(
                title="Behind a TLS-inspecting proxy: trust its CA for both gcloud and the Python clients",
                command="gcloud config set core/custom_ca_certs_file CA.pem; export REQUESTS_CA_BUNDLE=CA.pem",
            )
        )
    if failure in ("proxy", "timeout", "reset", "garbage"):
        fixes.append(
            Fix(
                title="Check the proxy settings (HTTPS_PROXY, NO_PROXY) and the VPN or firewall in between",
                command="env | grep -i _proxy",
            )
        )
    fixes.append(
        Fix(title="Try the same address by hand", command=f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {target}")
    )
    if failure in ("timeout", "reset"):
        fixes.append(Fix(title="See whether Google reports an incident", url="https://status.cloud.google.com"))
    return tuple(fixes)


@rule("api-unreachable", priority=80)
def api_unreachable(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A call that failed in transit: say which API, which URL, which failure, and where to look."""
    failure = _failure(p)
    if failure is None:
        return None
    url, host = _where(p)
    api = _api(p, url, host)
    name = _name(api, host)
    at = f" at {url}" if url else ""
    return Diagnosis(
        cause="api-unreachable",
        title=f"{name[0].upper()}{name[1:]} could not be reached ({failure})",
        explanation=(
            f"kftui called {name}{at}, but {_WORDS[failure]}. Nothing was changed by this call. "
            + (
                f"The address is not Google's: it comes from {_override(api, host)}, so check that override first. "
                if _override(api, host)
                else "Check the network path from this machine to Google (DNS, proxy, VPN, firewall). "
            )
            + "Then run the same command again."
        ),
        facts=v.facts(api=api, url=url, host=host, failure=failure, override=_override(api, host)),
        fixes=_fixes(failure, api, url, host),
    )


@rule("api-garbled", priority=79)
def api_garbled(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """An answer that is not the API's JSON: an HTML page (proxy, portal, wrong address) or a cut or empty body."""
    said = p.metadata.get("transport") == "garbage"
    html = p.search(r"<!doctype html|<html[\s>]|<title>")
    parse = p.has("failed to load json", "failed to parse", "expecting value: line 1 column 1",
                  "unterminated string", "message type", "jsondecodeerror")  # fmt: skip
    if not (said or html or (parse and (p.has("googleapis.com") or p.metadata.get("api")))):
        return None
    url, host = _where(p)
    api = _api(p, url, host)
    name = _name(api, host)
    at = f" at {url}" if url else ""
    page = "an HTML page" if html else "something that is not its JSON (an HTML page, or a cut, empty or odd body)"
    return Diagnosis(
        cause="api-garbled",
        title=f"{name[0].upper()}{name[1:]} answered {'HTML' if html else 'garbage'}, not its JSON",
        explanation=(
            f"kftui called {name}{at} and got back {page}. Google's APIs answer JSON, so something else answered: "
            "a proxy or captive portal, a load balancer's error page, or an endpoint override pointing at another "
            "server. Fix the address or the network in between, then run the same command again."
        ),
        facts=v.facts(api=api, url=url, host=host, failure="garbage", override=_override(api, host)),
        fixes=_fixes("garbage", api, url, host),
    )


@rule("api-unavailable", priority=57)
def api_unavailable(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """Google's own 'try again': 503 UNAVAILABLE (or a 5xx kftui already retried), with the API and URL named."""
    status = p.values.get("http_status")
    unavailable = p.has_reason("BACKENDERROR") or p.search(r"\b503\b.*unavailable|service is currently unavailable")
    retried = bool(p.metadata.get("api")) and isinstance(status, int) and 500 <= status <= 504
    if not (unavailable or retried):
        return None
    url, host = _where(p)
    api = _api(p, url, host)
    name = _name(api, host)
    at = f" at {url}" if url else ""
    code = status if isinstance(status, int) else 503
    return Diagnosis(
        cause="api-unavailable",
        title=f"{name[0].upper()}{name[1:]} is failing on Google's side (HTTP {code})",
        explanation=(
            f"{name[0].upper()}{name[1:]}{at} answered HTTP {code}, Google's way of saying it could not serve the "
            "call right now; kftui retried with growing waits and then stopped. Nothing is wrong with your project "
            "from this answer alone. Wait a few minutes and run the same command again."
        ),
        facts=v.facts(api=api, url=url, http_status=code),
        fixes=(
            Fix(
                title="Wait a few minutes and run the same command again; if it lasts, see whether Google reports an "
                "incident",
                url="https://status.cloud.google.com",
            ),
        ),
    )


@rule("api-not-found", priority=40)
def api_not_found(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """A Google API answered 404 where kftui expected a resource: the project or the endpoint is not what it seems."""
    status = p.values.get("http_status")
    if status != 404 or not (p.metadata.get("api") or "googleapis.com" in p.raw):
        return None
    url, host = _where(p)
    api = _api(p, url, host)
    name = _name(api, host)
    project, _ = v.project(p, ctx)
    override = _override(api, host)
    where = f" at {url}" if url else ""
    fixes = [Fix(title="Check the project id and that you can see it", command=f"gcloud projects describe "
                 f"{v.or_placeholder(project, 'project')}")]  # fmt: skip
    if override:
        fixes.insert(0, Fix(title=f"The endpoint comes from {override}: check it serves the same API version",
                            command=f"echo ${override}"))  # fmt: skip
    return Diagnosis(
        cause="api-not-found",
        title=f"{name[0].upper()}{name[1:]} answered 404 Not Found",
        explanation=(
            f"kftui asked {name}{where} for something it says does not exist. Either the project id is wrong or "
            "not visible to this account, or the address is not the real API (an endpoint override or proxy "
            "pointing at another server or API version). Check both, then run the same command again."
        ),
        facts=v.facts(api=api, url=url, project=project, override=override, http_status=404),
        fixes=tuple(fixes),
    )
