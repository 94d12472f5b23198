"""KFP v2 style: @dsl.component, If/Elif/Else, ParallelFor over a static list of dicts with parallelism,
ParallelFor over a task output, Collected fan-in, .after(), set_retry, set_caching_options."""

from typing import List

from pipelines.kfp import dsl


@dsl.component
def pick(value: int) -> int:
    return value


@dsl.component
def square(x: int, label: str = "") -> int:
    print(label, x * x)
    return x * x


@dsl.component
def numbers(n: int) -> List[int]:
    return list(range(n))


@dsl.component
def add_all(values: List[int]) -> int:
    return sum(values)


@dsl.component
def say(message: str):
    print(message)


@dsl.pipeline(name="v2-control-flow")
def control_flow(value: int = 2, n: int = 3):
    picked = pick(value=value).set_retry(2, backoff_duration="0s")
    with dsl.If(picked.output > 5):
        say(message="big")
    with dsl.Elif(picked.output > 1):
        say(message="medium")
    with dsl.Else():
        say(message="small")
    with dsl.ParallelFor([{"x": 1, "label": "a"}, {"x": 2, "label": "b"}], parallelism=1) as item:
        square(x=item.x, label=item.label)
    listed = numbers(n=n).set_caching_options(False)
    with dsl.ParallelFor(listed.output) as number:
        squared = square(x=number)
    total = add_all(values=dsl.Collected(squared.output))
    say(message=f"sum of squares: {total.output}").after(total)
