"""The deploy runner: cluster, GPU pool, credentials, manifests, readiness, each idempotent and recorded.

Shared by the deploy step (its Fix) and `kftui deploy`. Progress is kept in its own state file, written
atomically after every phase, so an interrupted run (Ctrl+C, a lost connection) is understood by the next one:
it checks what exists, skips it, and continues.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kftui.core.gpu import AcceleratorOffers, ClusterInfo, OperationInfo, RegionQuotas
from kftui.core.plan import (
    COMPONENTS,
    DEX_DEFAULT_HASH,
    DEX_DEFAULT_PASSWORD,
    DEX_DEFAULT_USER,
    EXAMPLE,
    FORWARD_DASHBOARD,
    GOOGLE_REDIRECT,
    GPU_POOL_NAME,
    ISTIO_GKE_OVERLAY,
    MANIFESTS_REPO,
    PASSWORD_RULE,
    PORT_FORWARD,
    URL,
    Component,
    DeployPlan,
    PlanWorld,
    is_rendered,
    password_problem,
)
from kftui.errors import ConfigError, KftuiError

PASSWORD_ENV = "KFTUI_DEX_PASSWORD"
"""Where a non-interactive deploy reads the Dex password from (never a flag: flags land in shell history)."""

PHASES = ("cluster", "gpu-pool", "credentials", "manifests", "ready", "login", "password")
"""Phases in order; the state file records each one finished."""

Progress = Callable[[str], None]


# --------------------------------------------------------------------------------------------------
# The deploy state file
# --------------------------------------------------------------------------------------------------


def state_file() -> Path:
    """Where deploy progress lives (next to kftui's state, never inside it)."""
    from kftui.paths import state_dir

    return state_dir() / "deploy.json"


def plan_key(plan: DeployPlan) -> str:
    """One record per project/zone/cluster."""
    return f"{plan.project}/{plan.zone}/{plan.cluster}"


def load_records() -> dict[str, dict[str, Any]]:
    """Every recorded deploy; a missing or unreadable file means none."""
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    records = data.get("deploys") if isinstance(data, dict) else None
    return records if isinstance(records, dict) else {}


def record_for(plan: DeployPlan) -> dict[str, Any]:
    """The record of this plan's cluster (empty when never deployed)."""
    return dict(load_records().get(plan_key(plan)) or {})


def save_record(plan: DeployPlan, record: dict[str, Any] | None) -> None:
    """Write (or, with None, forget) one record atomically."""
    from kftui.paths import atomic_write

    records = load_records()
    if record is None:
        records.pop(plan_key(plan), None)
    else:
        records[plan_key(plan)] = record
    atomic_write(state_file(), json.dumps({"deploys": records}, indent=2, sort_keys=True))


def finished(record: Mapping[str, Any]) -> list[str]:
    """Phases a record says are done, in order."""
    done = record.get("done") or []
    return [p for p in PHASES if p in done]


# --------------------------------------------------------------------------------------------------
# Reading what the checks need
# --------------------------------------------------------------------------------------------------


def read_plan_world(plan: DeployPlan) -> PlanWorld:
    """Quotas, GPU offers and the zone's machine catalog, read once through the Compute adapter."""
    from kftui.gcp.compute import Compute
    from kftui.gcp.errors import GcpApiError

    compute = Compute(plan.project)
    offers: AcceleratorOffers = compute.accelerator_offers() if plan.gpu else AcceleratorOffers(offers=())
    region: RegionQuotas | None
    try:
        region = compute.region_quotas(plan.region)
    except GcpApiError:
        region = None
    try:
        machines = compute.machine_types(plan.zone)
    except GcpApiError:
        machines = None
    return PlanWorld(compute.global_quotas(), region, offers, machines)


# --------------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    """Elapsed time as m:ss."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def bcrypt_hash(password: str) -> str | None:
    """A bcrypt hash Dex accepts: the bcrypt package when installed (as the plan script prefers), else the C
    library's crypt(3) when it knows bcrypt (Python 3.13 dropped the crypt module); None when neither can."""
    try:
        import bcrypt
    except ImportError:
        pass
    else:
        return str(bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(10)).decode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return None
        try:
            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))  # noqa: S324
        except (OSError, ValueError):
            return None
    return hashed if hashed and hashed.startswith("$2") else None


