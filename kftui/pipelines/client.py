"""Connect to Kubeflow Pipelines without ever freezing the app, and turn API failures into plain words.

`kfp.Client(host=...)` checks healthz in its constructor and, when the server is unreachable, retries
5 times with 5 s sleeps (25 s of a frozen worker and a log full of tracebacks). So `connect()` first asks
healthz itself through `kfp_server_api` with a short timeout and no retries, and raises a KftuiError that
names the URL and the reason; only a server that answered gets a `kfp.Client`.

Where the API is, in order of precedence:
1. `host` (the `--kfp-host` option), e.g. `http://localhost:8080` after
   `kubectl -n kubeflow port-forward svc/ml-pipeline-ui 8080:80`, or the Kubeflow URL;
2. the `KF_PIPELINES_ENDPOINT` environment variable (the kfp SDK's own convention);
3. `kube_context`: through the Kubernetes API server's service proxy
   (`/api/v1/namespaces/<install_namespace>/services/ml-pipeline:http/proxy/`), authenticated by the
   kubeconfig context (works with `gke-gcloud-auth-plugin`), no port-forward needed.

`namespace` is the user's profile namespace on multi-user installs (Kubeflow with Dex/IAP): every list and
create is scoped to it. `install_namespace` is where KFP itself runs (`kubeflow`), used for the proxy path.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kftui.core.sanitize import inert
from kftui.errors import KftuiError

ENDPOINT_ENV = "KF_PIPELINES_ENDPOINT"
PROBE_TIMEOUT = 3
"""Seconds the healthz probe may take before the API counts as unreachable."""
REQUEST_TIMEOUT = 15
"""Seconds any later API call may take (connect and read).

Whole seconds on purpose: kfp_server_api applies `_request_timeout` only when it is an int or a 2-tuple, and
silently waits forever for a float (3.0 meant no timeout at all)."""
PROXY_PATH = "api/v1/namespaces/{}/services/ml-pipeline:http/proxy"


class PipelinesApiError(KftuiError):
    """The pipelines API answered with an error; `status` is the HTTP status (0 when it never answered)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class PipelinesClient:
    """A connected `kfp.Client` plus what every call needs: scope, timeout and where it points."""

    kfp: Any
    """The `kfp.Client`; its generated APIs (`.runs`, `.experiments`, ...) are used with timeouts."""
    url: str
    """Where the API answered (host URL, or the kube proxy URL)."""
    namespace: str = ""
    """Profile namespace on multi-user installs; empty on single-user ones."""
    multi_user: bool = False
    timeout: float = REQUEST_TIMEOUT

    def call(self, what: str, fn: Callable[..., Any], /, expect: str, required: str = "", **kwargs: Any) -> Any:
        """Call a generated API method with the timeout and check the answer is the API's (see `call_api`)."""
        return call_api(what, self.url, fn, expect=expect, required=required, _request_timeout=self.timeout, **kwargs)


