"""A task logging metrics to an Output[Metrics] artifact and returning its accuracy."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl
from kfp.dsl import Metrics, Output


@dsl.component(install_kfp_package=False)
def evaluate(metrics: Output[Metrics]) -> float:
    metrics.log_metric("accuracy", 0.875)
    metrics.log_metric("loss", 0.31)
    print("accuracy 0.875")
    return 0.875


@dsl.pipeline(name="metrics")
def metrics_pipeline() -> float:
    return evaluate().outputs["Output"]
