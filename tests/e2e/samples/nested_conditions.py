"""A condition inside a condition."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def number(n: int) -> int:
    return n


@dsl.component(install_kfp_package=False)
def say(text: str) -> str:
    print(text)
    return text


@dsl.pipeline(name="nested-conditions")
def nested_conditions(n: int = 7) -> None:
    a = number(n=n)
    with dsl.If(a.output > 2):
        b = number(n=a.output)
        with dsl.If(b.output > 5):
            say(text="both")
        with dsl.If(b.output <= 5):
            say(text="outer only")
