"""Pipeline runner overhead, ours next to kfp.local (kfp 2.17 SubprocessRunner) in the same run.

Three workloads, each repeated (median reported), with the 1-minute load average before each:
  chain10      10 trivial tasks in a chain           -> per-task overhead   (target <= 0.03 s per task)
  fanout10x1s  10 independent 1-second tasks, parallelism 2                  (target <= 6 s)
  cached10     the chain again, every task a cache hit                       (target < 0.2 s)

kfp runs in its own virtual environment (it pins kubernetes and protobuf), driven through a subprocess:
    python3.11 -m venv /work/venvs/kfp && /work/venvs/kfp/bin/pip install "kfp==2.17.*"
    PYTHONPATH=. python benchmarks/pipelines.py [--repeat 3] [--kfp-python /work/venvs/kfp/bin/python]

Wall time includes compiling the pipeline, as calling a pipeline does in kfp.local.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide the `pipelines`
# package; drop the folder so the import below finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from pipelines import dsl  # noqa: E402
from pipelines.compiler.compiler import as_spec  # noqa: E402
from pipelines.runner.console import SilentObserver  # noqa: E402
from pipelines.runner.local import LocalRunner, RunOptions  # noqa: E402
from pipelines.runner.recorder import InMemoryRecorder  # noqa: E402
from tuner.config import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent


@dsl.component
def inc(x: int) -> int:
    return x + 1


@dsl.component
def sleep_one(i: int) -> int:
    import time

    time.sleep(1.0)
    return i


@dsl.pipeline(name="chain10")
def chain10(start: int = 0):
    task = inc(x=start)
    for _ in range(9):
        task = inc(x=task.output)


@dsl.pipeline(name="fanout10x1s")
def fanout10():
    for i in range(10):
        sleep_one(i=i)


def _load() -> float:
    return os.getloadavg()[0]


def ours(repeat: int, recorded: bool = False) -> dict[str, Any]:
    """Median wall times of our runner (fresh data folder), recording in memory or, with `recorded`, in a
    fresh SQLite metadata store as `tuner pipelines run` does."""
    home = tempfile.mkdtemp(prefix="tuner-bench-")
    settings = Settings(data_dir=Path(home))
    recorder: Any = InMemoryRecorder()
    if recorded:
        from pipelines.runner.store_recorder import StoreRecorder
        from tuner.store import open_store

        recorder = StoreRecorder(open_store(settings=settings), owns_store=True)
    runner = LocalRunner(settings, recorder, observer=SilentObserver())
    results: dict[str, Any] = {}

    def timed(label: str, pipeline: Any, arguments: dict[str, Any], options: RunOptions) -> None:
        times, loads = [], []
        for i in range(repeat):
            loads.append(_load())
            start = time.perf_counter()
            result = runner.run(
                as_spec(pipeline),
                {**arguments, **({"start": 1000 + i} if "start" in arguments else {})},
                options,
            )
            times.append(time.perf_counter() - start)
            assert result.success(), result.run.message
        results[label] = {"times": times, "median": statistics.median(times), "load": loads}

    timed("chain10", chain10, {"start": 0}, RunOptions(enable_caching=False))
    if not recorded:
        timed("fanout10x1s", fanout10, {}, RunOptions(enable_caching=False, parallelism=2))
    runner.run(as_spec(chain10), {"start": 7}, RunOptions())  # fill the cache
    times, loads = [], []
    for _ in range(repeat):
        loads.append(_load())
        start = time.perf_counter()
        result = runner.run(as_spec(chain10), {"start": 7}, RunOptions())
        times.append(time.perf_counter() - start)
        assert all(t.state.value == "Cached" for t in result.tasks.values())
    results["cached10"] = {"times": times, "median": statistics.median(times), "load": loads}
    if recorded:
        recorder.close()
    return results


def reference(kfp_python: str, repeat: int) -> dict[str, Any] | None:
    """kfp.local's figures from its own interpreter, or None when it is not installed."""
    if not Path(kfp_python).exists():
        print(f"kfp not found at {kfp_python}; see the module docstring to install it", file=sys.stderr)
        return None
    done = subprocess.run(
        [kfp_python, "-W", "ignore", str(HERE / "_kfp_local_bench.py"), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kfp-python", default=os.environ.get("KFP_PYTHON", "/work/venvs/kfp/bin/python"))
    parser.add_argument("--skip-kfp", action="store_true")
    args = parser.parse_args()
    mine = ours(args.repeat)
    stored = ours(args.repeat, recorded=True)
    theirs = None if args.skip_kfp else reference(args.kfp_python, args.repeat)
    targets = {"chain10": 0.3, "fanout10x1s": 6.0, "cached10": 0.2}
    labels = {
        "chain10": "10 trivial tasks in a chain",
        "fanout10x1s": "10 independent 1 s tasks, parallelism 2",
        "cached10": "chain of 10, fully cached rerun",
    }
    print(f"{'ours':<60} {'median s':>9} {'target s':>9}")
    for key, label in labels.items():
        print(f"  {label:<58} {mine[key]['median']:>9.3f} {targets[key]:>9.2f}")
    print(f"  per-task overhead in the chain: {mine['chain10']['median'] / 10:.4f} s (target 0.03 s)")
    print("ours, recording in a SQLite metadata store (as `tuner pipelines run` does)")
    print(f"  {labels['chain10']:<58} {stored['chain10']['median']:>9.3f}")
    print(f"  {labels['cached10']:<58} {stored['cached10']['median']:>9.3f}")
    print(f"  per-task overhead in the chain: {stored['chain10']['median'] / 10:.4f} s")
    if theirs:
        reference_rows = {
            "chain10": ("chain10", "10 trivial tasks in a chain"),
            "chain10_nopip": ("chain10", "the same, install_kfp_package=False"),
            "fanout10x1s": ("fanout10x1s", "10 independent 1 s tasks (run one after another)"),
            "parallelfor10x1s_p2": ("fanout10x1s", "ParallelFor over 10 x 1 s, parallelism=2"),
            "parallelfor10x1s_p2_nopip": ("fanout10x1s", "the same, install_kfp_package=False"),
            "cached10": ("cached10", "chain of 10, fully cached rerun"),
        }
        print(f"{'kfp.local 2.17 SubprocessRunner':<60} {'median s':>9} {'kfp/ours':>9}")
        for key, (ours_key, label) in reference_rows.items():
            median = theirs[key]["median"]
            print(f"  {label:<58} {median:>9.3f} {median / mine[ours_key]['median']:>8.1f}x")
    print(
        "load averages (1 min) while measuring:",
        sorted({round(x, 1) for r in mine.values() for x in r["load"]}),
    )
    print(json.dumps({"ours": mine, "ours_store": stored, "kfp_local": theirs}))


if __name__ == "__main__":
    main()
