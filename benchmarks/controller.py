"""Controller throughput, run by hand (never a timed test).

1. Function trials: `tuner.tune` with a trivial objective and the random algorithm, every trial recorded in
   SQLite before it runs, against Optuna's `study.optimize` with RDBStorage on SQLite (RandomSampler), same
   disk, same run: serial against serial (parallel 1 / `n_jobs=1`) and parallel against parallel (4 trials
   at once: tuner's threads / Optuna's `n_jobs=4`, also threads). Reported as trials/s, median of the repeats.
2. Process trials: `tuner run` of an experiment whose 200 trials are `python3 -c "print('loss=...')"`,
   parallelTrialCount 2, against the same 200 processes launched from a plain shell loop (`xargs -P 2`).
   Reported as wall time and the ratio.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/controller.py [--trials 500] [--process-trials 200] [--repeats 3]
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

import yaml

ROOT = Path(__file__).resolve().parents[1]


def objective(params: dict[str, float]) -> float:
    return params["x"] * params["y"]


def bench_tune(folder: Path, trials: int, parallel: int, threads: bool) -> float:
    import tuner

    store = f"sqlite:///{folder / f'tune-{time.time_ns()}.db'}"
    start = time.perf_counter()
    result = tuner.tune(
        objective,
        {"x": tuner.search.double(0, 1), "y": tuner.search.double(0, 1)},
        algorithm_name="random",
        max_trial_count=trials,
        parallel_trial_count=parallel,
        threads=threads,
        store=store,
    )
    elapsed = time.perf_counter() - start
    assert len(result.trials) == trials, result
    return trials / elapsed


def bench_optuna(folder: Path, trials: int, n_jobs: int = 1) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{folder / f'optuna-{time.time_ns()}.db'}"
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(
        lambda t: t.suggest_float("x", 0, 1) * t.suggest_float("y", 0, 1), n_trials=trials, n_jobs=n_jobs
    )
    elapsed = time.perf_counter() - start
    done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    assert done == trials, f"optuna finished {done} of {trials} trials"
    return trials / elapsed


PROCESS_SCRIPT = "import sys; print('loss=' + sys.argv[1].split('=')[1])"


def bench_process_trials(folder: Path, trials: int) -> tuple[float, float]:
    experiment = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "bench-processes"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": trials,
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
            ],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [{"name": "x", "reference": "x"}],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "main",
                                        "command": [
                                            "python3",
                                            "-c",
                                            PROCESS_SCRIPT,
                                            "--x=${trialParameters.x}",
                                        ],
                                    }
                                ]
                            }
                        }
                    },
                },
            },
        },
    }
    run_id = time.time_ns()
    path = folder / f"processes-{run_id}.yaml"
    path.write_text(yaml.safe_dump(experiment))
    env = {**os.environ, "TUNER_HOME": str(folder / f"home-{run_id}"), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tuner.cli", "run", str(path), "-q", "-o", "json"],
        env=env,
        check=True,
        capture_output=True,
    )
    tuner_seconds = time.perf_counter() - start
    python = str(Path(sys.executable).parent / "python3")
    loop = f'seq {trials} | xargs -P 2 -I{{}} {python} -c "{PROCESS_SCRIPT}" --x=0.{{}} > /dev/null'
    start = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", loop], check=True)
    shell_seconds = time.perf_counter() - start
    return tuner_seconds, shell_seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--process-trials", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {
        k: [] for k in ("tune_processes", "tune_threads", "tune_threads_4", "optuna", "optuna_4")
    }
    process_runs: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as tmp:
        folder = Path(tmp)
        os.environ["TUNER_HOME"] = str(folder / "home")
        for _ in range(args.repeats):
            results["tune_processes"].append(bench_tune(folder, args.trials, 1, threads=False))
            results["tune_threads"].append(bench_tune(folder, args.trials, 1, threads=True))
            results["tune_threads_4"].append(bench_tune(folder, args.trials, 4, threads=True))
            results["optuna"].append(bench_optuna(folder, args.trials))
            results["optuna_4"].append(bench_optuna(folder, args.trials, n_jobs=4))
            process_runs.append(bench_process_trials(folder, args.process_trials))
    medians = {k: statistics.median(v) for k, v in results.items()}
    tuner_s = statistics.median(r[0] for r in process_runs)
    shell_s = statistics.median(r[1] for r in process_runs)
    print(f"function trials ({args.trials} per run, median of {args.repeats}; like compared with like):")
    for key, label, reference in [
        ("tune_processes", "tuner.tune, worker process, parallel 1", "optuna"),
        ("tune_threads", "tuner.tune, threads, parallel 1", "optuna"),
        ("optuna", "optuna RDBStorage (sqlite), RandomSampler, n_jobs=1", "optuna"),
        ("tune_threads_4", "tuner.tune, threads, parallel 4", "optuna_4"),
        ("optuna_4", "optuna RDBStorage (sqlite), RandomSampler, n_jobs=4", "optuna_4"),
    ]:
        ratio = medians[key] / medians[reference]
        print(f"  {label:<53} {medians[key]:8.1f} trials/s  ({ratio:.1f}x {reference})")
    print(
        f"process trials ({args.process_trials}, parallel 2): tuner run {tuner_s:.2f} s, shell loop {shell_s:.2f} s, "
        f"ratio {tuner_s / shell_s:.2f}"
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "controller.json").write_text(json.dumps({"function": results, "process": process_runs}, indent=2))


if __name__ == "__main__":
    main()
