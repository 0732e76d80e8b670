"""One task, one string output."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def greet(name: str) -> str:
    print(f"hello {name}")
    return f"hello {name}"


@dsl.pipeline(name="hello")
def hello(name: str = "grasp") -> str:
    return greet(name=name).output
