"""The deploy plan: what cluster and pools to create and which Kubeflow to install, its rules, and its script.

Pure: standard library and core types only. The deploy step and `kftui deploy` fill it from answers and flags,
check it against quotas and zone offers read by adapters, and render it as a shell script a person can review.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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


def script(plan: DeployPlan) -> str:
    """The whole plan as a reviewable shell script, with the user's values."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Kubeflow {plan.release} on GKE: project {plan.project}, zone {plan.zone}, cluster {plan.cluster}.",
        f"# {plan.cost_note()}",
        "set -euo pipefail",
        "",
        "# 1. The cluster with its CPU pool, Workload Identity and auto-provisioning limits.",
        cluster_command(plan),
        "",
    ]
    pool = node_pool_command(plan)
    n = 2
    if pool:
        lines += [
            "# 2. The GPU pool: autoscales from 0, GKE installs the NVIDIA driver and taints the nodes",
            f"#    {GPU_TAINT} (pods that request nvidia.com/gpu get the toleration automatically).",
            pool,
            "",
        ]
        n = 3
    lines += [
        f"# {n}. Credentials for kubectl (context " + plan.context + ").",
        credentials_command(plan),
        "",
        f"# {n + 1}. Kubeflow, component by component in the release README's order, with the GKE Istio overlay.",
        *_manifest_lines(plan),
        "",
        f"# {n + 2}. Sign-in: Dex's default login ({DEX_DEFAULT_USER} / {DEX_DEFAULT_PASSWORD}) stays until it is "
        "replaced;",
        "#    `KFTUI_DEX_PASSWORD=... kftui deploy --yes` replaces it (and sets up Google sign-in when the OAuth step",
        "#    has a client; its secret goes to a Kubernetes Secret, never into this script).",
        f"# {n + 3}. Open the dashboard: `kftui forward dashboard`, or the same by hand, then browse {URL}.",
        PORT_FORWARD,
        "",
    ]
    return "\n".join(lines)


WAIT_CRDS = "kubectl wait --for condition=established crd --all --timeout=60s >/dev/null || true"
WAIT_DEPLOYMENTS = "kubectl wait --for=condition=Available deployment --all -A --timeout=120s >/dev/null || true"


def _manifest_lines(plan: DeployPlan) -> list[str]:
    """Tools checked first, then each component applied with bounded retries and waits (never an endless loop)."""
    lines = [
        "for tool in kubectl gcloud; do",
        '  command -v "$tool" >/dev/null || { echo "$tool is needed (see cloud.google.com/sdk)" >&2; exit 2; }',
        "done",
        'if command -v kustomize >/dev/null; then BUILD="kustomize build"; else BUILD="kubectl kustomize"; fi',
        "apply() {  # one kustomization, server-side; bounded retries while CRDs settle and webhooks start",
        "  local try",
        f"  for try in $(seq 1 {APPLY_ATTEMPTS}); do",
        '    if $BUILD "$1" | kubectl apply --server-side --force-conflicts -f -; then return 0; fi',
        f'    echo "retrying $1 ($try/{APPLY_ATTEMPTS}): waiting for CRDs and webhooks" >&2',
        f"    {WAIT_CRDS}",
        f"    {WAIT_DEPLOYMENTS}",
        "  done",
        f'  echo "$1 did not apply after {APPLY_ATTEMPTS} attempts" >&2; return 1',
        "}",
        'ready() { kubectl wait --for=condition=Available deployment --all -n "$1" --timeout=300s; }',
    ]
    if plan.manifests and is_rendered(plan.manifests):
        return [*lines[:4],
            f"# {plan.manifests} is rendered YAML (air-gapped): applied whole, with bounded retries.",
            f"RENDERED={_q(plan.manifests)}",
            'case "$RENDERED" in *.gz) CAT="gzip -dc";; *) CAT="cat";; esac',
            f"for try in $(seq 1 {APPLY_ATTEMPTS}); do",
            '  if $CAT "$RENDERED" | kubectl apply --server-side --force-conflicts -f -; then break; fi',
            f'  [ "$try" = {APPLY_ATTEMPTS} ] && {{ echo "the manifests did not apply" >&2; exit 1; }}',
            f"  {WAIT_CRDS}",
            f"  {WAIT_DEPLOYMENTS}",
            "done",
        ]
    if plan.manifests:
        lines.append(f"cd {_q(plan.manifests)}")
    else:
        lines += [
            f"git clone --depth 1 --branch {_q(plan.release)} {_q(plan.repo)} kubeflow-manifests",
            "cd kubeflow-manifests",
        ]
    for component in COMPONENTS:
        lines.append(f"# {component.name}")
        lines += [f"apply {p}" for p in component.paths]
        lines += [f"ready {ns}" for ns in component.wait_namespaces]
    return lines


def is_rendered(manifests: str) -> bool:
    """Whether --manifests names a rendered YAML file (air-gapped) rather than a checkout directory."""
    return manifests.endswith((".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz", ".gz"))
