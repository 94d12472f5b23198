# error: missing required argument(s): b
from pipelines.kfp import dsl


@dsl.component
def add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="missing-argument")
def missing_argument():
    add(a=1.0)
