"""The deploy plan: what cluster and pools to create and which Kubeflow to install, its rules, and its script.

Pure: standard library and core types only. The deploy step and `kftui deploy` fill it from answers and flags,
check it against quotas and zone offers read by adapters, and render it as a shell script a person can review.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from kftui.core.gpu import (
    AcceleratorOffers,
    BlockerKind,
    ClusterSpec,
    GpuRequest,
    MachineType,
    NodePoolSpec,
    QuotaValue,
    RegionQuotas,
    assess,
    choose_machine_type,
    gpu_counts,
    machine_choice_key,
    machine_prefixes,
    machine_type_compatible,
    region_of,
)

RELEASES = ("26.03", "v1.11.0")
"""Kubeflow manifests tags kftui knows, newest first."""
DEFAULT_RELEASE = RELEASES[0]
MANIFESTS_REPO = "https://github.com/kubeflow/manifests"
MANIFESTS_REPO_ENV = "KFTUI_MANIFESTS_REPO"
"""A mirror of kubeflow/manifests to clone instead (an air-gapped site's git server, a fork)."""
ISTIO_GKE_OVERLAY = "common/istio/istio-install/overlays/gke"
"""GKE mounts /opt/cni/bin read-only, so Istio's CNI needs the GKE overlay instead of the default one."""
EXAMPLE = "example"


@dataclass(frozen=True, slots=True)
class Component:
    """One part of Kubeflow as upstream installs it: kustomizations applied in order, then what to wait for."""

    name: str
    paths: tuple[str, ...]
    wait_namespaces: tuple[str, ...] = ()
    """Namespaces whose deployments must be Available before the next component (upstream's `kubectl wait`)."""


COMPONENTS: tuple[Component, ...] = (
    Component("kubeflow-namespace", ("common/kubeflow-namespace/base",)),
    Component("cert-manager", ("common/cert-manager/overlays/kubeflow",), ("cert-manager",)),
    Component("istio-crds", ("common/istio/istio-crds/base",)),
    Component("istio-namespace", ("common/istio/istio-namespace/base",)),
    Component("istio", (ISTIO_GKE_OVERLAY,), ("istio-system",)),
    Component("oauth2-proxy", ("common/oauth2-proxy/overlays/m2m-dex-only",), ("oauth2-proxy",)),
    Component("kubeflow-istio-resources", ("common/istio/kubeflow-istio-resources/base",)),
    Component("profiles", ("applications/profiles/pss", "common/kubeflow-roles/base")),
    Component("dex", ("common/dex/overlays/oauth2-proxy",), ("auth",)),
    Component("central-dashboard", ("applications/centraldashboard/overlays/oauth2-proxy",)),
    Component("admission-webhook", ("applications/admission-webhook/upstream/overlays/cert-manager",)),
    Component("knative", ("common/knative/knative-serving/overlays/gateways",
                          "common/istio/cluster-local-gateway/base"), ("knative-serving",)),
    Component("kserve", ("applications/kserve/kserve", "applications/kserve/models-web-app/overlays/kubeflow")),
    Component("pipelines", ("applications/pipeline/overlays",)),
    Component("katib", ("applications/katib/upstream/installs/katib-with-kubeflow",)),
    Component("notebooks", ("applications/jupyter/notebook-controller/upstream/overlays/kubeflow",
                            "applications/jupyter/jupyter-web-app/upstream/overlays/istio")),
    Component("pvc-viewer", ("applications/pvcviewer-controller/upstream/base",)),
    Component("volumes-web-app", ("applications/volumes-web-app/upstream/overlays/istio",)),
    Component("tensorboard", ("applications/tensorboard/tensorboards-web-app/upstream/overlays/istio",
                              "applications/tensorboard/tensorboard-controller/upstream/overlays/kubeflow")),
    Component("trainer", ("applications/trainer/overlays",)),
    Component("spark-operator", ("applications/spark/spark-operator/overlays/kubeflow",)),
    Component("user-namespace", ("common/user-namespace/base",)),
)
"""The release README's "Install Individual Components" order with the overlays its `example` picks, and the GKE
Istio overlay in place of the default one (istio-crds and istio-namespace first, as upstream applies them).
`example` itself is never applied: it would bring back the default Istio CNI (/opt/cni/bin, read-only on GKE)."""
APPLY_ATTEMPTS = 6
"""Bounded retries per component while its CRDs settle and its webhooks start."""
GPU_POOL_NAME = "gpu-pool"
CPU_POOL_NAME = "cpu-pool"
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
"""The taint GKE puts on GPU nodes by itself (pods asking for nvidia.com/gpu get the toleration)."""
DASHBOARD_PORT = 8080
"""The local port `kftui forward dashboard` (and the port-forward below) serves Kubeflow on."""
PORT_FORWARD = f"kubectl port-forward svc/istio-ingressgateway -n istio-system {DASHBOARD_PORT}:80"
URL = f"http://localhost:{DASHBOARD_PORT}"
DEX_DEFAULT_USER = "user@example.com"
DEX_DEFAULT_PASSWORD = "12341234"
DEX_DEFAULT_HASH = "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72"
"""The bcrypt hash of 12341234 that the release's dex-passwords Secret carries."""
PASSWORD_MIN = 12
PASSWORD_RULE = (f"at least {PASSWORD_MIN} characters, mixing letters with digits or symbols, and not the "
                 f"default {DEX_DEFAULT_PASSWORD}")
GOOGLE_SECRET = "kftui-google-oauth"
"""The Secret (in oauth2-proxy's namespace) that holds the OAuth client's id, secret and a cookie secret."""
GOOGLE_CONFIG = "kftui-oauth2-proxy-google"
"""The ConfigMap with oauth2-proxy's configuration for Google."""
OAUTH2_NAMESPACE = "oauth2-proxy"
GOOGLE_ENV = {"OAUTH2_PROXY_CLIENT_ID": "client-id", "OAUTH2_PROXY_CLIENT_SECRET": "client-secret",
              "OAUTH2_PROXY_COOKIE_SECRET": "cookie-secret"}
"""oauth2-proxy's variables, each read from that key of GOOGLE_SECRET (the deploy and the script set the same)."""
SECRET_ENV = "KFTUI_OAUTH_CLIENT_SECRET"
"""Where the plan script reads the OAuth client's secret (or asks without echo): never in the script itself."""
OAUTH2_CALLBACK = "/oauth2/callback"
"""oauth2-proxy's callback path (its default proxy prefix /oauth2; the deploy's config keeps it)."""
GOOGLE_REDIRECT = URL + OAUTH2_CALLBACK
"""Where Google sends the browser back to oauth2-proxy through `kftui forward dashboard`: the one source for the
OAuth step's instructions and the oauth2-proxy config the deploy writes (the OAuth client must list it exactly)."""
FORWARD_DASHBOARD = "kftui forward dashboard"

REQUIRED_STEPS = ("account", "project", "billing", "apis", "iam", "gpu")
"""Earlier wizard steps that must pass before anything is created (oauth is optional with Dex)."""

_CLUSTER = re.compile(r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
DEFAULT_CPU = ("e2-standard-8", 2, 1, 4)

_YES = ("1", "true", "yes", "y", "on", "spot")
_NO = ("0", "false", "no", "n", "off", "")
"""CPU pool defaults: machine type, nodes, autoscaling minimum and maximum."""
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_MACHINE = re.compile(
    r"^[a-z][a-z0-9]*-(standard|highmem|highcpu|megamem|ultramem|hypermem|highgpu|megagpu|ultragpu|edgegpu|"
    r"hightpu|custom|medium|small|micro)(-[a-z0-9]+)*$"
)
"""family-class[-size...]: e2-standard-8, e2-medium, a2-highgpu-1g, n2-custom-4-16384 (class words from GCE)."""
_GPU = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# --------------------------------------------------------------------------------------------------
# Validation: each rule names the field and the rule it breaks
# --------------------------------------------------------------------------------------------------


def validate_cluster_name(value: str) -> str | None:
    """GKE's rule: 1-40 lowercase letters, digits, hyphens; starts with a letter, ends with a letter or digit."""
    text = value.strip()
    if _CLUSTER.match(text):
        return None
    return (
        "Cluster name must be 1-40 characters of lowercase letters, digits and hyphens, start with a letter "
        f"and end with a letter or digit (GKE's rule); got {text!r}."
    )


def password_problem(password: str) -> str | None:
    """None when a Dex password meets the rule, else the rule (never the password itself)."""
    letters = any(c.isalpha() for c in password)
    others = any(not c.isalpha() for c in password)
    if len(password) < PASSWORD_MIN or not (letters and others) or DEX_DEFAULT_PASSWORD in password:
        return f"Dex password must be {PASSWORD_RULE}."
    return None


def validate_zone(value: str) -> str | None:
    """A zone looks like `us-central1-a`."""
    text = value.strip()
    if _ZONE.match(text):
        return None
    return f"Zone must look like us-central1-a (a region, a hyphen and a letter); got {text!r}."


def validate_release(value: str) -> str | None:
    """A kubeflow/manifests tag kftui deploys; others are refused with the real tags (core.validate owns the list)."""
    from kftui.core.validate import kubeflow_release

    return kubeflow_release(value)


def validate_machine_type(value: str, label: str = "Machine type") -> str | None:
    """A Compute machine type name such as e2-standard-8."""
    text = value.strip()
    if _MACHINE.match(text):
        return None
    return f"{label} must be a Compute machine type such as e2-standard-8 (family-shape-size); got {text!r}."


def validate_gpu_type(value: str) -> str | None:
    """A Compute accelerator name, or `none` for a cluster without GPUs."""
    text = value.strip()
    if text == "none" or _GPU.match(text):
        return None
    return f"GPU type must be an accelerator name such as nvidia-tesla-t4, or 'none'; got {text!r}."


MAX_NODES = 1000
"""GKE's limit of nodes per node pool (per zone)."""
MAX_GPUS_PER_NODE = 16
"""The most GPUs one Compute VM carries (a2-megagpu-16g)."""
MAX_NAP = 1_000_000
"""Far above any project's CPU or memory quota: auto-provisioning limits beyond it are typos."""
MAX_POOL_NODES = MAX_NODES


def _count(label: str, value: str | int, minimum: int, maximum: int = MAX_NODES) -> tuple[int | None, str | None]:
    """A whole number in ASCII digits from `minimum` to `maximum`, or the message naming the field and the rule."""
    text = str(value).strip()
    digits = text.removeprefix("-")
    if not digits or not digits.isascii() or not digits.isdigit():
        return None, f"{label} must be a whole number of at least {minimum} written with the digits 0-9 (got {text!r})."
    if len(digits) > len(str(maximum)) or int(text) > maximum:
        return None, f"{label} must be at most {maximum} (got {text[:24]})."
    number = int(text)
    if number < minimum:
        return None, f"{label} must be at least {minimum} (got {number})."
    if maximum is not None and number > maximum:
        return None, f"{label} must be at most {maximum} (GKE's limit; got {number})."
    return number, None


def validate_yes_no(label: str) -> Callable[[str], str | None]:
    """A validator for yes/no answers, whose message names the field."""

    def check(value: str) -> str | None:
        text = value.strip().lower()
        if text in _YES or text in _NO:
            return None
        return f"{label} must be yes or no; got {value.strip()!r}."

    check.__doc__ = f"{label}: yes or no."
    return check


def validate_count(label: str, minimum: int, maximum: int = MAX_NODES) -> Callable[[str], str | None]:
    """A validator for whole numbers of at least `minimum` (bounded by the real limit), naming the field."""

    def check(value: str) -> str | None:
        return _count(label, value, minimum, maximum)[1]

    check.__doc__ = f"{label}: a whole number of at least {minimum}."
    return check



# --------------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpuPool:
    """The CPU pool Kubeflow's own services run on (Kubeflow wants about 16 vCPUs and 32 GB)."""

    machine_type: str = "e2-standard-8"
    nodes: int = 2
    min_nodes: int = 1
    max_nodes: int = 4


@dataclass(frozen=True, slots=True)
class GpuPool:
    """The GPU pool: autoscales from `min_nodes` (0: no idle GPU cost) to `max_nodes`; GKE installs the driver."""

    gpu_type: str
    count: int
    machine_type: str
    max_nodes: int
    min_nodes: int = 0
    spot: bool = False
    defaulted: bool = False
    """The machine type was not given: the zone's catalogue may pick a better one (`fit_to_zone`)."""


@dataclass(frozen=True, slots=True)
class NapLimits:
    """Node auto-provisioning limits for the whole cluster (the blog edited these by hand)."""

    max_cpu: int
    max_memory_gb: int
    max_gpus: int = 0
    gpu_type: str | None = None


@dataclass(frozen=True, slots=True)
class DeployPlan:
    """Everything `kftui deploy` will create, with the user's values."""

    project: str
    zone: str
    cluster: str = "kubeflow"
    release: str = DEFAULT_RELEASE
    cpu: CpuPool = field(default_factory=CpuPool)
    gpu: GpuPool | None = None
    nap: NapLimits | None = None
    workload_identity: bool = True
    manifests: str | None = None
    """A local manifests checkout; None means clone the release tag."""
    repo: str = MANIFESTS_REPO
    """Where the release tag is cloned from."""
    oauth_client_id: str | None = None
    """The OAuth step's client: sign-in with Google through oauth2-proxy (its secret is never in the plan)."""

    @property
    def region(self) -> str:
        """The zone's region (where the quotas count)."""
        return region_of(self.zone)

    @property
    def context(self) -> str:
        """The kube context name gcloud's get-credentials writes."""
        return f"gke_{self.project}_{self.zone}_{self.cluster}"

    @property
    def workload_pool(self) -> str:
        """Workload Identity's pool for the project."""
        return f"{self.project}.svc.id.goog"

    def cluster_spec(self) -> ClusterSpec:
        """The cluster with its CPU pool (the GPU pool is added after, so a GPU refusal leaves a usable cluster)."""
        cpu = NodePoolSpec(
            name=CPU_POOL_NAME,
            machine_type=self.cpu.machine_type,
            min_nodes=self.cpu.min_nodes,
            max_nodes=self.cpu.max_nodes,
            initial_nodes=self.cpu.nodes,
            locations=(self.zone,),
        )
        limits: tuple[tuple[str, int], ...] = ()
        if self.nap is not None:
            limits = (("cpu", self.nap.max_cpu), ("memory", self.nap.max_memory_gb))
            if self.nap.gpu_type and self.nap.max_gpus:
                limits += ((self.nap.gpu_type, self.nap.max_gpus),)
        return ClusterSpec(
            name=self.cluster, location=self.zone, pools=(cpu,), node_locations=(self.zone,), autoprovisioning=limits
        )

    def gpu_pool_spec(self) -> NodePoolSpec | None:
        """The GPU node pool, or None for a CPU-only cluster."""
        if self.gpu is None:
            return None
        return NodePoolSpec(
            name=GPU_POOL_NAME,
            machine_type=self.gpu.machine_type,
            min_nodes=self.gpu.min_nodes,
            max_nodes=self.gpu.max_nodes,
            initial_nodes=self.gpu.min_nodes,
            gpu_type=self.gpu.gpu_type,
            gpu_count=self.gpu.count,
            locations=(self.zone,),
            spot=self.gpu.spot,
        )

    def rows(self) -> tuple[tuple[str, str], ...]:
        """The plan's key values, as (what, value) rows for a table."""
        rows: list[tuple[str, str]] = [
            ("project", self.project),
            ("zone", f"{self.zone} (region {self.region})"),
            ("cluster", f"{self.cluster}  (context {self.context})"),
            ("Kubeflow", f"{self.release} from {self.manifests or self.repo}"),
            (
                "CPU pool",
                f"{self.cpu.machine_type} x {self.cpu.nodes} (autoscaling {self.cpu.min_nodes}-{self.cpu.max_nodes})",
            ),
        ]
        if self.gpu is None:
            rows.append(("GPU pool", "none (CPU-only cluster)"))
        else:
            g = self.gpu
            rows.append(
                (
                    "GPU pool",
                    f"{g.machine_type} + {g.count} x {g.gpu_type} per node, {g.min_nodes}-{g.max_nodes} nodes"
                    + (", spot" if g.spot else "")
                    + ", driver by GKE",
                )
            )
        if self.nap is not None:
            text = f"max {self.nap.max_cpu} vCPU, {self.nap.max_memory_gb} GB"
            if self.nap.gpu_type and self.nap.max_gpus:
                text += f", {self.nap.max_gpus} x {self.nap.gpu_type}"
            rows.append(("auto-provisioning", text))
        rows.append(("Workload Identity", self.workload_pool if self.workload_identity else "off"))
        return tuple(rows)

    def cost_note(self) -> str:
        """What the GPU pool costs while idle."""
        if self.gpu is None:
            return "No GPU pool: only the CPU nodes cost money while idle."
        if self.gpu.min_nodes == 0:
            return "The GPU pool scales from 0: no GPU node (and no GPU cost) until a pod asks for a GPU."
        return (
            f"Warning: the GPU pool keeps at least {self.gpu.min_nodes} GPU node(s) running: they cost money even "
            "when idle. A minimum of 0 avoids that."
        )


@dataclass(frozen=True)
class PlanInputs:
    """Raw values (flags or answers) before validation; None means "use the default"."""

    project: str | None = None
    zone: str | None = None
    cluster: str | None = None
    release: str | None = None
    gpu_type: str | None = None
    gpu_count: str | int | None = None
    gpu_max_nodes: str | int | None = None
    gpu_min_nodes: str | int | None = None
    gpu_machine_type: str | None = None
    spot: bool | str | None = None
    cpu_machine_type: str | None = None
    cpu_nodes: str | int | None = None
    cpu_min_nodes: str | int | None = None
    cpu_max_nodes: str | int | None = None
    nap_max_cpu: str | int | None = None
    nap_max_memory_gb: str | int | None = None
    manifests: str | None = None
    repo: str | None = None
    oauth_client_id: str | None = None
    recorded: Mapping[str, object] = field(default_factory=dict)
    """Remembered answers the GPU step recorded (its machine type per zone, type and count), read by key."""


def _text(value: object) -> str:
    """A value as stripped text ('' for None)."""
    return "" if value is None else str(value).strip()


def _truthy(value: object) -> bool:
    """Answers store booleans as text in forms."""
    return _text(value).lower() in _YES


def default_gpu_machine(gpu_type: str, count: int, machine_types: Sequence[MachineType] = ()) -> str:
    """The machine type the GPU pool uses when none is given: the one choice the GPU step makes too."""
    return choose_machine_type(gpu_type, count, machine_types) or choose_machine_type(gpu_type, count, None) or ""


def build_plan(inputs: PlanInputs, machine_types: Sequence[MachineType] = ()) -> DeployPlan:
    """Validate every input by its rule and build the plan; raises PlanError naming each bad field."""
    problems: list[str] = []

    def check(problem: str | None) -> None:
        if problem:
            problems.append(problem)

    project = _text(inputs.project)
    if not project:
        problems.append("Project is missing: choose a project (the project step, or --project P).")
    elif not _PROJECT.match(project):
        problems.append(f"Project must be a project id (6-30 lowercase letters, digits, hyphens); got {project!r}.")
    zone = _text(inputs.zone)
    if not zone:
        problems.append("Zone is missing: pick one in the GPU step (answer 'zone') or give --zone Z.")
    else:
        check(validate_zone(zone))
    cluster = _text(inputs.cluster) or "kubeflow"
    check(validate_cluster_name(cluster))
    release = _text(inputs.release) or DEFAULT_RELEASE
    check(validate_release(release))
    from kftui.core.validate import manifests_path

    check(manifests_path(_text(inputs.manifests)))

    cpu_machine = _text(inputs.cpu_machine_type) or DEFAULT_CPU[0]
    check(validate_machine_type(cpu_machine, "CPU machine type"))
    cpu_nodes, p1 = _count("CPU nodes", _text(inputs.cpu_nodes) or DEFAULT_CPU[1], 1, MAX_POOL_NODES)
    cpu_min, p2 = _count("CPU pool minimum nodes", _text(inputs.cpu_min_nodes) or DEFAULT_CPU[2], 0, MAX_POOL_NODES)
    cpu_max, p3 = _count("CPU pool maximum nodes", _text(inputs.cpu_max_nodes) or DEFAULT_CPU[3], 1, MAX_POOL_NODES)
    for p in (p1, p2, p3):
        check(p)
    if cpu_nodes is not None and cpu_min is not None and cpu_max is not None:
        if not cpu_min <= cpu_max:
            problems.append(f"CPU pool minimum nodes ({cpu_min}) must not exceed the maximum ({cpu_max}).")
        elif not cpu_min <= cpu_nodes <= cpu_max:
            problems.append(f"CPU nodes ({cpu_nodes}) must lie within the autoscaling bounds {cpu_min}-{cpu_max}.")

    gpu: GpuPool | None = None
    gpu_type = _text(inputs.gpu_type) or "none"
    check(validate_gpu_type(gpu_type))
    if gpu_type != "none" and not validate_gpu_type(gpu_type):
        count, q1 = _count("GPUs per node", _text(inputs.gpu_count) or 1, 1, MAX_GPUS_PER_NODE)
        gmax, q2 = _count("Maximum GPU nodes", _text(inputs.gpu_max_nodes) or 1, 1)
        gmin, q3 = _count("Minimum GPU nodes", _text(inputs.gpu_min_nodes) or 0, 0)
        for q in (q1, q2, q3):
            check(q)
        allowed = gpu_counts(gpu_type)
        if count is not None and allowed is not None and count not in allowed:
            problems.append(f"GPUs per node for {gpu_type} must be one of {', '.join(map(str, allowed))} "
                            f"(the machine shapes GCE offers); got {count}.")
            count = None
        if count is not None and gmax is not None and gmin is not None:
            if gmin > gmax:
                problems.append(f"Minimum GPU nodes ({gmin}) must not exceed the maximum ({gmax}).")
            recorded = _text(inputs.recorded.get(machine_choice_key(zone, gpu_type, count)))
            machine = _text(inputs.gpu_machine_type) or recorded or default_gpu_machine(gpu_type, count, machine_types)
            if not machine:
                problems.append(
                    f"GPU type {gpu_type}: no machine family kftui knows carries it. Check the name "
                    "(`gcloud compute accelerator-types list`) or set the GPU machine type yourself."
                )
            elif validate_machine_type(machine, "GPU machine type"):
                check(validate_machine_type(machine, "GPU machine type"))
            elif not machine_type_compatible(gpu_type, count, machine, machine_types):
                prefixes = machine_prefixes(gpu_type, machine_types)
                problems.append(
                    f"GPU machine type {machine} cannot carry {count} x {gpu_type}"
                    + (f"; use {' or '.join(p + '*' for p in prefixes)}." if prefixes else ".")
                )
            check(validate_yes_no("Spot GPU nodes")(_text(inputs.spot)))
            gpu = GpuPool(gpu_type, count, machine, gmax, gmin, _truthy(inputs.spot),
                          defaulted=not _text(inputs.gpu_machine_type))

    nap: NapLimits | None = None
    if cpu_max is not None:
        cpus = vcpus(cpu_machine, machine_types) * cpu_max
        gpus = gpu.count * gpu.max_nodes if gpu else 0
        cpus += vcpus(gpu.machine_type, machine_types) * gpu.max_nodes if gpu else 0
        max_cpu, r1 = _count("Auto-provisioning max CPU", _text(inputs.nap_max_cpu) or max(cpus, 16), 1, MAX_NAP)
        max_mem, r2 = _count("Auto-provisioning max memory (GB)", _text(inputs.nap_max_memory_gb) or cpus * 4, 1,
                             MAX_NAP)
        check(r1)
        check(r2)
        if max_cpu is not None and max_cpu < cpus:
            problems.append(f"Auto-provisioning max CPU ({max_cpu}) is below the {cpus} vCPU the pools reach at "
                            "their maximum; raise it or lower the pools' maximum nodes.")
        if max_mem is not None and max_mem < cpus:
            problems.append(f"Auto-provisioning max memory ({max_mem} GB) is below 1 GB per vCPU of the pools' "
                            f"maximum ({cpus} vCPU); raise it.")
        if max_cpu is not None and max_mem is not None:
            nap = NapLimits(max_cpu, max_mem, gpus, gpu.gpu_type if gpu else None)
    if problems:
        raise PlanError(problems)
    assert cpu_nodes is not None and cpu_min is not None and cpu_max is not None
    return DeployPlan(
        project=project,
        zone=zone,
        cluster=cluster,
        release=release,
        cpu=CpuPool(cpu_machine, cpu_nodes, cpu_min, cpu_max),
        gpu=gpu,
        nap=nap,
        manifests=_text(inputs.manifests) or None,
        repo=_text(inputs.repo) or MANIFESTS_REPO,
        oauth_client_id=_text(inputs.oauth_client_id) or None,
    )


def fit_to_zone(plan: DeployPlan, machine_types: Sequence[MachineType] | None) -> DeployPlan:
    """A defaulted GPU machine type chosen again from the zone's own catalogue, by the GPU step's one function."""
    from dataclasses import replace

    g = plan.gpu
    if g is None or not g.defaulted or not machine_types:
        return plan
    chosen = choose_machine_type(g.gpu_type, g.count, machine_types)
    return replace(plan, gpu=replace(g, machine_type=chosen)) if chosen and chosen != g.machine_type else plan


class PlanError(ValueError):
    """One or more inputs break their rule; `problems` name each field and rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = tuple(problems)


def vcpus(machine_type: str, machine_types: Iterable[MachineType] = ()) -> int:
    """vCPUs of a machine type: from the zone's catalog, else from the name's last number (e2-standard-8 -> 8)."""
    for mt in machine_types:
        if mt.name == machine_type:
            return mt.guest_cpus
    tail = machine_type.rsplit("-", 1)[-1]
    digits = re.match(r"^([0-9]+)", tail)
    return int(digits.group(1)) if digits else 2


# --------------------------------------------------------------------------------------------------
# Checks before anything is created
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """One check of the plan against the project; `revisit` names the wizard step that fixes a failure."""

    id: str
    ok: bool
    message: str
    revisit: str | None = None


@dataclass(frozen=True)
class PlanWorld:
    """What the adapters read for the checks: quotas, zone offers and the zone's machine catalog."""

    global_quotas: Mapping[str, QuotaValue]
    region: RegionQuotas | None
    offers: AcceleratorOffers
    machine_types: Sequence[MachineType] | None
    """None when the zone's catalog could not be read (machine checks fall back to the family rules)."""


def check_steps(passed: Iterable[str], required: Sequence[str] = REQUIRED_STEPS) -> list[PlanCheck]:
    """Every earlier step must pass before anything is created."""
    done = set(passed)
    missing = [s for s in required if s not in done]
    if not missing:
        return [PlanCheck("steps", True, f"Earlier steps passed: {', '.join(required)}.")]
    return [PlanCheck(f"step.{name}", False, f"The {name} step has not passed.", revisit=name) for name in missing]


def check_plan(plan: DeployPlan, world: PlanWorld) -> list[PlanCheck]:
    """Regional CPU and GPU quota cover the plan's maximum, and the zone offers its machine and GPU types."""
    out: list[PlanCheck] = []
    catalog = tuple(world.machine_types or ())
    names = {mt.name for mt in catalog}
    wanted = [plan.cpu.machine_type] + ([plan.gpu.machine_type] if plan.gpu else [])
    if world.machine_types is not None:
        absent = [m for m in wanted if m not in names]
        if absent:
            out.append(
                PlanCheck(
                    "zone.machine-types",
                    False,
                    f"Zone {plan.zone} does not offer {', '.join(absent)}; choose another machine type or zone.",
                    revisit="gpu",
                )
            )
        else:
            out.append(PlanCheck("zone.machine-types", True, f"Zone {plan.zone} offers {', '.join(wanted)}."))
    else:
        out.append(PlanCheck("zone.machine-types", True, f"Not verified: the zone's machine types could not be listed "
                                                         f"(compute.machineTypes.list); assuming {', '.join(wanted)}."))
    cpus = plan.cpu.max_nodes * vcpus(plan.cpu.machine_type, catalog)
    if plan.gpu:
        cpus += plan.gpu.max_nodes * vcpus(plan.gpu.machine_type, catalog)
    out.append(_cpu_check(plan, world, cpus))
    if plan.gpu is not None:
        g = plan.gpu
        request = GpuRequest(g.gpu_type, g.count, g.max_nodes, plan.zone, g.machine_type, preemptible=g.spot)
        verdict = assess(request, world.global_quotas, world.region, world.offers, catalog)
        zone_kinds = {BlockerKind.NOT_IN_ZONE, BlockerKind.TOO_MANY_PER_NODE, BlockerKind.MACHINE_TYPE_INCOMPATIBLE}
        zone_blockers = [b for b in verdict.blockers if b.kind in zone_kinds]
        quota_blockers = [b for b in verdict.blockers if b.blocking and b.kind not in zone_kinds]
        if zone_blockers:
            out.append(PlanCheck("zone.gpu", False, " ".join(b.message for b in zone_blockers), revisit="gpu"))
        else:
            out.append(PlanCheck("zone.gpu", True, f"Zone {plan.zone} offers {g.count} x {g.gpu_type} per node."))
        if quota_blockers:
            out.append(
                PlanCheck(
                    "quota.gpu",
                    False,
                    " ".join(b.message for b in quota_blockers) + " Request more in the GPU step.",
                    revisit="gpu",
                )
            )
        else:
            caveat = " ".join(b.message for b in verdict.blockers if not b.blocking)
            out.append(
                PlanCheck(
                    "quota.gpu",
                    True,
                    f"GPU quota covers {request.total} x {g.gpu_type} at the pool's maximum."
                    + (f" {caveat}" if caveat else ""),
                )
            )
    return out


def _cpu_check(plan: DeployPlan, world: PlanWorld, cpus: int) -> PlanCheck:
    """Regional CPUS (and CPUS_ALL_REGIONS when present) must cover every pool at its maximum."""
    if world.region is None or world.region.unreadable:
        return PlanCheck("quota.cpu", True, f"Compute could not read {plan.region}'s CPU quota; that is not a zero.")
    regional = world.region.get("CPUS")
    problems: list[str] = []
    overall = world.global_quotas.get("CPUS_ALL_REGIONS")
    for quota, where in ((regional, f"in region {plan.region}"), (overall, "globally")):
        if quota is not None and quota.available < cpus:
            problems.append(
                f"Quota 'CPUS' {where} has {quota.available:g} vCPUs free ({quota.limit:g} limit); "
                f"the pools at their maximum need {cpus}."
            )
    if problems:
        return PlanCheck(
            "quota.cpu",
            False,
            " ".join(problems) + " Lower the pools' maximum nodes or request more CPU quota.",
            revisit="deploy",
        )
    free = f"{regional.available:g} free" if regional is not None else "no regional limit listed"
    return PlanCheck("quota.cpu", True, f"CPU quota in {plan.region} covers {cpus} vCPUs ({free}).")


def blocked(checks: Sequence[PlanCheck]) -> list[PlanCheck]:
    """The failing checks."""
    return [c for c in checks if not c.ok]


# --------------------------------------------------------------------------------------------------
# The script
# --------------------------------------------------------------------------------------------------


def _q(value: str) -> str:
    """Shell-quote a value only when it needs it."""
    return shlex.quote(value)


def cluster_command(plan: DeployPlan) -> str:
    """`gcloud container clusters create ...` with the user's values."""
    c = plan.cpu
    parts = [
        f"gcloud container clusters create {_q(plan.cluster)}",
        f"--project={_q(plan.project)} --zone={_q(plan.zone)} --node-locations={_q(plan.zone)}",
        "--release-channel=regular",
    ]
    if plan.workload_identity:
        parts.append(f"--workload-pool={_q(plan.workload_pool)}")
    parts.append(f"--machine-type={_q(c.machine_type)} --num-nodes={c.nodes}")
    parts.append(f"--enable-autoscaling --min-nodes={c.min_nodes} --max-nodes={c.max_nodes}")
    if plan.nap is not None:
        nap = f"--enable-autoprovisioning --max-cpu={plan.nap.max_cpu} --max-memory={plan.nap.max_memory_gb}"
        if plan.nap.gpu_type and plan.nap.max_gpus:
            nap += f" --max-accelerator=type={plan.nap.gpu_type},count={plan.nap.max_gpus}"
        parts.append(nap)
    return " \\\n    ".join(parts)


def node_pool_command(plan: DeployPlan) -> str | None:
    """`gcloud container node-pools create ...` for the GPU pool, or None without one."""
    g = plan.gpu
    if g is None:
        return None
    parts = [
        f"gcloud container node-pools create {GPU_POOL_NAME}",
        f"--project={_q(plan.project)} --zone={_q(plan.zone)} --cluster={_q(plan.cluster)}",
        f"--machine-type={_q(g.machine_type)} --node-locations={_q(plan.zone)}",
        f"--accelerator=type={g.gpu_type},count={g.count},gpu-driver-version=default",
        f"--enable-autoscaling --num-nodes={g.min_nodes} --min-nodes={g.min_nodes} --max-nodes={g.max_nodes}",
    ]
    if g.spot:
        parts.append("--spot")
    return " \\\n    ".join(parts)


def credentials_command(plan: DeployPlan) -> str:
    """`gcloud container clusters get-credentials ...`."""
    where = f"--project={_q(plan.project)} --zone={_q(plan.zone)}"
    return f"gcloud container clusters get-credentials {_q(plan.cluster)} {where}"


def deploy_command(plan: DeployPlan, plan_only: bool = False) -> str:
    """The `kftui deploy` line that carries out this plan (or, with plan_only, prints it)."""
    parts = ["kftui deploy --plan-only" if plan_only else "kftui deploy --yes", f"--project {_q(plan.project)}",
             f"--zone {_q(plan.zone)}",
             f"--cluster {_q(plan.cluster)}", f"--release {_q(plan.release)}"]
    g, cpu, default_cpu = plan.gpu, plan.cpu, CpuPool()
    if g is not None:
        parts += [f"--gpu {g.gpu_type}", f"--gpu-count {g.count}", f"--max-gpu-nodes {g.max_nodes}",
                  f"--gpu-machine-type {g.machine_type}"]
        parts += [f"--min-gpu-nodes {g.min_nodes}"] if g.min_nodes else []
        parts += ["--spot"] if g.spot else []
    else:
        parts.append("--gpu none")
    for flag, value, default in (("--cpu-machine-type", cpu.machine_type, default_cpu.machine_type),
                                 ("--cpu-nodes", cpu.nodes, default_cpu.nodes),
                                 ("--cpu-min-nodes", cpu.min_nodes, default_cpu.min_nodes),
                                 ("--cpu-max-nodes", cpu.max_nodes, default_cpu.max_nodes)):
        parts += [f"{flag} {value}"] if value != default else []
    if plan.nap is not None:
        parts += [f"--nap-max-cpu {plan.nap.max_cpu}", f"--nap-max-memory {plan.nap.max_memory_gb}"]
    if plan.manifests:
        parts.append(f"--manifests {_q(plan.manifests)}")
    return " ".join(parts)


def google_proxy_config(redirect_url: str) -> str:
    """oauth2-proxy's configuration with Google as the identity provider (the rest as upstream's)."""
    return "\n".join([
        'provider = "google"',
        'scope = "openid email profile"',
        'email_domains = [ "*" ]',
        'upstreams = [ "static://200" ]',
        'skip_auth_routes = [ "^/dex/" ]',
        'api_routes = [ "/api/", "/apis/", "^/ml_metadata" ]',
        f'redirect_url = "{redirect_url}"',
        "skip_provider_button = false",
        'provider_display_name = "Google"',
        'custom_sign_in_logo = "/custom-theme/kubeflow-logo.svg"',
        'banner = "-"',
        'footer = "-"',
        'prompt = "select_account"',
        "",
    ])


def script(plan: DeployPlan) -> str:
    """The whole plan as a reviewable shell script that does what `kftui deploy` does, with the user's values."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Kubeflow {plan.release} on GKE: project {plan.project}, zone {plan.zone}, cluster {plan.cluster}.",
        f"# {plan.cost_note()}",
        "# Each step looks at what exists first, so running the script again continues where it stopped.",
        "set -euo pipefail",
        "",
        "# 0. Tools and the new Dex password, checked before anything is created.",
        *_tool_lines(),
        *_password_lines(),
        *(_client_secret_lines(plan) if plan.oauth_client_id else []),
        "",
        "# 1. The cluster with its CPU pool, Workload Identity and auto-provisioning limits.",
        f"if gcloud container clusters describe {_q(plan.cluster)} --project={_q(plan.project)} "
        f"--zone={_q(plan.zone)} --format='value(name)' >/dev/null 2>&1; then",
        f'  echo "cluster {plan.cluster}: exists, skipped"',
        "else",
        "  " + cluster_command(plan).replace("\n", "\n  "),
        "fi",
        "",
    ]
    pool = node_pool_command(plan)
    n = 2
    if pool:
        lines += [
            "# 2. The GPU pool: autoscales from 0, GKE installs the NVIDIA driver and taints the nodes",
            f"#    {GPU_TAINT} (pods that request nvidia.com/gpu get the toleration automatically).",
            f"if gcloud container node-pools describe {GPU_POOL_NAME} --cluster={_q(plan.cluster)} "
            f"--project={_q(plan.project)} --zone={_q(plan.zone)} --format='value(name)' >/dev/null 2>&1; then",
            f'  echo "node pool {GPU_POOL_NAME}: exists, skipped"',
            "else",
            "  " + pool.replace("\n", "\n  "),
            "fi",
            "",
        ]
        n = 3
    lines += [
        f"# {n}. Credentials for kubectl (context {plan.context}); when gcloud's context does not answer, it is",
        "#    written from the cluster's endpoint and CA, as kftui does.",
        credentials_command(plan),
        *_context_lines(plan),
        "",
        f"# {n + 1}. Kubeflow, component by component in the release README's order, with the GKE Istio overlay:",
        "#    namespaces and CRDs first (waited for until Established), webhook refusals waited for by their",
        "#    deployments, bounded retries.",
        *_manifest_lines(plan),
        "",
        f"# {n + 2}. Every deployment Available.",
        *_ready_lines(),
        "",
        f"# {n + 3}. Sign-in: "
        + (f"Google through oauth2-proxy with the OAuth step's client {plan.oauth_client_id} (its secret, read "
           "above, goes only into a Secret, through a pipe); then " if plan.oauth_client_id else "")
        + f"Dex's default login ({DEX_DEFAULT_USER} / {DEX_DEFAULT_PASSWORD}) is",
        "#    replaced by the password read above (bcrypt), and the script never ends done while the default stands.",
        *(_google_lines(plan) if plan.oauth_client_id else []),
        *_dex_lines(),
        "",
        f"# {n + 4}. Open the dashboard: `kftui forward dashboard`, or the same by hand, then browse {URL}:",
        f"#    {PORT_FORWARD}",
        f'echo "Kubeflow is running on $CTX. Open the dashboard with \\`{FORWARD_DASHBOARD}\\` (or '
        f'\\`{PORT_FORWARD}\\`), browse {URL} and sign in '
        + ("with your Google account." if plan.oauth_client_id else f'as {DEX_DEFAULT_USER} with your password.')
        + '"',
        "",
    ]
    return "\n".join(lines)


PASSWORD_ENV = "KFTUI_DEX_PASSWORD"
"""Where a non-interactive deploy (and the script) reads the Dex password: never a flag, flags land in history."""
BCRYPT_ROUNDS = 10


def _tool_lines() -> list[str]:
    """Every tool the script calls, checked first, each missing one named with how to get it."""
    return [
        "need() {  # a tool the script calls; stops at once (exit 2), naming it and how to get it",
        '  command -v "$1" >/dev/null || { echo "plan: $1 is needed and is not on PATH ($2)" >&2; exit 2; }',
        "}",
        'need gcloud "the Google Cloud CLI: cloud.google.com/sdk"',
        'need kubectl "gcloud components install kubectl"',
        "for tool in awk base64 cut grep gzip mktemp sed sort; do need \"$tool\" \"a standard Unix tool\"; done",
        'if command -v kustomize >/dev/null; then BUILD="kustomize build"; else BUILD="kubectl kustomize"; fi',
        "if python3 -c 'import bcrypt' >/dev/null 2>&1; then HASHER=python3-bcrypt",
        "elif python3 -c 'import passlib.hash' >/dev/null 2>&1; then HASHER=python3-passlib",
        "elif command -v htpasswd >/dev/null; then HASHER=htpasswd",
        "else",
        "  if command -v python3 >/dev/null; then PY=\"python3 has neither the bcrypt nor the passlib module\"",
        '  else PY="python3 is not on PATH"; fi',
        '  echo "plan: a bcrypt tool is needed to replace Dex\'s default password, and none was found: $PY'
        ' (pip install bcrypt), and htpasswd is not on PATH (apt-get install apache2-utils)" >&2',
        "  exit 2",
        "fi",
        'WORK=$(mktemp -d)',
        "trap 'rm -rf \"$WORK\"' EXIT",
    ]


def _client_secret_lines(plan: DeployPlan) -> list[str]:
    """The OAuth client's secret from the environment, else typed without echo; never a flag or a file."""
    missing = (f"plan: {SECRET_ENV}: the secret of OAuth client {plan.oauth_client_id} is needed for Google "
               "sign-in (the OAuth step's client; Google Cloud Console, APIs & Services, Credentials); nothing was "
               "created")
    return [
        'command -v python3 >/dev/null || { echo "plan: python3 is needed to set up Google sign-in and is not on '
        'PATH" >&2; exit 2; }',
        f'CLIENT_SECRET="${{{SECRET_ENV}:-}}"',
        'if [ -z "$CLIENT_SECRET" ] && [ -t 0 ]; then',
        f'  read -rs -p "Secret of OAuth client {plan.oauth_client_id}: " CLIENT_SECRET; echo',
        "fi",
        f'[ -n "$CLIENT_SECRET" ] || {{ echo "{missing}" >&2; exit 2; }}',
        "export CLIENT_SECRET",
    ]


_LOGIN_PY = """import base64, json, os, secrets, sys
d = json.load(sys.stdin)
pod = d["spec"]["template"]["spec"]
keys = json.loads(os.environ["GOOGLE_ENV"])
for c in pod.get("containers") or []:
    for e in c.get("env") or []:
        if e.get("name") in keys:
            e.pop("value", None)
            e["valueFrom"] = {"secretKeyRef": {"name": os.environ["GOOGLE_SECRET"], "key": keys[e["name"]]}}
for v in pod.get("volumes") or []:
    if v.get("name") == "oauth2-proxy-config":
        v["configMap"] = {"name": os.environ["GOOGLE_CONFIG"]}
d.pop("status", None)
m = d["metadata"]
d["metadata"] = {"name": m["name"], "namespace": m["namespace"], "labels": m.get("labels") or {}}
ns = os.environ["OAUTH2_NAMESPACE"]
cookie = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()[:32]
items = [
    {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": os.environ["GOOGLE_SECRET"],
     "namespace": ns}, "stringData": {"client-id": os.environ["CLIENT_ID"],
     "client-secret": os.environ["CLIENT_SECRET"], "cookie-secret": cookie}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": os.environ["GOOGLE_CONFIG"], "namespace": ns},
     "data": {"oauth2_proxy.cfg": os.environ["PROXY_CFG"]}},
    d,
]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
"""
"""The same Secret, ConfigMap and Deployment edit as kftui.cluster.apply.use_google_login, for the script's python3."""


def _google_lines(plan: DeployPlan) -> list[str]:
    """oauth2-proxy pointed at Google with the OAuth step's client, as `kftui deploy` does it."""
    import json

    env = {"CLIENT_ID": plan.oauth_client_id or "", "GOOGLE_SECRET": GOOGLE_SECRET, "GOOGLE_CONFIG": GOOGLE_CONFIG,
           "OAUTH2_NAMESPACE": OAUTH2_NAMESPACE, "GOOGLE_ENV": json.dumps(GOOGLE_ENV),
           "PROXY_CFG": google_proxy_config(GOOGLE_REDIRECT)}
    assigns = " ".join(f"{k}={_q(v)}" for k, v in env.items())
    return [
        f"LOGIN_PY={_q(_LOGIN_PY)}",
        f"if ! kc get deployment oauth2-proxy -n {OAUTH2_NAMESPACE} -o json "
        f'| {assigns} python3 -c "$LOGIN_PY" '
        "| kc apply --server-side --force-conflicts --field-manager=kftui-login -f - >/dev/null; then",
        '  echo "plan: Google sign-in could not be set up (oauth2-proxy)" >&2; exit 1',
        "fi",
        "unset CLIENT_SECRET",
        f'echo "login: Google through oauth2-proxy (client {plan.oauth_client_id}); the client secret is in Secret '
        f'{OAUTH2_NAMESPACE}/{GOOGLE_SECRET}; the client must list {GOOGLE_REDIRECT}"',
    ]


def _password_lines() -> list[str]:
    """The password from the same variable the deploy reads, else typed twice without echo; checked by its rule."""
    bad = (f"plan: {PASSWORD_ENV}: Dex password must be at least {PASSWORD_MIN} characters, mixing letters with "
           f"digits or symbols, and not the default {DEX_DEFAULT_PASSWORD}.")
    return [
        f'PASSWORD="${{{PASSWORD_ENV}:-}}"',
        'if [ -z "$PASSWORD" ] && [ -t 0 ]; then',
        f'  read -rs -p "New Dex password for {DEX_DEFAULT_USER} ({PASSWORD_MIN}+ characters, letters with digits '
        'or symbols): " PASSWORD; echo',
        '  read -rs -p "Again: " AGAIN; echo',
        '  [ "$PASSWORD" = "$AGAIN" ] || { echo "plan: the two passwords differ; nothing was created" >&2; exit 2; }',
        "fi",
        'HASH=""',
        'if [ -n "$PASSWORD" ]; then',
        f'  if [ "${{#PASSWORD}}" -lt {PASSWORD_MIN} ] || ! [[ $PASSWORD =~ [[:alpha:]] ]] || '
        f"! [[ $PASSWORD =~ [^[:alpha:]] ]] || [[ $PASSWORD == *{DEX_DEFAULT_PASSWORD}* ]]; then",
        f'    echo "{bad}" >&2; exit 2',
        "  fi",
        '  case "$HASHER" in  # the password goes through stdin, never a command line (ps would show it)',
        "    python3-bcrypt) HASH=$(printf '%s' \"$PASSWORD\" | python3 -c 'import sys, bcrypt; "
        f"print(bcrypt.hashpw(sys.stdin.buffer.read()[:72], bcrypt.gensalt({BCRYPT_ROUNDS})).decode())');;",
        "    python3-passlib) HASH=$(printf '%s' \"$PASSWORD\" | python3 -c 'import sys; from passlib.hash import "
        f"bcrypt; print(bcrypt.using(rounds={BCRYPT_ROUNDS}).hash(sys.stdin.buffer.read()[:72]))');;",
        f"    htpasswd) HASH=$(printf '%s\\n' \"$PASSWORD\" | htpasswd -niBC {BCRYPT_ROUNDS} user | cut -d: -f2-);;",
        "  esac",
        '  case "$HASH" in \'$2\'*) ;; *) echo "plan: $HASHER did not make a bcrypt hash; nothing was created" >&2; '
        "exit 2;; esac",
        '  echo "password: read and hashed with $HASHER (it replaces Dex\'s default at the end)"',
        "else",
        f'  echo "password: none given ({PASSWORD_ENV} is empty and there is no terminal to ask); the script stops '
        'before done while Dex\'s default login stands" >&2',
        "fi",
        "unset PASSWORD AGAIN",
    ]


def _context_lines(plan: DeployPlan) -> list[str]:
    """The context answers, else it is written from the cluster's endpoint and CA (as the deploy's fallback)."""
    where = f"--project={_q(plan.project)} --zone={_q(plan.zone)}"
    return [
        f"CTX={_q(plan.context)}",
        'kc() { kubectl --context "$CTX" "$@"; }',
        "if ! kc get namespaces -o name --request-timeout=20s >/dev/null 2>\"$WORK/context.err\"; then",
        f"  ENDPOINT=$(gcloud container clusters describe {_q(plan.cluster)} {where} --format='value(endpoint)')",
        f"  CA=$(gcloud container clusters describe {_q(plan.cluster)} {where} "
        "--format='value(masterAuth.clusterCaCertificate)')",
        '  case "$ENDPOINT" in *://*) SERVER=$ENDPOINT;; *) SERVER=https://$ENDPOINT;; esac',
        '  echo "credentials: gcloud\'s context does not answer ($(tail -n 1 "$WORK/context.err")); writing it from the'
        ' cluster\'s endpoint and CA"',
        '  kubectl config set-cluster "$CTX" --server="$SERVER" >/dev/null',
        '  case "$SERVER" in',
        '    https://*) kubectl config set "clusters.$CTX.certificate-authority-data" "$CA" >/dev/null;;',
        '    *) kubectl config unset "clusters.$CTX.certificate-authority-data" >/dev/null;;',
        "  esac",
        "  kc get namespaces -o name --request-timeout=20s >/dev/null || "
        '{ echo "plan: kubectl cannot reach $CTX (above)" >&2; exit 1; }',
        "fi",
        'echo "credentials: context $CTX works"',
    ]


def _manifest_lines(plan: DeployPlan) -> list[str]:
    """Each component built, split (namespaces, CRDs, the rest), applied with bounded retries that wait by need."""
    lines = [
        "split() {  # $1 -> namespaces.yaml, crds.yaml, rest.yaml in $WORK (kustomize prints one object per document)",
        "  awk -v dir=\"$WORK\" '",
        "    function flush(i, out) { if (n) { out = dir \"/\" kind \".yaml\"; for (i = 0; i < n; i++) print lines[i] "
        ">> out; print \"---\" >> out }; n = 0; kind = \"rest\" }",
        '    BEGIN { kind = "rest" }',
        "    /^---/ { flush(); next }",
        '    /^kind: Namespace *$/ { kind = "namespaces" }',
        '    /^kind: CustomResourceDefinition *$/ { kind = "crds" }',
        "    { lines[n++] = $0 }",
        "    END { flush() }' \"$1\"",
        "}",
        "count() { if [ -s \"$1\" ]; then grep -c '^kind: ' \"$1\" || true; else echo 0; fi; }",
        "apply_file() {  # $1 component, $2 file: server-side, bounded retries waiting for what the refusals need",
        "  local try ns waited",
        '  [ -s "$2" ] || return 0',
        f"  for try in $(seq 1 {APPLY_ATTEMPTS}); do",
        '    echo "component $1: applying $(count "$2") objects$( [ "$try" -gt 1 ] && echo " (retry $((try - 1)))")"',
        '    if kc apply --server-side --force-conflicts -f "$2" >"$WORK/applied" 2>"$WORK/refused"; then return 0; fi',
        "    { grep -v '^ensure CRDs are installed first' \"$WORK/refused\" || true; } | head -n 3 | sed 's/^/  /' >&2",
        f'    [ "$try" = {APPLY_ATTEMPTS} ] && {{ echo "plan: component $1 did not apply after {APPLY_ATTEMPTS} '
        'attempts (kubectl\'s words above)" >&2; exit 1; }',
        '    waited=""',
        "    for ns in $(grep -oE 'Post \"https://[a-z0-9-]+\\.[a-z0-9-]+\\.svc' \"$WORK/refused\" "
        "| sed -E 's/.*\\.([a-z0-9-]+)\\.svc$/\\1/' | sort -u); do",
        '      echo "component $1: waiting for a webhook (deployments in $ns)"',
        '      kc wait --for=condition=Available deployment --all -n "$ns" --timeout=300s >/dev/null 2>&1 || true',
        "      waited=1",
        "    done",
        "    if grep -q 'no matches for kind' \"$WORK/refused\"; then",
        '      echo "component $1: waiting for CRDs to be established"',
        "      kc wait --for condition=established crd --all --timeout=60s >/dev/null 2>&1 || true",
        "      waited=1",
        "    fi",
        '    [ -n "$waited" ] || sleep 3',
        "  done",
        "}",
        "ready() {  # $1 component, $2 namespace: its deployments Available (none there is fine)",
        '  echo "component $1: waiting for the deployments in $2"',
        '  if ! kc wait --for=condition=Available deployment --all -n "$2" --timeout=300s >/dev/null '
        '2>"$WORK/wait.err"; then',
        "    grep -q 'no matching resources found' \"$WORK/wait.err\" || "
        '{ echo "plan: $1: deployments in $2 not Available: $(tail -n 1 "$WORK/wait.err")" >&2; exit 1; }',
        "  fi",
        "}",
        "install() {  # $1 component; $2 file of its objects",
        '  rm -f "$WORK/namespaces.yaml" "$WORK/crds.yaml" "$WORK/rest.yaml"',
        '  split "$2"',
        '  apply_file "$1" "$WORK/namespaces.yaml"',
        '  if [ -s "$WORK/crds.yaml" ]; then',
        '    apply_file "$1" "$WORK/crds.yaml"',
        '    echo "component $1: waiting for $(count "$WORK/crds.yaml") CRDs to be established"',
        '    kc wait --for condition=established --timeout=300s -f "$WORK/crds.yaml" >/dev/null || '
        '{ echo "plan: $1: its CRDs were not established" >&2; exit 1; }',
        "  fi",
        '  apply_file "$1" "$WORK/rest.yaml"',
        '  echo "component $1: $(count "$2") applied"',
        "}",
        "build() {  # $1 component, $2 kustomization: appended to $WORK/built.yaml; stops in one line if it cannot",
        '  if ! $BUILD "$2" >>"$WORK/built.yaml" 2>"$WORK/build.err"; then',
        "    if grep -qE 'Could not resolve host|no such host|dial tcp|git fetch|cloneCmd|git clone|network is "
        "unreachable|Connection timed out|i/o timeout' \"$WORK/build.err\"; then",
        '      echo "plan: $1 ($2) needs the network for a remote base: use a checkout with its remote bases vendored,'
        ' or a rendered YAML file" >&2',
        "    else",
        "      echo \"plan: $1 ($2) does not build: $(grep -v '^# Warning' \"$WORK/build.err\" | tail -n 1)\" >&2",
        "    fi",
        "    exit 1",
        "  fi",
        '  echo "---" >>"$WORK/built.yaml"',
        "}",
        "FOUND=0",
        "component() {  # $1 name, $2 namespaces to wait for, then its kustomizations (absent: skipped)",
        '  local name=$1 waits=$2 path; shift 2',
        '  [ -f "$1/kustomization.yaml" ] || return 0',
        "  FOUND=$((FOUND + 1))",
        '  echo "component $name: building"',
        '  : >"$WORK/built.yaml"',
        '  for path; do build "$name" "$path"; done',
        '  install "$name" "$WORK/built.yaml"',
        '  for ns in $waits; do ready "$name" "$ns"; done',
        "}",
    ]
    if plan.manifests and is_rendered(plan.manifests):
        name = PurePosixPath(plan.manifests).name
        return [*lines,
            f"# {plan.manifests} is rendered YAML (air-gapped): split and applied as one component.",
            f"RENDERED={_q(plan.manifests)}",
            '[ -f "$RENDERED" ] || { echo "plan: manifests file $RENDERED does not exist" >&2; exit 2; }',
            'case "$RENDERED" in *.gz) gzip -dc "$RENDERED" >"$WORK/built.yaml";;',
            '  *) cp "$RENDERED" "$WORK/built.yaml";; esac',
            "if grep -q '/opt/cni/bin' \"$WORK/built.yaml\"; then echo \"warning: $RENDERED carries "
            "Istio's default CNI "
            f"(/opt/cni/bin, read-only on GKE); render {ISTIO_GKE_OVERLAY} into it for GKE\"; fi",
            f'install {_q("rendered " + name)} "$WORK/built.yaml"',
        ]
    if plan.manifests:
        lines.append(f"cd {_q(plan.manifests)}")
    else:
        lines += [
            "if [ ! -d kubeflow-manifests/common ]; then",
            f"  git clone --depth 1 --branch {_q(plan.release)} {_q(plan.repo)} kubeflow-manifests",
            "fi",
            "cd kubeflow-manifests",
        ]
    for component in COMPONENTS:
        lines.append(f"component {component.name} {_q(' '.join(component.wait_namespaces))} "
                     + " ".join(_q(p) for p in component.paths))
    lines += [
        'if [ "$FOUND" = 0 ]; then  # not the release\'s layout: one kustomization of the user\'s (or its example/)',
        '  if [ -f kustomization.yaml ]; then component "$(basename "$PWD")" "" .',
        f"  elif [ -f {EXAMPLE}/kustomization.yaml ]; then component {EXAMPLE} \"\" {EXAMPLE}",
        f'  else echo "plan: $PWD holds none of the release\'s kustomizations (e.g. {COMPONENTS[1].paths[0]})" >&2; '
        "exit 1; fi",
        "fi",
    ]
    return lines


def _ready_lines() -> list[str]:
    """Every deployment Available within 15 minutes, else the ones still waiting, named."""
    return [
        'echo "ready: waiting for every deployment to be Available"',
        "if ! kc wait --for=condition=Available deployment --all --all-namespaces --timeout=900s >/dev/null "
        '2>"$WORK/wait.err"; then',
        "  grep -q 'no matching resources found' \"$WORK/wait.err\" || { echo \"plan: deployments not Available "
        "after 15 minutes: $(tail -n 3 \"$WORK/wait.err\" | tr '\\n' ' ')run the script again to keep waiting\" >&2; "
        "exit 1; }",
        "fi",
        'echo "ready: all $(kc get deployments --all-namespaces -o name | wc -l | tr -d \' \') deployments are '
        'Available"',
    ]


def _dex_lines() -> list[str]:
    """The same secret, key and restart as kftui's replace_dex_password; never done while the default stands."""
    refuse = (f"plan: Kubeflow is up on $CTX, but Dex still has its default login {DEX_DEFAULT_USER} / "
              f"{DEX_DEFAULT_PASSWORD}: anyone who reaches the dashboard can sign in. Set a password "
              f"({PASSWORD_RULE}) in {PASSWORD_ENV} (or run this script in a terminal) and run it again; it "
              "continues here.")
    return [
        "if kc get secret dex-passwords -n auth >/dev/null 2>&1; then",
        '  if [ -n "$HASH" ]; then',
        "    kc -n auth patch secret dex-passwords --type=merge "
        "-p \"{\\\"stringData\\\":{\\\"DEX_USER_PASSWORD\\\":\\\"$HASH\\\"}}\" >/dev/null",
        "    kc -n auth rollout restart deployment/dex >/dev/null || echo \"password: Dex's restart failed; "
        "restart it to use the new password\" >&2",
        "  fi",
        "  NOW=$(kc get secret dex-passwords -n auth -o jsonpath='{.data.DEX_USER_PASSWORD}' | base64 -d)",
        f"  if [ \"$NOW\" = {_q(DEX_DEFAULT_HASH)} ]; then",
        f'    echo "{refuse}" >&2',
        "    exit 1",
        "  fi",
        f'  if [ -n "$HASH" ]; then echo "password: Dex\'s password for {DEX_DEFAULT_USER} replaced (bcrypt)"; fi',
        "else",
        "  echo \"password: no Dex here (no secret auth/dex-passwords); nothing to replace\"",
        "fi",
    ]


def is_rendered(manifests: str) -> bool:
    """Whether --manifests names a rendered YAML file (air-gapped) rather than a checkout directory."""
    return manifests.endswith((".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz", ".gz"))
