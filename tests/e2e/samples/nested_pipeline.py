"""A pipeline used as a component of another."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def add(a: int, b: int) -> int:
    print(f"{a} + {b}")
    return a + b


@dsl.pipeline(name="inner")
def inner(x: int) -> int:
    return add(a=x, b=1).output


@dsl.pipeline(name="outer")
def outer(x: int = 1) -> int:
    return add(a=inner(x=x).output, b=10).output
