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
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from kftui.errors import KftuiError

ENDPOINT_ENV = "KF_PIPELINES_ENDPOINT"
PROBE_TIMEOUT = 3.0
"""Seconds the healthz probe may take before the API counts as unreachable."""
REQUEST_TIMEOUT = 15.0
"""Seconds any later API call may take (connect and read)."""
PROXY_PATH = "api/v1/namespaces/{}/services/ml-pipeline:http/proxy"

T = TypeVar("T")


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

    def call(self, what: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Call a generated API method with the timeout; failures become PipelinesApiError."""
        return call_api(what, self.url, fn, _request_timeout=self.timeout, **kwargs)


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
    """The `message` of KFP's JSON error body, or the raw text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or text).strip()
    return text.strip()[:500]


def call_api(what: str, url: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run one kfp_server_api call; HTTP errors and network failures become PipelinesApiError."""
    import kfp_server_api  # type: ignore[import-untyped]
    import urllib3

    timeout = float(kwargs.get("_request_timeout") or REQUEST_TIMEOUT)
    try:
        return fn(**kwargs)
    except kfp_server_api.ApiException as exc:
        if exc.status:
            message = _api_message(exc.body) or exc.reason or "no message"
            raise PipelinesApiError(f"{what} failed (HTTP {exc.status}): {message}", exc.status) from exc
        raise PipelinesApiError(f"{what} failed: {describe_failure(exc, timeout)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise PipelinesApiError(f"cannot reach the pipelines API at {url}: {describe_failure(exc, timeout)}") from exc


def _probe(config: Any, url: str, timeout: float) -> bool:
    """Ask healthz once, quickly; return multi_user or raise KftuiError naming the URL and the reason."""
    import kfp_server_api  # type: ignore[import-untyped]
    import urllib3

    api_client = kfp_server_api.ApiClient(config)
    try:
        health = kfp_server_api.HealthzServiceApi(api_client).healthz_service_get_healthz(_request_timeout=timeout)
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
    return bool(getattr(health, "multi_user", False))


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

    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            if host or resolve_host(None, env):
                client = kfp.Client(host=url, existing_token=existing_token)
            elif config.refresh_api_key_hook is not None:
                client = kfp.Client(
                    host=url,
                    credentials=_kube_token_credentials(config),
                    ssl_ca_cert=config.ssl_ca_cert,
                    verify_ssl=config.verify_ssl,
                )
            else:
                client = kfp.Client(kube_context=kube_context, namespace=install_namespace)
        except Exception as exc:  # kfp raises bare Exception/TimeoutError/ValueError from its constructor
            raise KftuiError(f"cannot reach the pipelines API at {url}: {exc}") from exc
    if multi_user and not namespace:
        raise KftuiError(
            f"the pipelines API at {url} is multi-user: give your profile namespace "
            "(e.g. --kfp-namespace kubeflow-user-example-com)"
        )
    return PipelinesClient(
        kfp=client, url=url, namespace=namespace or "", multi_user=multi_user, timeout=request_timeout
    )


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
