"""A task that raises: the pipeline fails and what depends on it never runs."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def boom() -> int:
    raise ValueError("bad batch")


@dsl.component(install_kfp_package=False)
def after(x: int) -> int:
    return x


@dsl.pipeline(name="failing")
def failing() -> int:
    return after(x=boom().output).output
