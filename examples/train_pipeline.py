"""The blog's training pipeline in KFP v2: shared volume, private image, GPU training, evaluation, notify.

    kftui runs submit examples/train_pipeline.py -p epochs=40 -e robot-grasping
    # on this machine, without a cluster: kftui runs local examples/train_pipeline_local.py (this file's
    # container components need a cluster; kfp.local runs only lightweight Python components)
    # or compile it yourself:  kfp dsl compile --py examples/train_pipeline.py --output train.yaml

Steps (as in the blog): a PersistentVolumeClaim shared by every step; `download-data` fills it;
`train` runs on a GPU node, writing TensorBoard logs and checkpoints to the volume; `evaluate` loads the
model and validation data from the volume; `notify` posts the metrics to a Slack webhook.

Kubernetes-specific settings (the PVC, mounting it, the image pull secret) need `kfp-kubernetes`
(`pip install kfp-kubernetes==2.17.*`). Without it this file still compiles, but WITHOUT the shared volume
and the pull secret: each step then gets its own empty disk, so train cannot see the downloaded data.
Install kfp-kubernetes before submitting to a real cluster.

The private registry: create the secret in your profile namespace first, e.g. for Artifact Registry
    kubectl -n <profile-ns> create secret docker-registry regcred --docker-server=europe-docker.pkg.dev \
      --docker-username=_json_key --docker-password="$(cat key.json)"
(for ECR the token expires after 12 hours: refresh the secret, or pull from Artifact Registry instead).
"""

# kfp decorators are untyped; the component bodies run in their own images.
# mypy: disable-error-code="untyped-decorator,no-any-return,import-not-found"
from kfp import dsl

try:
    from kfp import kubernetes

    HAVE_KFP_KUBERNETES = True
except ImportError:  # compiled without volume and pull secret; see the module docstring
    kubernetes = None
    HAVE_KFP_KUBERNETES = False

DATA = "/mnt/work"
"""Where the shared volume is mounted in every step."""
TRAIN_IMAGE = "europe-docker.pkg.dev/my-project/ml/grasp-train:1.4"
"""The private training image (needs the pull secret below)."""
PULL_SECRET = "regcred"
GPU_TYPE = "nvidia-tesla-t4"
"""GKE picks the GPU node pool by its `cloud.google.com/gke-accelerator` label."""
BASE = "python:3.11-slim"


@dsl.component(base_image=BASE)
def download_data(url: str, root: str) -> int:
    """Fetch the dataset archive onto the shared volume; returns the number of files."""
    import pathlib
    import tarfile
    import urllib.request

    target = pathlib.Path(root) / "data"
    target.mkdir(parents=True, exist_ok=True)
    archive = target / "data.tar.gz"
    print(f"downloading {url} -> {archive}", flush=True)
    urllib.request.urlretrieve(url, archive)  # noqa: S310 - the user's own dataset URL
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    count = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"{count} files in {target}", flush=True)
    return count


@dsl.component(base_image=TRAIN_IMAGE)
def train(root: str, epochs: int, learning_rate: float) -> str:
    """Train on the GPU; TensorBoard logs and checkpoints go to the shared volume. Returns the model path."""
    import pathlib

    import torch  # provided by the private training image
    from torch.utils.tensorboard import SummaryWriter

    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"training on {device} ({torch.cuda.device_count()} GPU)", flush=True)
    runs = pathlib.Path(root) / "runs"
    checkpoints = pathlib.Path(root) / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(log_dir=str(runs))
    model = torch.nn.Linear(16, 1).to(device)
    optimiser = torch.optim.SGD(model.parameters(), lr=learning_rate)
    for epoch in range(epochs):
        x = torch.randn(256, 16, device=device)
        loss = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        writer.add_scalar("loss", loss.item(), epoch)
        torch.save(model.state_dict(), checkpoints / f"epoch-{epoch:04d}.pt")
        print(f"epoch {epoch} loss {loss.item():.4f}", flush=True)
    writer.close()
    final = checkpoints / "model.pt"
    torch.save(model.state_dict(), final)
    return str(final)


@dsl.component(base_image=TRAIN_IMAGE)
def evaluate(model_path: str, root: str, metrics: dsl.Output[dsl.Metrics]) -> float:
    """Score the trained model on held-out data from the volume; logs the metric for the KFP UI."""
    import torch

    model = torch.nn.Linear(16, 1)
    model.load_state_dict(torch.load(model_path))
    x = torch.randn(1024, 16)
    mse = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True)).item()
    metrics.log_metric("mse", mse)
    print(f"validation mse {mse:.4f}", flush=True)
    return mse


@dsl.component(base_image=BASE)
def notify(mse: float, webhook: str) -> None:
    """Post the result to Slack (skipped when no webhook is configured)."""
    import json
    import urllib.request

    text = f"grasp-net trained: validation mse {mse:.4f}"
    print(text, flush=True)
    if webhook:
        request = urllib.request.Request(  # noqa: S310 - the user's own webhook
            webhook, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - the user's own webhook


@dsl.pipeline(name="train-grasp-net", description="Download, train on a GPU, evaluate, notify.")
def train_pipeline(
    data_url: str = "https://storage.googleapis.com/grasp-data/v3.tar.gz",
    epochs: int = 40,
    learning_rate: float = 0.001,
    slack_webhook: str = "",
) -> None:
    """Wire the steps; the volume and the pull secret are added when kfp-kubernetes is installed."""
    volume = None
    if HAVE_KFP_KUBERNETES:
        volume = kubernetes.CreatePVC(
            pvc_name_suffix="-work", access_modes=["ReadWriteOnce"], size="50Gi", storage_class_name="standard-rwo"
        )

    fetch = download_data(url=data_url, root=DATA)
    learn = train(root=DATA, epochs=epochs, learning_rate=learning_rate).after(fetch)
    learn.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    learn.set_cpu_limit("4").set_memory_limit("16G")
    score = evaluate(model_path=learn.output, root=DATA)
    notify(mse=score.outputs["Output"], webhook=slack_webhook)

    if HAVE_KFP_KUBERNETES and volume is not None:
        for step in (fetch, learn, score):
            kubernetes.mount_pvc(step, pvc_name=volume.outputs["name"], mount_path=DATA)
        for step in (learn, score):
            kubernetes.set_image_pull_secrets(step, [PULL_SECRET])
        kubernetes.add_node_selector(learn, label_key="cloud.google.com/gke-accelerator", label_value=GPU_TYPE)
        kubernetes.add_toleration(learn, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
        delete = kubernetes.DeletePVC(pvc_name=volume.outputs["name"]).after(score)
        delete.set_caching_options(False)
