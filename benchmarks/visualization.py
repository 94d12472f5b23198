"""Time to build each figure's JSON for a 10,000-trial experiment, on SQLite and on PostgreSQL.

Run by hand (never as a timed test), from the repository root:

    nice -n 10 .venv/bin/python benchmarks/visualization.py                 # 10,000 trials x 100 points
    nice -n 10 .venv/bin/python benchmarks/visualization.py --quick         # 1,000 trials, a smoke run
    .venv/bin/python benchmarks/visualization.py --sqlite-only

The experiment (3 parameters: a log-scale double, an int, a categorical; objective `accuracy` with 100
steps per trial and an additional metric `loss`; every 50th trial Failed) is written through the store
API, as `tests/visualization/conftest.build_big` does. Measured, each as the median of `--repeats` runs
after one untimed warm-up (plotly, optuna and scikit-learn are imported once per process):

* load: `load_experiment_data` (one paged read of the comparison table: trials, assignments, summaries);
  the dashboard does this once per experiment and keeps the result while the experiment is unchanged;
* each figure: `figure_json(kind, data)` with default options, from a fresh copy of the loaded data, so
  the learning curves include reading their series from the store (100 trials' series, one indexed query
  each); then the curves once more from data whose series were read already (what a dashboard that keeps
  the loaded experiment pays on the next request).

Target: each figure's JSON < 300 ms (issue 13). Results are printed as a Markdown table (paste it into
benchmarks/README.md) and saved to benchmarks/results/visualization.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PG = os.environ.get("TUNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_MS = 300.0

SPEC = {
    "apiVersion": "tuner.dev/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "big"},
    "spec": {
        "objective": {
            "type": "maximize",
            "objectiveMetricName": "accuracy",
            "additionalMetricNames": ["loss"],
            "metricStrategies": [{"name": "loss", "value": "min"}],
        },
        "algorithm": {"algorithmName": "random"},
        "parameters": [
            {
                "name": "lr",
                "parameterType": "double",
                "feasibleSpace": {"min": "0.0001", "max": "1", "distribution": "logUniform"},
            },
            {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
            {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
    },
}


def build(url: str, trials: int, steps: int) -> float:
    """Write the experiment; returns the seconds it took."""
    from tuner.states import ExperimentState, TrialState
    from tuner.store import open_store
    from tuner.store.records import Assignment, Observation

    start = time.perf_counter()
    store = open_store(url)
    try:
        record = store.create_experiment("big", SPEC, "sha256:0")
        points: list[Observation] = []
        for n in range(trials):
            u = ((n * 7919) % 10007) / 10007
            lr = 1e-4 * 10 ** (4 * u)
            layers = n % 8 + 1
            assignments = [
                Assignment("lr", repr(lr), lr),
                Assignment("layers", str(layers), float(layers)),
                Assignment("optimizer", "adam" if n % 2 else "sgd"),
            ]
            trial = store.create_trial(record.id, f"big-{n:06d}", assignments, number=n)
            store.transition_trial(trial.id, TrialState.RUNNING)
            store.transition_trial(trial.id, TrialState.FAILED if n % 50 == 49 else TrialState.SUCCEEDED)
            final = 1 - abs(u - 0.6) - 0.02 * abs(layers - 5)
            points += [
                Observation(trial.id, "accuracy", final * (1 - 0.9**s), s) for s in range(1, steps + 1)
            ]
            points.append(Observation(trial.id, "loss", 1 - final + 0.05 * layers, steps))
            if len(points) >= 100_000:
                store.log_metrics(points)
                points = []
        store.log_metrics(points)
        store.update_experiment_status(record.id, ExperimentState.SUCCEEDED, {})
    finally:
        store.close()
    return time.perf_counter() - start


def measure(url: str, repeats: int) -> dict[str, Any]:
    from tuner.store import open_store
    from tuner.visualization import FIGURE_KINDS, figure_json, load_experiment_data

    store = open_store(url)
    try:
        load_experiment_data(store, "big")  # warm-up
        loads = []
        for _ in range(repeats):
            start = time.perf_counter()
            data = load_experiment_data(store, "big")
            loads.append(time.perf_counter() - start)
        cases: list[tuple[str, dict[str, Any]]] = [
            (kind, {}) for kind in FIGURE_KINDS if kind != "importance"
        ]
        cases[4:4] = [("importance", {"evaluator": "fanova"}), ("importance", {"evaluator": "ped-anova"})]
        out: dict[str, Any] = {"load_ms": 1000 * statistics.median(loads), "figures": {}}
        for kind, options in cases:
            label = kind + (f" ({options['evaluator']})" if options else "")
            body = figure_json(kind, dataclasses.replace(data), **options)  # warm-up
            times = []
            for _ in range(repeats):
                fresh = dataclasses.replace(data)  # an empty series cache: curves are read again
                start = time.perf_counter()
                figure_json(kind, fresh, **options)
                times.append(time.perf_counter() - start)
            out["figures"][label] = {
                "median_ms": 1000 * statistics.median(times),
                "max_ms": 1000 * max(times),
                "json_bytes": len(json.dumps(body)),
            }
            print(f"  {label}: {out['figures'][label]['median_ms']:.0f} ms", file=sys.stderr)
        # the dashboard keeps the loaded data: the second drawing of the curves finds the series read
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            body = figure_json("intermediate", data)
            times.append(time.perf_counter() - start)
        out["figures"]["intermediate (series already read)"] = {
            "median_ms": 1000 * statistics.median(times),
            "max_ms": 1000 * max(times),
            "json_bytes": len(json.dumps(body)),
        }
        return out
    finally:
        store.close()


def _postgres_database(server_url: str) -> tuple[str, tuple[Any, Any]]:
    import psycopg

    from tests.require_postgres import plain_dsn

    name = f"tuner_bench_viz_{uuid.uuid4().hex[:8]}"
    admin = plain_dsn(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def settle() -> None:
        """VACUUM ANALYZE after the bulk write, so that autovacuum does not run during the timing."""
        with psycopg.connect(plain_dsn(server_url.rpartition("/")[0] + "/" + name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return server_url.rpartition("/")[0] + "/" + name, (settle, drop)


def table(results: dict[str, Any]) -> str:
    backends = list(results["backends"])
    lines = [
        "| figure JSON, "
        + f"{results['trials']:,} trials x {results['steps']} points (median ms) | "
        + " | ".join(backends)
        + " | size (KB) | target |",
        "|---|" + "---|" * len(backends) + "---|---|",
    ]
    first = results["backends"][backends[0]]
    lines.append(
        "| load_experiment_data (once per experiment) | "
        + " | ".join(f"{results['backends'][b]['load_ms']:.0f}" for b in backends)
        + " | | |"
    )
    for label in first["figures"]:
        cells = [f"{results['backends'][b]['figures'][label]['median_ms']:.0f}" for b in backends]
        size = first["figures"][label]["json_bytes"] / 1024
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {size:.0f} | < {TARGET_MS:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="a PostgreSQL server URL (a database is made)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1,000 trials x 20 points, 3 repeats")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.steps, args.repeats = 1000, 20, 3
    results: dict[str, Any] = {
        "trials": args.trials,
        "steps": args.steps,
        "repeats": args.repeats,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "backends": {},
        "build_s": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        targets: list[tuple[str, str, Any]] = [("SQLite", f"sqlite:///{folder}/viz.db", None)]
        if not args.sqlite_only:
            url, hooks = _postgres_database(args.postgres)
            targets.append(("PostgreSQL", url, hooks))
        try:
            for label, url, hooks in targets:
                print(f"{label}: writing {args.trials} trials x {args.steps} points", file=sys.stderr)
                results["build_s"][label] = build(url, args.trials, args.steps)
                if hooks is not None:
                    hooks[0]()
                print(f"{label}: measuring", file=sys.stderr)
                results["backends"][label] = measure(url, args.repeats)
        finally:
            for _, _, hooks in targets:
                if hooks is not None:
                    hooks[1]()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "visualization.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nload average at start: {results['load_average']}")


if __name__ == "__main__":
    main()