def _default_istio_cni(obj: Mapping[str, Any]) -> bool:
    """Istio's default CNI DaemonSet, which writes to /opt/cni/bin (read-only on GKE)."""
    if obj.get("kind") != "DaemonSet" or (obj.get("metadata") or {}).get("name") != "istio-cni-node":
        return False
    volumes = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []
    return any((v.get("hostPath") or {}).get("path") == "/opt/cni/bin" for v in volumes)


def _explain(found: Sequence[Any]) -> str:
    """What the refusals were, in words (a built-in kind is never blamed on a CRD)."""
    words: list[str] = []
    for p in found[:3]:
        if p.kind == "crd":
            words.append(f"kind {p.subject} is not served yet (its CRD comes later or is not established)")
        elif p.kind == "builtin":
            words.append(f"kind {p.subject} is built into Kubernetes but not served by this cluster")
        elif p.kind == "webhook":
            words.append(f"webhook {p.subject.split('/', 1)[1]} has no ready pods yet")
        elif p.kind == "namespace":
            words.append(f"namespace {p.subject} does not exist yet")
        else:
            words.append(p.subject)
    more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(words) + more if words else "kubectl failed without a message"


def apply_failure(errors: Sequence[str]) -> str:
    """Why an apply pass failed: the diagnosis engine's words when it knows the text (what the wizard, the watch
    details and `kftui explain` say for it), else the refusals sorted by what they wait for."""
    from kftui.cluster.apply import problems
    from kftui.diagnose import diagnose

    text = "\n".join(errors)
    found = diagnose(text) if text else None
    if found is not None and found.known and found.cause != "crd-not-established":
        return found.title
    return _explain(problems(errors))


class DefaultLoginError(KftuiError):
    """Kubeflow runs but Dex's default login still opens it: the deploy does not end green."""


class DeployStoppedError(KftuiError):
    """The user stopped a deploy (quit the app); the record says where, so the next run continues."""


