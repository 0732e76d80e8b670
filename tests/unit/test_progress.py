"""Folding progress lines: one live line per subject, retries and explanations kept."""

from __future__ import annotations

from kftui.core.progress import fold, subject


def folded(*lines: str) -> list[str]:
    out: list[str] = []
    for line in lines:
        fold(out, line)
    return out


def test_a_subject_is_updated_where_it_stood() -> None:
    assert folded(
        "cluster kubeflow: creating in us-central1-a",
        "cluster kubeflow: CREATE_CLUSTER RUNNING (0:05)",
        "node pool gpu-pool: creating",
        "cluster kubeflow: done in 4:10",
    ) == ["cluster kubeflow: done in 4:10", "node pool gpu-pool: creating"]


def test_retries_and_explanations_each_keep_their_line() -> None:
    lines = folded(
        "component profiles: 1 created, 1 failed",
        "retry 1: kind Profile is not served yet; again in 2.5 s",
        "component profiles: 1 created, 1 configured (retry 1)",
        "retry 2: webhook not ready; again in 5 s",
        "why auth/dex waits: The image cannot be pulled. Check the name.",
        "why kubeflow/ml-pipeline waits: The pod waits for a volume.",
    )
    assert lines == [
        "component profiles: 1 created, 1 configured (retry 1)",
        "retry 1: kind Profile is not served yet; again in 2.5 s",
        "retry 2: webhook not ready; again in 5 s",
        "why auth/dex waits: The image cannot be pulled. Check the name.",
        "why kubeflow/ml-pipeline waits: The pod waits for a volume.",
    ]


def test_lines_without_a_subject_are_kept_as_they_come() -> None:
    assert subject("deploying Kubeflow 26.03 to gke_p_z_c") is None
    assert subject("a sentence that runs on for a long while before it ever reaches a colon: x") is None
    assert folded("enabled", "enabled") == ["enabled", "enabled"]
