"""The Notebook a spawn makes, shaped as Kubeflow's Jupyter web app shapes it, and every bad answer named."""

import pytest

from kftui.core.spawner import NotebookSpec, manifests, problems

NS = "kubeflow-user-example-com"


def test_cpu_notebook_matches_the_web_apps_defaults() -> None:
    notebook, pvc = manifests(NotebookSpec("lab", NS, "kubeflownotebookswg/jupyter-scipy:v1.9.0"))
    pod = notebook["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert notebook["metadata"]["annotations"]["notebooks.kubeflow.org/server-type"] == "jupyter"
    assert pod["serviceAccountName"] == "default-editor"
    assert container["resources"] == {"requests": {"cpu": "0.5", "memory": "1.0Gi"},
                                      "limits": {"cpu": "0.6", "memory": "1.2Gi"}}
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/home/jovyan", "/dev/shm"}
    assert pvc is not None
    assert pvc["metadata"]["name"] == "lab-workspace"
    assert pvc["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}
    assert "nodeSelector" not in pod


def test_gpu_notebook_selects_the_accelerator_and_tolerates_gkes_taint() -> None:
    notebook, _ = manifests(NotebookSpec("gpu", NS, "img", cpu="4", memory="12Gi", gpus=1,
                                         gpu_type="nvidia-tesla-t4", pull_secret="regcred"))
    pod = notebook["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": "4.8", "memory": "14.4Gi", "nvidia.com/gpu": "1"}
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]


def test_existing_volume_is_mounted_and_no_pvc_is_made() -> None:
    notebook, pvc = manifests(NotebookSpec("lab", NS, "img", volume_size=None, existing_volume="data"))
    assert pvc is None
    assert notebook["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"] == {"claimName": "data"}


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Bad_Name"}, "name:"), ({"name": "x" * 53}, "name:"), ({"cpu": "lots"}, "cpu:"),
    ({"cpu": "٢"}, "cpu:"), ({"memory": "1GB"}, "memory:"), ({"gpus": 17}, "gpu:"),
    ({"gpu_type": "nvidia-tesla-t4"}, "gpu-type:"), ({"volume_size": "10 gigs"}, "volume:"),
    ({"namespace": ""}, "namespace:"),
])
def test_every_bad_answer_names_its_field(change: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"name": "lab", "namespace": NS, "image": "img", **change}
    found = problems(NotebookSpec(**values))  # type: ignore[arg-type]
    assert found
    assert found[0].startswith(field)


def test_a_good_spec_has_no_problems() -> None:
    assert problems(NotebookSpec("lab", NS, "img", cpu="500m", memory="512Mi", gpus=2, gpu_type="nvidia-l4")) == []
