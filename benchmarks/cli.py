"""Read-only CLI latency, run by hand (never a timed test).

A store with a small experiment and a 10,000-trial one (3 parameters, 3 steps of the objective and one
additional metric per trial) is built once; then each command runs as a real `python -m tuner.cli` process,
`--repeats` times, and the median wall time, CPU time (user + sys of the child) and output size are printed.
With `--baseline DIR` (a checkout of an older commit, e.g. `git archive <commit> | tar -x -C DIR`) the same
commands run from that code on the same store, so before and after are measured side by side.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/cli.py [--trials 10000] [--repeats 7] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPEC = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "spec": {
        "objective": {
            "type": "maximize",
            "objectiveMetricName": "accuracy",
            "additionalMetricNames": ["loss"],
        },
        "algorithm": {"algorithmName": "random"},
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "1"}},
            {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
            {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
    },
}


def build(url: str, trials: int, folder: Path) -> str:
    """The store: `small` (5 trials) and `big` (`trials` trials); returns a trial's short suffix."""
    from tuner.states import ExperimentState, TrialState
    from tuner.store import open_store
    from tuner.store.records import Assignment, Observation, RuntimeInfo

    store = open_store(url)
    suffix = ""
    try:
        for name, count in (("small", 5), ("big", trials)):
            record = store.create_experiment(name, {**SPEC, "metadata": {"name": name}}, "sha256:0")
            points: list[Observation] = []
            for n in range(count):
                trial_name = f"{name}-{n:08x}"
                assignments = [
                    Assignment("lr", repr(1e-4 * (n % 997 + 1)), 1e-4 * (n % 997 + 1)),
                    Assignment("layers", str(n % 8 + 1), float(n % 8 + 1)),
                    Assignment("optimizer", "adam" if n % 2 else "sgd"),
                ]
                trial = store.create_trial(record.id, trial_name, assignments, number=n)
                log = folder / "runs" / name / trial_name / "trial.log"
                log.parent.mkdir(parents=True)
                log.write_text("accuracy=0.5\n")
                store.transition_trial(trial.id, TrialState.RUNNING, runtime=RuntimeInfo(log_path=str(log)))
                store.transition_trial(trial.id, TrialState.SUCCEEDED)
                value = (n * 7919 % 10007) / 10007
                points += [Observation(trial.id, "accuracy", value * s / 3, s) for s in (1, 2, 3)]
                points.append(Observation(trial.id, "loss", 1 - value, 3))
                suffix = trial_name.rpartition("-")[2]
                if len(points) >= 20_000:
                    store.log_metrics(points)
                    points = []
            store.log_metrics(points)
            store.update_experiment_status(record.id, ExperimentState.SUCCEEDED, {"trials": count})
    finally:
        store.close()
    return suffix


def measure(code: Path, args: list[str], env: dict[str, str], repeats: int) -> tuple[float, float, int]:
    """Median wall seconds, median child CPU seconds, output bytes of `python -m tuner.cli ARGS` run from `code`."""
    walls, cpus, size = [], [], 0
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tuner.cli", *args], capture_output=True, env=env, cwd=code, check=False
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed in {code}: {done.stderr.decode()[-500:]}")
        size = len(done.stdout)
    return statistics.median(walls), statistics.median(cpus), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'tuner.db'}"
        print(f"building a store with a {options.trials}-trial experiment ...", file=sys.stderr)
        suffix = build(url, options.trials, folder)
        commands = [
            ["--version"],
            ["experiments", "list"],
            ["experiments", "show", "small"],
            ["experiments", "show", "big"],
            ["trials", "list", "big"],
            ["trials", "list", "big", "-o", "json"],
            ["trials", "logs", f"big-{suffix}"],
        ]
        codes = {"now": ROOT}
        if options.baseline is not None:
            codes = {"before": options.baseline.resolve(), **codes}
        print("| command | " + " | ".join(f"{k}: wall s / CPU s / output" for k in codes) + " |")
        print("|---|" + "---|" * len(codes))
        for args in commands:
            cells = []
            for code in codes.values():
                env = {**os.environ, "TUNER_STORE": url, "TUNER_HOME": str(folder), "PYTHONPATH": str(code)}
                wall, cpu, size = measure(code, args, env, options.repeats)
                cells.append(f"{wall:.2f} / {cpu:.2f} / {size / 1024:,.0f} KiB")
            print(f"| `tuner {' '.join(args)}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
