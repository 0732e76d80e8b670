"""A task that fails on its first attempt (a marker file in `scratch`) and succeeds when its retry policy runs it again."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def flaky(scratch: str) -> str:
    import pathlib

    marker = pathlib.Path(scratch) / "tried"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("1", encoding="utf-8")
        raise RuntimeError("first attempt fails on purpose")
    print("second attempt works")
    return "ok"


@dsl.pipeline(name="retries")
def retries(scratch: str) -> str:
    return flaky(scratch=scratch).set_retry(num_retries=2, backoff_duration="0s").output
