"""A small version of train_pipeline.py that runs on a laptop in seconds with `kfp.local`, offline.

    kftui runs local examples/train_pipeline_local.py -p epochs=5
    # or by hand:  python -m kftui.pipelines.local_child examples/train_pipeline_local.py --param epochs=5

Lightweight components with `install_kfp_package=False`: SubprocessRunner then runs each step with this
Python (which has kfp) instead of pip-installing kfp per task, so no network is needed. The base image is
ignored locally; resources and accelerators are ignored too. Artifacts stand in for the shared volume.
"""

# kfp decorators are untyped; the component bodies run in their own images.
# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def download_data(samples: int, dataset: Output[Dataset]) -> int:
    """Make a small synthetic grasp dataset (y = 3x + 1 plus noise) instead of downloading one."""
    import json
    import random

    rng = random.Random(7)  # noqa: S311 - synthetic data, not secrets
    rows = [(x, 3 * x + 1 + rng.uniform(-0.1, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(samples))]
    with open(dataset.path, "w", encoding="utf-8") as out:
        json.dump(rows, out)
    print(f"wrote {len(rows)} samples to {dataset.path}", flush=True)
    return len(rows)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train(dataset: Input[Dataset], epochs: int, learning_rate: float, fail: bool, model: Output[Model]) -> None:
    """Fit y = wx + b by gradient descent, writing a loss log (TensorBoard stand-in) and checkpoints."""
    import json
    import pathlib

    with open(dataset.path, encoding="utf-8") as src:
        rows = json.load(src)
    out_dir = pathlib.Path(model.path)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = b = 0.0
    with (out_dir / "loss.log").open("w", encoding="utf-8") as log:
        for epoch in range(epochs):
            grad_w = sum(2 * (w * x + b - y) * x for x, y in rows) / len(rows)
            grad_b = sum(2 * (w * x + b - y) for x, y in rows) / len(rows)
            w, b = w - learning_rate * grad_w, b - learning_rate * grad_b
            loss = sum((w * x + b - y) ** 2 for x, y in rows) / len(rows)
            log.write(f"{epoch}\t{loss:.6f}\n")
            with (out_dir / f"ckpt-{epoch:03d}.json").open("w", encoding="utf-8") as ckpt:
                json.dump({"w": w, "b": b}, ckpt)
            print(f"epoch {epoch} loss {loss:.4f}", flush=True)
            if fail and epoch == epochs // 2:
                raise RuntimeError("CUDA out of memory (simulated: fail=true)")
    with (out_dir / "model.json").open("w", encoding="utf-8") as out:
        json.dump({"w": w, "b": b}, out)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(dataset: Input[Dataset], model: Input[Model], metrics: Output[Metrics]) -> float:
    """Mean squared error of the trained model on the data."""
    import json
    import pathlib

    with (pathlib.Path(model.path) / "model.json").open(encoding="utf-8") as src:
        params = json.load(src)
    with open(dataset.path, encoding="utf-8") as src:
        rows = json.load(src)
    mse = sum((params["w"] * x + params["b"] - y) ** 2 for x, y in rows) / len(rows)
    metrics.log_metric("mse", mse)
    print(f"mse {mse:.5f} (w={params['w']:.3f}, b={params['b']:.3f})", flush=True)
    return mse


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def notify(mse: float, samples: int) -> str:
    """Say how it went (the cluster version posts to Slack)."""
    message = f"grasp-net trained on {samples} samples: mse {mse:.5f}"
    print(message, flush=True)
    return message


@dsl.pipeline(name="grasp-local", description="Local, seconds-long version of train-grasp-net.")
def grasp_local(samples: int = 200, epochs: int = 5, learning_rate: float = 0.5, fail: bool = False) -> str:
    """Same shape as the cluster pipeline: download, train, evaluate, notify."""
    data = download_data(samples=samples)
    learn = train(dataset=data.outputs["dataset"], epochs=epochs, learning_rate=learning_rate, fail=fail)
    score = evaluate(dataset=data.outputs["dataset"], model=learn.outputs["model"])
    return notify(mse=score.outputs["Output"], samples=data.outputs["Output"]).output
