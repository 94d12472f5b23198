"""The kfp.local side of benchmarks/pipelines.py; runs inside kfp's own virtual environment (it imports
kfp, never this project) and prints one JSON line of median wall times.

kfp.local runs independent tasks one after another, so the 1-second fan-out is measured both as 10
independent tasks and as a ParallelFor with parallelism=2 (its only concurrent form). `*_nopip` variants
use `install_kfp_package=False`, which skips the `pip install kfp` each task otherwise runs.
"""

# No `from __future__ import annotations`: kfp reads component annotations as objects.

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

from kfp import dsl, local


@dsl.component
def inc(x: int) -> int:
    return x + 1


@dsl.component(install_kfp_package=False)
def inc_nopip(x: int) -> int:
    return x + 1


@dsl.component
def sleep_one(i: int) -> int:
    import time

    time.sleep(1.0)
    return i


@dsl.component(install_kfp_package=False)
def sleep_one_nopip(i: int) -> int:
    import time

    time.sleep(1.0)
    return i


@dsl.pipeline
def chain10(start: int) -> int:
    task = inc(x=start)
    for _ in range(9):
        task = inc(x=task.output)
    return task.output


@dsl.pipeline
def chain10_nopip(start: int) -> int:
    task = inc_nopip(x=start)
    for _ in range(9):
        task = inc_nopip(x=task.output)
    return task.output


@dsl.pipeline
def fanout10x1s():
    for i in range(10):
        sleep_one(i=i)


@dsl.pipeline
def parallelfor10x1s_p2():
    with dsl.ParallelFor(list(range(10)), parallelism=2) as i:
        sleep_one(i=i)


@dsl.pipeline
def parallelfor10x1s_p2_nopip():
    with dsl.ParallelFor(list(range(10)), parallelism=2) as i:
        sleep_one_nopip(i=i)


def timed(
    pipeline: Any, repeat: int, caching: bool = False, root: str | None = None, **arguments: Any
) -> dict[str, Any]:
    root = root or tempfile.mkdtemp(prefix="kfp-bench-")
    times, loads = [], []
    for _ in range(repeat):
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=root,
            raise_on_error=False,
            enable_caching=caching,
            cache_root=os.path.join(root, ".cache") if caching else None,
        )
        loads.append(os.getloadavg()[0])
        start = time.perf_counter()
        pipeline(**arguments)
        times.append(time.perf_counter() - start)
    return {"times": times, "median": statistics.median(times), "load": loads}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {
        "chain10": timed(chain10, args.repeat, start=0),
        "chain10_nopip": timed(chain10_nopip, args.repeat, start=0),
        "fanout10x1s": timed(fanout10x1s, args.repeat),
        "parallelfor10x1s_p2": timed(parallelfor10x1s_p2, args.repeat),
        "parallelfor10x1s_p2_nopip": timed(parallelfor10x1s_p2_nopip, args.repeat),
    }
    root = tempfile.mkdtemp(prefix="kfp-bench-cache-")
    timed(chain10, 1, caching=True, root=root, start=7)  # fill kfp's cache
    results["cached10"] = timed(chain10, args.repeat, caching=True, root=root, start=7)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
