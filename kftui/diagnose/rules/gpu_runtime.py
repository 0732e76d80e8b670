"""Docker with --gpus but no NVIDIA container toolkit: the [[gpu]] capability has no driver to serve it."""

from __future__ import annotations

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

TOOLKIT_DOC = "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html"


@rule("nvidia-toolkit-missing", priority=70)
def nvidia_toolkit_missing(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """`could not select device driver ... with capabilities: [[gpu]]` is Docker lacking the NVIDIA runtime hook."""
    m = p.search(r"could not select device driver (?:\"(?P<driver>[\w-]*)\" )?with capabilities: \[\[gpu\]\]")
    if m is None:
        return None
    driver = v.group(m, "driver")
    return Diagnosis(
        cause="nvidia-toolkit-missing",
        title="Docker cannot give the container a GPU: the NVIDIA container toolkit is missing",
        explanation=(
            "Docker was asked for GPUs (--gpus or a compose GPU reservation) but has no device driver for them: "
            "the NVIDIA Container Toolkit is not installed or not registered with Docker (a Docker from snap "
            "cannot use it). The GPU driver itself may be fine (nvidia-smi works on the host). Install the "
            "toolkit, register it with Docker and restart Docker. On GKE this is not needed: GPU nodes come "
            "with the driver and runtime when the node pool is created with gpu-driver-version."
        ),
        facts=v.facts(driver=driver or None, capability="gpu"),
        fixes=(
            Fix(title="Install the NVIDIA Container Toolkit (Debian/Ubuntu, after adding NVIDIA's repository)",
                command="sudo apt-get install -y nvidia-container-toolkit", url=TOOLKIT_DOC),
            Fix(title="Register it with Docker and restart Docker",
                command="sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker"),
            Fix(title="Check", command="docker run --rm --gpus all ubuntu nvidia-smi"),
        ),
    )
