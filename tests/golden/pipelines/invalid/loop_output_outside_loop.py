# error: runs once per item of a dsl.ParallelFor
from pipelines.kfp import dsl


@dsl.component
def double(x: int) -> int:
    return 2 * x


@dsl.pipeline(name="bad-loop")
def bad_loop():
    with dsl.ParallelFor([1, 2, 3]) as item:
        doubled = double(x=item)
    double(x=doubled.output)
