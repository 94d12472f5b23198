# error: dsl.Collected needs an output of a task inside a dsl.ParallelFor
from typing import List

from pipelines.kfp import dsl


@dsl.component
def one() -> int:
    return 1


@dsl.component
def total(values: List[int]) -> int:
    return sum(values)


@dsl.pipeline(name="bad-collected")
def bad_collected():
    total(values=dsl.Collected(one().output))