class Runner:
    """Carries out a plan phase by phase; each phase first looks at what exists, so a re-run skips it."""

    def __init__(
        self,
        plan: DeployPlan,
        progress: Progress,
        *,
        stop_after: str | None = None,
        password: str | None = None,
        oauth: tuple[str, str] | None = None,
        poll: float = 5.0,
        first_poll: float = 0.25,
        retry_wait: float = 20.0,
        first_retry_wait: float = 2.5,
        attempts: int = 6,
        ready_timeout: float = 900.0,
        wait_timeout: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Polls start after `first_poll` and double up to `poll`; CRD retries likewise up to `retry_wait`.

        `clock` only times what is shown (elapsed m:ss); deadlines always use the monotonic clock.
        `cancelled` is asked between calls and while waiting: once true, the run stops at the next wait and says
        where (the app sets it when the user quits mid-deploy, so quitting never waits for a 10-minute create).
        """
        self.plan = plan
        self.say = progress
        self.stop_after = stop_after
        self.password = password
        self.oauth = oauth
        """(client id, client secret) from the OAuth step, for Google sign-in; never written to a file."""
        self.poll, self.retry_wait, self.attempts, self.ready_timeout = poll, retry_wait, attempts, ready_timeout
        self.wait_timeout = wait_timeout
        self.first_poll, self.first_retry_wait = min(first_poll, poll), min(first_retry_wait, retry_wait)
        self.sleep = sleep
        self.clock = clock
        self.cancelled = cancelled
        self.phase = ""
        self.record: dict[str, Any] = record_for(plan)
        self._container: Any = None

    # -- bookkeeping -------------------------------------------------------------------------------
    @property
    def container(self) -> Any:
        """The Container adapter for the plan's project."""
        if self._container is None:
            from kftui.gcp.container import Container

            self._container = Container(self.plan.project)
        return self._container

    def _mark(self, phase: str, **extra: Any) -> None:
        """Record a finished phase at once (atomic write), so an interruption after it loses nothing."""
        done = [p for p in self.record.get("done") or [] if p != phase] + [phase]
        self.record.update(extra)
        self.record["done"] = [p for p in PHASES if p in done]
        self.record.pop("interrupted", None)
        self.record["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.record.setdefault("context", self.plan.context)
        save_record(self.plan, self.record)

    def _follow(self, op: OperationInfo, what: str) -> OperationInfo:
        """Follow a GKE operation with a progress line per poll, carrying the elapsed time."""
        start = self.clock()
        self.say(f"{what}: {op.kind} {op.status} (0:00)")

        def seen(current: OperationInfo) -> None:
            share = f" {current.progress:.0%}" if current.progress is not None else ""
            self.say(f"{what}: {current.kind} {current.status}{share} ({_clock(self.clock() - start)})")

        done: OperationInfo = self.container.wait(op, interval=self.poll, first_interval=self.first_poll,
                                                  on_progress=seen, sleep=self._wait)
        self.say(f"{what}: done in {_clock(self.clock() - start)}")
        return done

    def _wait_running(self, what: str, ready: Callable[[ClusterInfo], bool]) -> ClusterInfo:
        """Wait for a cluster an earlier (interrupted) run started, by polling it until `ready`."""
        start = self.clock()
        delay = self.first_poll
        while True:
            info: ClusterInfo | None = self.container.get_cluster(self.plan.zone, self.plan.cluster)
            if info is None:
                raise KftuiError(f"Cluster {self.plan.cluster} disappeared while waiting for {what}.")
            if ready(info):
                return info
            if info.status == "ERROR":
                raise KftuiError(f"Cluster {self.plan.cluster} is in ERROR: {info.status_message}")
            self.say(f"{what}: {info.status} ({_clock(self.clock() - start)})")
            self._wait(delay)
            delay = min(delay * 2, self.poll)

    def note_interrupted(self) -> None:
        """Remember the phase a stop or Ctrl+C cut short, so the next run says where it picks up."""
        if self.phase:
            self.record["interrupted"] = self.phase
            save_record(self.plan, self.record)

    def _check_cancelled(self) -> None:
        """Stop here if asked: remember the phase (the next run says so) and raise."""
        if self.cancelled():
            self.note_interrupted()
            raise DeployStoppedError(
                f"Deploy stopped during {self.phase}; what finished is recorded, and deploying again continues. "
                "A GKE operation already started keeps running at Google and is waited for next time."
            )

    def _wait(self, seconds: float) -> None:
        """Sleep in short slices, so a stop request is honoured within a fraction of a second."""
        end = time.monotonic() + seconds
        while True:
            self._check_cancelled()
            left = end - time.monotonic()
            if left <= 0:
                return
            self.sleep(min(left, 0.2))

    def _stop(self, phase: str) -> bool:
        """Whether the caller asked to stop after this phase (resume later)."""
        if self.stop_after == phase:
            self.say(f"stopped after {phase} as asked; run deploy again to continue")
            return True
        return False

    # -- phases ------------------------------------------------------------------------------------
    def run(self) -> str:
        """Every phase in order; returns how to open Kubeflow."""
        plan = self.plan
        self.say(f"deploying Kubeflow {plan.release} to {plan.context}")
        if self.record.get("done"):
            self.say(f"a previous run finished: {', '.join(finished(self.record))}")
        if self.record.get("interrupted"):
            self.say(f"the previous run was stopped during {self.record['interrupted']}; continuing")
        for phase, body in (
            ("cluster", self.cluster),
            ("gpu-pool", self.gpu_pool),
            ("credentials", self.credentials),
            ("manifests", self.manifests),
            ("ready", self.ready),
            ("login", self.google_login),
            ("password", self.dex_password),
        ):
            self.phase = phase
            self._check_cancelled()
            body()
            if self._stop(phase):
                return f"Stopped after {phase}; `kftui deploy` again continues from there."
        self.refuse_default_login()
        who = "with your Google account" if self.oauth else f"as {DEX_DEFAULT_USER} with your password"
        return (
            f"Kubeflow is running on {plan.context}. Open the dashboard with `{FORWARD_DASHBOARD}` (or "
            f"`{PORT_FORWARD}`), browse {URL} and sign in {who}."
        )

    def refuse_default_login(self) -> None:
        """Never end green while Dex's default user@example.com / 12341234 still opens the cluster."""
        from kftui.cluster.apply import dex_password_hash

        if dex_password_hash(self.plan.context) != DEX_DEFAULT_HASH:
            return
        raise DefaultLoginError(
            f"Kubeflow is up on {self.plan.context}, but Dex still has its default login {DEX_DEFAULT_USER} / "
            f"{DEX_DEFAULT_PASSWORD}: anyone who reaches the dashboard can sign in. Set a password ({PASSWORD_RULE}) "
            f"in {PASSWORD_ENV} (or the Deploy step's field) and run `kftui deploy --yes` again; it continues here."
        )

    def google_login(self) -> None:
        """With the OAuth step's client, oauth2-proxy signs people in with Google (secret only in the cluster)."""
        from kftui.cluster.apply import use_google_login
        from kftui.core.plan import GOOGLE_SECRET, OAUTH2_NAMESPACE

        if self.oauth is None:
            self.say("login: Dex (no OAuth client was set up in the OAuth step)")
            self._mark("login")
            return
        client_id, client_secret = self.oauth
        problem = use_google_login(self.plan.context, client_id, client_secret, GOOGLE_REDIRECT)
        if problem is not None:
            raise KftuiError(f"Google sign-in could not be set up: {problem.splitlines()[-1]}")
        self.say(f"login: Google through oauth2-proxy (client {client_id}); the client secret is in Secret "
                 f"{OAUTH2_NAMESPACE}/{GOOGLE_SECRET}; the client must list {GOOGLE_REDIRECT}")
        self._mark("login", login="google")

    def cluster(self) -> None:
        """Create the cluster with its CPU pool, unless it exists (then wait for it if it is still starting)."""
        plan = self.plan
        info = self.container.get_cluster(plan.zone, plan.cluster)
        what = f"cluster {plan.cluster}"
        if info is None:
            self.say(f"{what}: creating in {plan.zone} ({plan.cpu.machine_type} x {plan.cpu.nodes})")
            self._follow(self.container.create_cluster(plan.cluster_spec()), what)
        elif info.status != "RUNNING":
            self.say(f"{what}: exists ({info.status}); waiting for it")
            self._wait_running(what, lambda c: c.status == "RUNNING")
        else:
            self.say(f"{what}: exists, skipped")
        self._mark("cluster")

    def gpu_pool(self) -> None:
        """Add the GPU pool (autoscaling from 0, driver by GKE), unless it exists."""
        spec = self.plan.gpu_pool_spec()
        if spec is None:
            self.say("GPU pool: none planned")
            self._mark("gpu-pool")
            return
        plan = self.plan
        what = f"node pool {GPU_POOL_NAME}"
        info = self.container.get_cluster(plan.zone, plan.cluster)
        pool = next((p for p in (info.pools if info else ()) if p.name == GPU_POOL_NAME), None)
        if pool is None:
            self.say(f"{what}: creating ({spec.machine_type} + {spec.gpu_count} x {spec.gpu_type}, "
                     f"{spec.min_nodes}-{spec.max_nodes} nodes)")
            self._follow(self.container.create_node_pool(plan.cluster, plan.zone, spec), what)
        elif pool.status != "RUNNING":
            self.say(f"{what}: exists ({pool.status}); waiting for it")
            self._wait_running(what, lambda c: all(p.status == "RUNNING" for p in c.pools))
        else:
            self.say(f"{what}: exists, skipped")
        self._mark("gpu-pool")

    def credentials(self) -> None:
        """get-credentials with the real gcloud, then prove the context answers; write it ourselves if it cannot."""
        from kftui.cluster.apply import context_problem
        from kftui.gcp.credentials import get_credentials, write_context

        plan = self.plan
        self.say(f"credentials: gcloud container clusters get-credentials {plan.cluster}")
        creds = get_credentials(plan.project, plan.zone, plan.cluster)
        problem = context_problem(creds.context)
        how = "gcloud"
        if problem is not None:
            info = self.container.get_cluster(plan.zone, plan.cluster)
            if info is None:
                raise KftuiError(f"Cluster {plan.cluster} is gone; cannot write its context.")
            self.say(f"credentials: gcloud's context does not answer ({problem.splitlines()[-1]}); "
                     "writing it from the cluster's endpoint and CA")
            write_context(creds.context, info.endpoint, info.ca_certificate)
            how = "kftui"
            problem = context_problem(creds.context)
            if problem is not None:
                raise ConfigError(f"kubectl cannot reach {creds.context}: {problem}")
        self.say(f"credentials: context {creds.context} works (written by {how})")
        self._mark("credentials", context=creds.context, context_by=how)

    def manifests_source(self) -> Path:
        """--manifests (a checkout directory or a rendered YAML file), else a shallow clone of the release tag."""
        if self.plan.manifests:
            path = Path(self.plan.manifests).expanduser()
            if is_rendered(str(path)):
                if not path.is_file():
                    raise ConfigError(f"Manifests file {path} does not exist.")
                return path
            if not path.is_dir():
                raise ConfigError(f"Manifests directory {path} does not exist.")
            return path
        return self._clone()

    def _clone(self) -> Path:
        """A shallow clone of the release tag into the cache (needs the network)."""
        import hashlib
        import shutil
        import subprocess

        from kftui.paths import cache_dir

        plan = self.plan
        where = plan.release if plan.repo == MANIFESTS_REPO else \
            f"{plan.release}-{hashlib.sha256(plan.repo.encode()).hexdigest()[:8]}"
        target = cache_dir() / "manifests" / where
        if (target / EXAMPLE).is_dir():
            self.say(f"manifests: {plan.release} already fetched ({target})")
            return target
        self.say(f"manifests: fetching {plan.repo} at {plan.release}")
        partial = target.with_name(f"{target.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)  # an interrupted earlier fetch
        partial.parent.mkdir(parents=True, exist_ok=True)
        how = "Clone them yourself and pass --manifests DIR (or a rendered YAML file)."
        try:
            done = subprocess.run(
                ["git", "clone", "--quiet", "--depth", "1", "--branch", plan.release, plan.repo, str(partial)],
                capture_output=True, text=True, timeout=600, check=False,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # never hang on a password prompt under the UI
            )
        except FileNotFoundError as exc:
            raise ConfigError(f"git is not installed, so kftui cannot fetch the manifests. {how}") from exc
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise ConfigError(f"Fetching {plan.repo} took over 10 minutes and was stopped. {how}") from exc
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise ConfigError(
                f"Could not fetch Kubeflow manifests {plan.release} from {plan.repo}: "
                f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'git failed'}. {how}"
            )
        if not (partial / EXAMPLE).is_dir():
            shutil.rmtree(partial, ignore_errors=True)
            raise ConfigError(f"{plan.repo} at {plan.release} has no {EXAMPLE}/ directory: not kubeflow/manifests?")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        self.say(f"manifests: {plan.release} fetched")
        return target

    def manifests(self) -> None:
        """Each component in upstream's order (or a rendered file), waiting for what the next one needs."""
        from kftui.cluster.apply import documents, read_rendered

        source = self.manifests_source()
        counts: dict[str, int] = dict(self.record.get("components") or {})
        start = self.clock()
        if source.is_file():
            name = f"rendered {source.name}"
            self.say(f"component {name}: reading")
            objects = documents(read_rendered(source))
            if any(_default_istio_cni(o) for o in objects):
                self.say(f"warning: {source.name} carries Istio's default CNI (/opt/cni/bin, read-only on GKE); "
                         f"render {ISTIO_GKE_OVERLAY} into it for GKE")
            counts[name] = self._apply_component(name, objects, ())
        else:
            components = [c for c in COMPONENTS if (source / c.paths[0] / "kustomization.yaml").is_file()]
            if not components:  # not the release's layout: one kustomization of the user's (or its example/)
                own = next((p for p in (Path(), Path(EXAMPLE)) if (source / p / "kustomization.yaml").is_file()),
                           None)
                if own is not None:
                    components = [Component(source.name if own == Path() else EXAMPLE, (str(own),))]
            if not components:
                raise ConfigError(f"{source} holds none of the release's kustomizations (e.g. {COMPONENTS[1].paths[0]})"
                                  "; pass a kubeflow/manifests checkout or a rendered YAML file.")
            for number, component in enumerate(components, 1):
                self._check_cancelled()
                objects = self._build(component, source, number, len(components))
                counts[component.name] = self._apply_component(component.name, objects, component.wait_namespaces)
                self.record["components"] = counts
        total = sum(counts.values())
        self.say(f"manifests: {total} objects applied in {len(counts)} components ({_clock(self.clock() - start)})")
        self._mark("manifests", components=counts)

    def _build(self, component: Component, root: Path, number: int, total: int) -> list[dict[str, Any]]:
        """Build a component's kustomizations; one line naming the remote base when the network is needed."""
        from kftui.cluster.apply import BuildError, documents, render

        subject = f"component {component.name}"
        self.say(f"{subject}: building ({number}/{total})")
        objects: list[dict[str, Any]] = []
        for path in component.paths:
            try:
                objects += documents(render(root / path))
            except BuildError as exc:
                if exc.network:
                    raise ConfigError(
                        f"{component.name} ({path}) needs the network: {exc}. Use a checkout with its remote bases "
                        "vendored, or a rendered YAML file: --manifests FILE.") from exc
                raise ConfigError(f"{component.name} ({path}) does not build: {exc}") from exc
        return objects

    def _apply_component(self, name: str, objects: list[dict[str, Any]], wait_namespaces: Sequence[str]) -> int:
        """Namespaces and CRDs first (waiting for Established), then the rest; bounded retries on webhooks."""
        from kftui.cluster.apply import apply_objects, problems, ref_of, wait_available, wait_established

        subject = f"component {name}"
        start = self.clock()
        first = [o for o in objects if o.get("kind") in ("Namespace", "CustomResourceDefinition")]
        rest = [o for o in objects if o.get("kind") not in ("Namespace", "CustomResourceDefinition")]
        applied: set[str] = set()
        crds = [str(o["metadata"]["name"]) for o in first if o.get("kind") == "CustomResourceDefinition"]
        pending = first or rest
        in_first = bool(first)
        retries = 0
        for attempt in range(1, self.attempts + 1):
            self.say(f"{subject}: applying {len(pending)}/{len(objects)} objects" +
                     (f" (retry {retries})" if retries else ""))
            result = apply_objects(self.plan.context, pending)
            applied |= set(result.applied)
            if result.ok and in_first:
                in_first = False
                if crds:
                    self.say(f"{subject}: waiting for {len(crds)} CRDs to be established")
                    problem = wait_established(self.plan.context, crds, self.wait_timeout)
                    if problem is not None:
                        raise KftuiError(f"{name}: its CRDs were not established: {problem}")
                pending = rest
                if not rest:
                    break
                continue
            if result.ok:
                break
            found = problems(result.errors)
            if attempt == self.attempts:
                raise KftuiError(f"{name}: {len(pending) - len(result.applied)} objects not applied after "
                                 f"{attempt} attempts: {apply_failure(result.errors)}")
            failed = {ref_of(o) for o in pending} - set(result.applied)
            retries += 1
            self.say(f"retry {name}: {len(failed)} refused: {apply_failure(result.errors)}")
            self._wait_for(subject, found)
            pending = [o for o in pending if ref_of(o) not in applied] or pending
        for namespace in wait_namespaces:
            self.say(f"{subject}: waiting for the deployments in {namespace}")
            problem = wait_available(self.plan.context, namespace, (), self.wait_timeout)
            if problem is not None:
                raise KftuiError(f"{name}: deployments in {namespace} not Available: {problem}")
        count = len({ref_of(o) for o in objects})
        self.say(f"{subject}: {count} applied ({_clock(self.clock() - start)})")
        return count

    def _wait_for(self, subject: str, found: Sequence[Any]) -> None:
        """Wait for what the refusals need: a webhook's deployments, CRDs of another component, or a moment."""
        from kftui.cluster.apply import wait_available

        waited = False
        for problem in found:
            if problem.kind == "webhook":
                namespace, service = problem.subject.split("/", 1)
                self.say(f"{subject}: waiting for webhook {service} (deployments in {namespace})")
                wait_available(self.plan.context, namespace, (), self.wait_timeout)
                waited = True
            elif problem.kind == "builtin":
                raise KftuiError(f"{subject.removeprefix('component ')}: kind {problem.subject} is built into "
                                 "Kubernetes but this cluster does not serve it (an older Kubernetes version?)")
        if not waited:
            self._wait(self.first_retry_wait)

    def ready(self) -> None:
        """Wait for every deployment to become Available, naming the ones still waiting and why."""
        from kftui.cluster.apply import deployments, pod_events
        from kftui.diagnose import diagnose_events

        start, shown_start = time.monotonic(), self.clock()
        diagnosed: set[str] = set()
        delay = self.first_poll
        while True:
            states = deployments(self.plan.context)
            waiting = [d for d in states if not d.ready]
            shown = _clock(self.clock() - shown_start)
            if not waiting:
                self.say(f"ready: all {len(states)} deployments are Available ({shown})")
                self._mark("ready")
                return
            elapsed = time.monotonic() - start
            names = ", ".join(f"{d.namespace}/{d.name}" for d in waiting[:5])
            more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
            self.say(f"ready: {len(states) - len(waiting)}/{len(states)} Available; waiting for {names}{more} "
                     f"({shown})")
            if elapsed > min(60.0, self.ready_timeout / 3):
                for d in waiting:
                    key = f"{d.namespace}/{d.name}"
                    if key in diagnosed:
                        continue
                    events = pod_events(self.plan.context, d.namespace, d.selector)
                    if events:
                        diagnosed.add(key)
                        found = diagnose_events(events, namespace=d.namespace, service_account=d.service_account)
                        self.say(f"why {key} waits: {found.title}. {found.explanation}")
            if elapsed > self.ready_timeout:
                raise KftuiError(
                    f"{len(waiting)} deployment(s) not Available after {_clock(elapsed)}: {names}{more}. "
                    "Run deploy again to keep waiting, or open watch mode (F2) to see their pods."
                )
            self._wait(delay)
            delay = min(delay * 2, self.poll)

    def dex_password(self) -> None:
        """Replace Dex's default static password with the user's (hashed with bcrypt); never printed."""
        from kftui.cluster.apply import replace_dex_password

        if not self.password:
            if "password" not in (self.record.get("done") or []):
                self.say(f"password: Dex still has its default login ({DEX_DEFAULT_USER}); "
                         "give a password to replace it")
            return
        problem = password_problem(self.password)
        if problem is not None:
            raise ConfigError(problem)
        hashed = bcrypt_hash(self.password)
        if hashed is None:
            self.say("password: no bcrypt library or crypt(3) with bcrypt here; the Dex password was not changed")
            return
        problem = replace_dex_password(self.plan.context, hashed)
        if problem is not None:
            self.say(f"password: Dex's secret could not be changed ({problem.splitlines()[-1]})")
            return
        self.say(f"password: Dex's password for {DEX_DEFAULT_USER} replaced (bcrypt)")
        self._mark("password")


def destroy(plan: DeployPlan, progress: Progress, *, poll: float = 5.0,
            sleep: Callable[[float], None] = time.sleep) -> str:
    """Delete the cluster (and forget its deploy record)."""
    from kftui.gcp.container import Container

    container = Container(plan.project)
    if container.get_cluster(plan.zone, plan.cluster) is None:
        save_record(plan, None)
        return f"Cluster {plan.cluster} does not exist in {plan.zone}; nothing to delete."
    start = time.monotonic()
    op = container.delete_cluster(plan.zone, plan.cluster)
    progress(f"cluster {plan.cluster}: deleting")

    def seen(current: OperationInfo) -> None:
        progress(f"cluster {plan.cluster}: {current.kind} {current.status} ({_clock(time.monotonic() - start)})")

    container.wait(op, interval=poll, first_interval=min(0.25, poll), on_progress=seen, sleep=sleep)
    save_record(plan, None)
    return f"Cluster {plan.cluster} deleted."
