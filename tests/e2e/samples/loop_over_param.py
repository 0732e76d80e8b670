"""ParallelFor over a pipeline parameter (a list), one iteration at a time."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def shout(word: str) -> str:
    print(word.upper())
    return word.upper()


@dsl.pipeline(name="loop-over-param")
def loop_over_param(words: list = ["pick", "place"]) -> None:  # noqa: B006 - a pipeline default, not mutated
    with dsl.ParallelFor(words, parallelism=1) as word:
        shout(word=word)
