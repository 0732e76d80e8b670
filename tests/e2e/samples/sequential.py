"""A producer feeding a consumer through a parameter."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def produce(n: int) -> int:
    print(f"producing {n}")
    return n * 2


@dsl.component(install_kfp_package=False)
def consume(x: int) -> int:
    print(f"consuming {x}")
    return x + 1


@dsl.pipeline(name="sequential")
def sequential(n: int = 4) -> int:
    return consume(x=produce(n=n).output).output
