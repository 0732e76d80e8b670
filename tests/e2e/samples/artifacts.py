"""A dataset artifact written by one task and read by the next."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(install_kfp_package=False)
def make(rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w", encoding="utf-8") as out:
        out.write("\n".join(str(i) for i in range(rows)))
    print(f"wrote {rows} rows")


@dsl.component(install_kfp_package=False)
def count(data: Input[Dataset]) -> int:
    with open(data.path, encoding="utf-8") as src:
        n = len(src.read().splitlines())
    print(f"read {n} rows")
    return n


@dsl.pipeline(name="artifacts")
def artifacts(rows: int = 5) -> int:
    return count(data=make(rows=rows).outputs["data"]).output