def resolve_host(host: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The API URL from `--kfp-host` or KF_PIPELINES_ENDPOINT; a bare host gets https:// like the SDK."""
    chosen = host or (env if env is not None else os.environ).get(ENDPOINT_ENV) or None
    if not chosen:
        return None
    chosen = chosen.strip().rstrip("/")
    if not chosen.startswith(("http://", "https://")):
        chosen = "https://" + chosen
    return chosen


def describe_failure(exc: BaseException, timeout: float) -> str:
    """Why a connection failed, in a few words (refused, timed out, name not found, HTTP status)."""
    import urllib3

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused (nothing listens there; is the port-forward running?)"
        if isinstance(current, urllib3.exceptions.NameResolutionError):
            return "the host name does not resolve"
        if isinstance(current, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass
            if "refused" in str(current).lower():
                return "connection refused (nothing listens there; is the port-forward running?)"
            current = current.__cause__ or current.__context__
            if current is None:
                break
            continue
        if isinstance(current, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ReadTimeoutError):
            return f"no answer within {timeout:g} s"
        if isinstance(current, urllib3.exceptions.SSLError):
            return f"TLS failed ({current})"
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            current = current.reason
            continue
        current = current.__cause__ or current.__context__
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _api_message(body: Any) -> str:
    """The `message` of KFP's JSON error body, or the raw text, made inert (it is the server's text)."""
    return inert(_raw_message(body))


def _raw_message(body: Any) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or text).strip()
    return text.strip()[:500]


def whole_seconds(timeout: float) -> int:
    """A timeout kfp_server_api really applies: a positive int (it ignores floats)."""
    return max(1, math.ceil(timeout))


class _Body:
    """The one attribute `ApiClient.deserialize` reads from a response."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def _garbage(data: bytes, expect: str, model: Any, required: str) -> str:
    """Why a 200 body is not the API's answer ("" when it is): the SDK would read any of these as "nothing"."""
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return "answered 200 with an empty body"
    try:
        parsed = json.loads(text)
    except ValueError:
        if text.startswith("<"):
            return "answered an HTML page, not the pipelines API (a login page or a proxy in between?)"
        return "answered truncated or invalid JSON"
    if not isinstance(parsed, dict):
        return f"answered JSON of another shape (a {type(parsed).__name__}, not a {expect} object)"
    known = set((getattr(model, "attribute_map", None) or {}).values())
    if known and parsed and not set(parsed) & known:
        return f"answered JSON of another shape (keys {', '.join(sorted(parsed)[:4])}, not a {expect})"
    if required and not parsed.get(required):
        return f"answered a {expect} without {required}"
    return ""


def call_api(what: str, url: str, fn: Callable[..., Any], /, expect: str, required: str = "", **kwargs: Any) -> Any:
    """Run one kfp_server_api call and return the `expect` model; HTTP errors, network failures and a 200 that is
    not the API's answer (HTML, truncated or foreign JSON, empty) become PipelinesApiError naming the URL."""
    import kfp_server_api  # type: ignore[import-untyped]
    import urllib3

    timeout = whole_seconds(float(kwargs.pop("_request_timeout", None) or REQUEST_TIMEOUT))
    try:
        raw = fn(_request_timeout=timeout, _preload_content=False, **kwargs)
        data = bytes(raw.data or b"")
    except kfp_server_api.ApiException as exc:
        if exc.status:
            message = _api_message(exc.body) or exc.reason or "no message"
            raise PipelinesApiError(f"{what} failed (HTTP {exc.status}): {message}", exc.status) from exc
        raise PipelinesApiError(f"{what} failed: {describe_failure(exc, timeout)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise PipelinesApiError(f"cannot reach the pipelines API at {url}: {describe_failure(exc, timeout)}") from exc
    if expect == "object":
        model = None
    else:
        model = getattr(kfp_server_api, expect, None)
    why = _garbage(data, expect, model, required)
    if why:
        raise PipelinesApiError(f"{what} failed: the pipelines API at {url} {why}")
    api_client = getattr(getattr(fn, "__self__", None), "api_client", None)
    if api_client is None or expect == "object":
        return json.loads(data)
    return api_client.deserialize(_Body(data), expect)


def _probe(config: Any, url: str, timeout: float) -> bool:
    """Ask healthz once, quickly; return multi_user or raise KftuiError naming the URL and the reason."""
    import kfp_server_api  # type: ignore[import-untyped]
    import urllib3

    api_client = kfp_server_api.ApiClient(config)
    try:
        raw = kfp_server_api.HealthzServiceApi(api_client).healthz_service_get_healthz(
            _request_timeout=whole_seconds(timeout), _preload_content=False
        )
        data = bytes(raw.data or b"")
    except kfp_server_api.ApiException as exc:
        why = f"HTTP {exc.status}: {_api_message(exc.body)}" if exc.status else describe_failure(exc, timeout)
        if exc.status in (401, 403):
            why += " (not signed in: pass a token or connect through the cluster with a kube context)"
        raise KftuiError(f"cannot reach the pipelines API at {url}: {why}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise KftuiError(f"cannot reach the pipelines API at {url}: {describe_failure(exc, timeout)}") from exc
    finally:
        close = getattr(api_client, "close", None)
        if callable(close):
            close()
    why = _garbage(data, "V2beta1GetHealthzResponse", None, "")
    if why:
        raise KftuiError(f"cannot reach the pipelines API at {url}: it {why}")
    return bool(json.loads(data).get("multi_user", False))


def connect(
    host: str | None = None,
    *,
    namespace: str | None = None,
    kube_context: str | None = None,
    install_namespace: str = "kubeflow",
    existing_token: str | None = None,
    env: Mapping[str, str] | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
    request_timeout: float = REQUEST_TIMEOUT,
) -> PipelinesClient:
    """A ready client, or KftuiError("cannot reach the pipelines API at URL: why") within seconds."""
    import kfp_server_api  # type: ignore[import-untyped]

    url = resolve_host(host, env)
    config = kfp_server_api.Configuration()
    config.retries = 0
    if url:
        config.host = url
        if existing_token:
            config.api_key["authorization"] = existing_token
            config.api_key_prefix["authorization"] = "Bearer"
    else:
        url = _kube_proxy_config(config, kube_context, install_namespace)
    multi_user = _probe(config, url, probe_timeout)

    bounded = _bounded_client_class(whole_seconds(probe_timeout))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            if host or resolve_host(None, env):
                client = bounded(host=url, existing_token=existing_token)
            elif config.refresh_api_key_hook is not None:
                client = bounded(
                    host=url,
                    credentials=_kube_token_credentials(config),
                    ssl_ca_cert=config.ssl_ca_cert,
                    verify_ssl=config.verify_ssl,
                )
            else:
                client = bounded(kube_context=kube_context, namespace=install_namespace)
        except Exception as exc:  # kfp raises bare Exception/TimeoutError/ValueError from its constructor
            why = describe_failure(exc, probe_timeout)
            raise KftuiError(f"cannot reach the pipelines API at {url}: {why}") from exc
    _without_retries(client)
    if multi_user and not namespace:
        raise KftuiError(
            f"the pipelines API at {url} is multi-user: give your profile namespace "
            "(e.g. --kfp-namespace kubeflow-user-example-com)"
        )
    return PipelinesClient(
        kfp=client, url=url, namespace=namespace or "", multi_user=multi_user, timeout=request_timeout
    )


def _bounded_client_class(timeout: int) -> Any:
    """A `kfp.Client` whose healthz (asked by its own constructor) has a timeout and is asked once.

    The stock `get_kfp_healthz` passes no `_request_timeout` and retries 5 times with 5 s sleeps, so a server
    that accepts and never answers froze `connect()` forever right after kftui's own probe had succeeded.
    """
    import kfp

    class BoundedClient(kfp.Client):  # type: ignore[misc]
        """kfp.Client with one bounded healthz call (integer timeout: kfp_server_api ignores floats)."""

        def get_kfp_healthz(self, sleep_duration: int = 5) -> Any:
            """One healthz call with a whole-second timeout and no urllib3 retries; errors go to the caller."""
            del sleep_duration  # kftui decides itself what to retry
            _without_retries(self)
            return self._healthz_api.healthz_service_get_healthz(_request_timeout=timeout)

    return BoundedClient


def _without_retries(client: Any) -> None:
    """Give the Client's shared ApiClient a connection pool that never retries on its own.

    urllib3 retries a timed-out read three times by default, so a hung server cost four timeouts per call; kftui
    decides itself what to retry and says so.
    """
    from kfp_server_api import rest

    api_client = getattr(getattr(client, "_run_api", None), "api_client", None)
    if api_client is None:
        return
    api_client.configuration.retries = 0
    api_client.rest_client = rest.RESTClientObject(api_client.configuration)


def _kube_proxy_config(config: Any, kube_context: str | None, install_namespace: str) -> str:
    """Fill `config` from the kubeconfig (context, credentials) and return the service-proxy URL."""
    from kubernetes import config as kube_config

    try:
        kube_config.load_kube_config(client_configuration=config, context=kube_context)
    except Exception as exc:  # ConfigException, missing file, bad YAML: all mean "no usable kubeconfig"
        which = f"context {kube_context!r}" if kube_context else "the current context"
        raise KftuiError(
            "no pipelines API given (--kfp-host or KF_PIPELINES_ENDPOINT) and the kubeconfig "
            f"({which}) cannot be used: {exc}"
        ) from exc
    proxied = f"{config.host.rstrip('/')}/{PROXY_PATH.format(install_namespace)}"
    config.host = proxied
    kube_refresh = config.refresh_api_key_hook
    if kube_refresh is not None:
        # The kubernetes loader's token refresh re-applies the cluster's host on every request, which
        # silently drops the service-proxy path (so kfp.Client(kube_context=...) with token auth, e.g.
        # gke-gcloud-auth-plugin, calls https://API-SERVER/apis/v2beta1/... and gets 404s). Put it back.
        def refresh(target: Any) -> None:
            kube_refresh(target)
            target.host = proxied

        config.refresh_api_key_hook = refresh
    return proxied


def _kube_token_credentials(kube_config: Any) -> Any:
    """kfp credentials that take a fresh kubeconfig token for each request (tokens of exec plugins expire)."""
    from kfp.client.token_credentials_base import TokenCredentialsBase

    class KubeTokenCredentials(TokenCredentialsBase):  # type: ignore[misc]
        """Bearer token from the kubeconfig context, refreshed through the kubernetes loader."""

        def refresh_api_key_hook(self, config: Any) -> None:
            """Copy the current kubeconfig token into the kfp configuration before a request."""
            kube_config.refresh_api_key_hook(kube_config)
            token = str(kube_config.api_key.get("authorization", ""))
            # The kubernetes loader stores "Bearer <token>" without a prefix; kfp adds the prefix itself.
            config.api_key["authorization"] = token.removeprefix("Bearer ").strip()
            config.api_key_prefix["authorization"] = "Bearer"

    return KubeTokenCredentials()
