"""ParallelFor with parallelism 3 over constants; the iterations print interleaved; Collected sums them."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def work(item: int) -> int:
    import time

    for step in range(4):
        print(f"item={item} step {step}", flush=True)
        time.sleep(0.05)
    return item * item


@dsl.component(install_kfp_package=False)
def total(values: list) -> int:
    print(f"values {sorted(values)}")
    return int(sum(values))


@dsl.pipeline(name="loop-parallel")
def loop_parallel() -> int:
    with dsl.ParallelFor([10, 20, 30], parallelism=3) as item:
        w = work(item=item)
    return total(values=dsl.Collected(w.output)).output
