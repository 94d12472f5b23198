"""KFP v1 sub-graph pattern: independent steps grouped in `dsl.SubGraph(parallelism=1)` run one at a
time although the run allows more; a step after the group reads one of their outputs. Each step returns
its own start and end time."""

from typing import List

from pipelines.kfp import dsl


@dsl.component
def stamp(tag: str) -> List[float]:
    import time

    start = time.time()
    time.sleep(0.05)
    return [start, time.time()]


@dsl.component
def report(window: List[float]) -> str:
    return f"last step took {window[1] - window[0]:.2f}s"


@dsl.pipeline(name="sub-graph", description="Steps limited to one at a time.")
def sub_graph():
    with dsl.SubGraph(parallelism=1):
        stamp(tag="a")
        stamp(tag="b")
        last = stamp(tag="c")
    report(window=last.output)
