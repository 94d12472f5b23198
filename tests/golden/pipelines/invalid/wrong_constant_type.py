# error: cannot use 'seven' (str) as int
from pipelines.kfp import dsl


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.pipeline(name="wrong-type")
def wrong_type():
    square(x="seven")
