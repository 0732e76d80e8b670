"""dsl.If / dsl.Else on a task output; only one branch runs."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def score(n: int) -> int:
    return n * 3


@dsl.component(install_kfp_package=False)
def say(text: str) -> str:
    print(text)
    return text


@dsl.pipeline(name="condition")
def condition(n: int = 3) -> None:
    s = score(n=n)
    with dsl.If(s.output > 5):
        say(text="high")
    with dsl.Else():
        say(text="low")
