"""The shell a person gets from the cockpit: the real `kubectl exec -it`, aimed at the same cluster kftui watches."""

from __future__ import annotations

import shutil

from kftui.errors import ToolMissingError

BEST_SHELL = "command -v bash >/dev/null && exec bash || exec sh"
"""bash when the image has it, else sh (what k9s runs)."""


def shell_argv(namespace: str, pod: str, container: str | None, context: str | None = None,
               kubeconfig: str | None = None) -> list[str]:
    """The kubectl command line for an interactive shell in one container (kubectl found on PATH)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise ToolMissingError("kubectl is not on PATH; a shell in a pod runs the real `kubectl exec -it`")
    argv = [kubectl]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    if context:
        argv += ["--context", context]
    argv += ["exec", "-it", "-n", namespace, pod]
    if container:
        argv += ["-c", container]
    return [*argv, "--", "sh", "-c", BEST_SHELL]
