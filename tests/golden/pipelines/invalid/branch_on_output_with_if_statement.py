# error: use it in `with dsl.Condition(...)` or `with dsl.If(...)`
from pipelines.kfp import dsl


@dsl.component
def coin() -> str:
    return "heads"


@dsl.pipeline(name="python-if")
def python_if():
    flip = coin()
    if flip.output == "heads":
        coin()
