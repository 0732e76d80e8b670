"""An exit handler that runs after the guarded task (which succeeds here)."""

# mypy: disable-error-code="untyped-decorator,no-any-return"
from kfp import dsl


@dsl.component(install_kfp_package=False)
def cleanup() -> str:
    print("cleaning up")
    return "clean"


@dsl.component(install_kfp_package=False)
def train(epochs: int) -> int:
    print(f"training {epochs} epochs")
    return epochs


@dsl.pipeline(name="exit-handler")
def exit_handler(epochs: int = 2) -> None:
    with dsl.ExitHandler(cleanup()):
        train(epochs=epochs)
