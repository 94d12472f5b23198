"""Write and query throughput of the metadata store, side by side with MLflow's and Optuna's stores.

Run by hand (never as a timed test), from the repository root:

    python benchmarks/store.py                       # everything, about 5-10 minutes on 2 cores
    python benchmarks/store.py --quick               # smaller sizes, for a smoke run

What it measures, all on SQLite files in one folder of the same disk (`--workdir`), in the same run:

* tuner: single metric writes (one `log_metric` = one transaction), batched metric points
  (`log_metrics` with 1,000 points per call, MLflow's `log_batch` limit, and with 100,000), trial
  lifecycles (create, Running, 1 metric, Succeeded); best trial of a 10,000-trial experiment with 100
  steps per trial, on SQLite and on PostgreSQL.
* MLflow's tracking store: `log_metric` calls/s and `log_batch` metrics/s (1,000 per call, MLflow's
  limit), through a subprocess in a separate virtualenv (`--mlflow-python`), since MLflow is not a
  dependency of the project and must not change the project's environment.
* Optuna's RDBStorage: trials/s with the random sampler and a trivial objective.

Durability differs between the sides as shipped: tuner runs SQLite in WAL mode with `synchronous=NORMAL`
(a power cut may lose the last commits, never corrupt the file); MLflow and Optuna leave SQLite at its
defaults (rollback journal, `synchronous=FULL`: every commit waits for the disk). So every write figure is
measured twice, once with each side's own settings and once with both sides on the same settings (the
references on WAL + NORMAL through a SQLAlchemy connect hook; tuner on the rollback journal + FULL), and
the PRAGMAs in effect are read back from each side's own connections and reported.

The machine is shared and noisy: every figure is the median of several repeats, and the ratios to the
reference tools, measured seconds apart, are what to compare across machines. Results are printed as a
Markdown table (paste it into benchmarks/README.md) and saved to benchmarks/results/store.json.
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
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tuner.store import open_store  # noqa: E402
from tuner.store.records import Assignment, Goal, MetricStrategy, Observation  # noqa: E402

DEFAULT_PG = os.environ.get("TUNER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEFAULT_MLFLOW_PYTHON = "/work/venvs/mlflow/bin/python"

MLFLOW_SCRIPT = r"""
import json, sys, time, statistics
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

uri, singles, batches, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mode = sys.argv[5]  # "own": MLflow's defaults; "wal-normal": tuner's durability settings
if mode == "wal-normal":
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _wal_normal(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

client = MlflowClient(tracking_uri=uri)
experiment = client.create_experiment("bench")  # creates and migrates the database (not timed)
single_rates, batch_rates = [], []
for r in range(repeats):
    run = client.create_run(experiment).info.run_id
    start = time.perf_counter()
    for i in range(singles):
        client.log_metric(run, "loss", float(i), step=i)
    single_rates.append(singles / (time.perf_counter() - start))
    now = int(time.time() * 1000)
    start = time.perf_counter()
    for b in range(batches):
        client.log_batch(run, metrics=[Metric("acc", float(j), now, b * 1000 + j) for j in range(1000)])
    batch_rates.append(batches * 1000 / (time.perf_counter() - start))
pragmas = {}
try:
    with client._tracking_client.store.engine.connect() as conn:
        for name in ("journal_mode", "synchronous"):
            pragmas[name] = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
except Exception as exc:  # a private attribute: say so rather than guess
    pragmas = {"error": repr(exc)}
print(json.dumps({"version": mlflow.__version__, "log_metric": statistics.median(single_rates),
                  "log_batch": statistics.median(batch_rates), "pragmas": pragmas}))
"""


def median_rate(count: int, repeats: int, body: Callable[[int], None]) -> float:
    """Median of `count / seconds` over `repeats` runs of `body(repeat_index)`."""
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        body(r)
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def median_ms(repeats: int, body: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def pragmas_of(cursor: Any) -> dict[str, Any]:
    """The durability settings in effect on one SQLite connection."""
    journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
    return {"journal_mode": journal, "synchronous": SYNCHRONOUS.get(synchronous, synchronous)}


def with_durability(mode: str) -> dict[str, Any]:
    """Make tuner's SQLite connections use `mode` ("own": WAL + NORMAL as shipped; "reference-defaults":
    SQLite's defaults, as MLflow and Optuna run); returns the PRAGMAs read back from its last connection."""
    from tuner.store import _engine

    original = getattr(_engine, "_original_configure_sqlite", _engine.configure_sqlite)
    _engine._original_configure_sqlite = original  # type: ignore[attr-defined]
    seen: dict[str, Any] = {}

    def configure(dbapi_connection: Any, *, file_backed: bool) -> None:
        original(dbapi_connection, file_backed=file_backed)
        cursor = dbapi_connection.cursor()
        if mode == "reference-defaults":
            cursor.execute("PRAGMA journal_mode = DELETE")
            cursor.execute("PRAGMA synchronous = FULL")
        seen.update(pragmas_of(cursor))
        cursor.close()

    _engine.configure_sqlite = configure  # type: ignore[assignment]
    return seen


def bench_tuner_writes(
    workdir: Path, singles: int, batch: int, lifecycles: int, repeats: int, mode: str = "own"
) -> dict[str, Any]:
    pragmas = with_durability(mode)
    store = open_store(f"sqlite:///{workdir / f'tuner-writes-{mode}.db'}")
    experiment = store.create_experiment("writes", {}, "d").id
    trial = store.create_trial(experiment, "t", [Assignment("x", "1", 1.0)]).id

    def single(r: int) -> None:
        base = r * singles
        for i in range(singles):
            store.log_metric(trial, "loss", float(i), step=base + i)

    def batched(r: int) -> None:
        base = 10_000_000 + r * batch
        store.log_metrics([Observation(trial, "acc", float(i), base + i) for i in range(batch)])

    def batched_like_mlflow(r: int) -> None:  # MLflow's log_batch takes at most 1,000 metrics per call
        base = 50_000_000 + r * batch
        for first in range(0, batch, 1000):
            store.log_metrics(
                [Observation(trial, "f1", float(i), base + i) for i in range(first, first + 1000)]
            )

    def lifecycle(r: int) -> None:
        from tuner.states import TrialState

        for i in range(lifecycles):
            created = store.create_trial(experiment, f"l{r}-{i}", [Assignment("x", str(i), float(i))])
            store.transition_trial(created.id, TrialState.RUNNING)
            store.log_metric(created.id, "loss", float(i))
            store.transition_trial(created.id, TrialState.SUCCEEDED)

    result = {
        "single_writes_per_s": median_rate(singles, repeats, single),
        "batched_points_per_s": median_rate(batch, repeats, batched),
        "batched_1000_points_per_s": median_rate(batch, repeats, batched_like_mlflow),
        "trial_lifecycles_per_s": median_rate(lifecycles, repeats, lifecycle),
        "pragmas": dict(pragmas),
    }
    store.close()
    with_durability("own")
    return result


def bench_best_trial(url: str, trials: int, steps: int, repeats: int) -> dict[str, float]:
    """Fill an experiment with `trials` x `steps` points, then time best_trial and compare_trials."""
    store = open_store(url)
    experiment = store.create_experiment(f"best-{uuid.uuid4().hex[:6]}", {}, "d").id
    start = time.perf_counter()
    ids = [
        store.create_trial(experiment, f"t{n}", [Assignment("lr", str(n), float(n))], number=n).id
        for n in range(trials)
    ]
    created = time.perf_counter() - start
    start = time.perf_counter()
    chunk = max(1, 100_000 // steps)
    for first in range(0, trials, chunk):
        store.log_metrics(
            [
                Observation(t, "loss", 1.0 / (1 + s) + (t % 997) / 1000, s, 1_000_000.0 + s)
                for t in ids[first : first + chunk]
                for s in range(steps)
            ]
        )
    filled = time.perf_counter() - start
    result: dict[str, float] = {
        "points": trials * steps,
        "create_trials_s": created,
        "fill_points_per_s": trials * steps / filled,
    }
    for strategy in MetricStrategy:
        best = store.best_trial(experiment, "loss", Goal.MINIMIZE, strategy)
        assert best is not None
        result[f"best_{strategy.value}_ms"] = median_ms(
            repeats, lambda s=strategy: store.best_trial(experiment, "loss", Goal.MINIMIZE, s)
        )
    result["best_maximize_latest_ms"] = median_ms(
        repeats, lambda: store.best_trial(experiment, "loss", Goal.MAXIMIZE, MetricStrategy.LATEST)
    )
    result["compare_table_ms"] = median_ms(3, lambda: store.compare_trials(experiment, metrics=["loss"]))
    result["one_series_ms"] = median_ms(repeats, lambda: store.metric_series(ids[trials // 2], "loss"))
    store.close()
    return result


def bench_optuna(workdir: Path, trials: int, repeats: int, mode: str = "own") -> dict[str, Any]:
    import optuna
    from sqlalchemy import event

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / f'optuna-{mode}.db'}")  # creates the schema
    if mode == "wal-normal":  # tuner's durability settings, on every connection from now on

        def wal_normal(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

        event.listen(storage.engine, "connect", wal_normal)
        storage.engine.dispose()

    def run(r: int) -> None:
        study = optuna.create_study(
            study_name=f"bench-{r}", storage=storage, sampler=optuna.samplers.RandomSampler(seed=r)
        )
        study.optimize(lambda t: (t.suggest_float("x", -10, 10) - 2) ** 2 + t.suggest_int("n", 1, 5), trials)

    rate = median_rate(trials, repeats, run)
    with storage.engine.connect() as conn:
        pragmas = pragmas_of(conn.connection.dbapi_connection.cursor())
    return {"version": optuna.__version__, "trials_per_s": rate, "pragmas": pragmas}


def bench_mlflow(
    workdir: Path, python: str, singles: int, batches: int, repeats: int, mode: str = "own"
) -> dict[str, Any]:
    if not Path(python).exists():
        return {"error": f"no MLflow interpreter at {python}; see benchmarks/README.md"}
    script = workdir / "mlflow_bench.py"
    script.write_text(MLFLOW_SCRIPT)
    uri = f"sqlite:///{workdir / f'mlflow-{mode}.db'}"
    done = subprocess.run(
        [python, str(script), uri, str(singles), str(batches), str(repeats), mode],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=workdir,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new PostgreSQL database for the run, and a function that drops it."""
    import psycopg

    admin = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"tuner_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{server_url.rpartition('/')[0]}/{name}", drop


def table(results: dict[str, Any]) -> str:
    tuner_own, tuner_full = results["tuner"]["own"], results["tuner"]["reference-defaults"]
    mlflow_own, mlflow_wal = results["mlflow"]["own"], results["mlflow"]["wal-normal"]
    optuna_own, optuna_wal = results["optuna"]["own"], results["optuna"]["wal-normal"]
    bs, bp = results["best_sqlite"], results.get("best_postgresql", {})

    def ratio(a: Any, b: Any) -> str:
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b
        return f"{a / b:,.1f}x" if ok else "n/a"

    def num(value: Any, fmt: str = ",.0f") -> str:
        return format(value, fmt) if isinstance(value, (int, float)) else "n/a"

    # (durability label, tuner's figures, MLflow's, Optuna's) for the three ways of comparing
    settings = [
        ("each side's own", tuner_own, mlflow_own, optuna_own),
        ("both WAL + NORMAL", tuner_own, mlflow_wal, optuna_wal),
        ("both rollback journal + FULL", tuner_full, mlflow_own, optuna_own),
    ]
    lines = [
        "| measure (SQLite) | durability | tuner | MLflow | Optuna RDB | tuner / reference |",
        "|---|---|---|---|---|---|",
    ]
    for label, t, m, _ in settings:
        lines.append(
            f"| single metric writes/s (`log_metric`) | {label} | {num(t['single_writes_per_s'])} | "
            f"{num(m.get('log_metric'))} | | {ratio(t['single_writes_per_s'], m.get('log_metric'))} |"
        )
    for label, t, m, _ in settings:
        lines.append(
            f"| metric points/s, 1,000 per call (MLflow's `log_batch` limit) | {label} | "
            f"{num(t['batched_1000_points_per_s'])} | {num(m.get('log_batch'))} | | "
            f"{ratio(t['batched_1000_points_per_s'], m.get('log_batch'))} |"
        )
    for label, t in (("tuner's own", tuner_own), ("rollback journal + FULL", tuner_full)):
        lines.append(
            f"| metric points/s, {results['batch']:,} per call (MLflow: not allowed) | {label} | "
            f"{num(t['batched_points_per_s'])} | | | |"
        )
    for label, t, _, o in settings:
        lines.append(
            f"| trials/s (create, run, 1 metric, finish; Optuna: random sampler) | {label} | "
            f"{num(t['trial_lifecycles_per_s'])} | | {num(o.get('trials_per_s'))} | "
            f"{ratio(t['trial_lifecycles_per_s'], o.get('trials_per_s'))} |"
        )
    size = f"{results['trials']:,} trials x {results['steps']} steps"
    for backend, best in (("SQLite", bs), ("PostgreSQL", bp)):
        if best:
            lines.append(
                f"| best trial of {size}, {backend} (ms; latest/min/max) | tuner's own | "
                f"{num(best['best_latest_ms'], '.2f')} / {num(best['best_min_ms'], '.2f')} / "
                f"{num(best['best_max_ms'], '.2f')} | | | |"
            )

    def shown(p: Any) -> str:
        if not isinstance(p, dict):
            return "n/a"
        return f"{p.get('journal_mode')} + {SYNCHRONOUS.get(p.get('synchronous'), p.get('synchronous'))}"

    lines.append("")
    lines.append(
        "PRAGMAs read back (journal_mode + synchronous): "
        f"tuner own {shown(tuner_own.get('pragmas'))}, tuner forced {shown(tuner_full.get('pragmas'))}; "
        f"MLflow own {shown(mlflow_own.get('pragmas'))}, forced {shown(mlflow_wal.get('pragmas'))}; "
        f"Optuna own {shown(optuna_own.get('pragmas'))}, forced {shown(optuna_wal.get('pragmas'))}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="folder for the SQLite files (default: a temp dir)"
    )
    parser.add_argument("--postgres", default=DEFAULT_PG, help="PostgreSQL server URL ('' to skip)")
    parser.add_argument("--mlflow-python", default=DEFAULT_MLFLOW_PYTHON, help="python of a venv with mlflow")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--trials", type=int, default=None, help="trials of the best-trial experiment")
    parser.add_argument(
        "--skip-best", action="store_true", help="measure the writes only (no best-trial part)"
    )
    args = parser.parse_args()

    quick = args.quick
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tuner-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    repeats = 3
    trials, steps = (500, 100) if quick else (10_000, 100)
    trials = args.trials or trials
    results: dict[str, Any] = {"workdir": str(workdir), "quick": quick, "trials": trials, "steps": steps}

    batch = 20_000 if quick else 100_000
    results["batch"] = batch
    print(f"workdir: {workdir}", file=sys.stderr)
    results["tuner"], results["mlflow"], results["optuna"] = {}, {}, {}
    for mode in ("own", "reference-defaults"):
        print(f"tuner writes ({mode}) ...", file=sys.stderr)
        results["tuner"][mode] = bench_tuner_writes(
            workdir, singles=1000 if quick else 5000, batch=batch,
            lifecycles=50 if quick else 300, repeats=repeats, mode=mode,
        )  # fmt: skip
    for mode in ("own", "wal-normal"):
        print(f"mlflow ({mode}) ...", file=sys.stderr)
        results["mlflow"][mode] = bench_mlflow(
            workdir, args.mlflow_python, 100 if quick else 300, 5 if quick else 20, repeats, mode
        )
        print(f"optuna ({mode}) ...", file=sys.stderr)
        results["optuna"][mode] = bench_optuna(workdir, 30 if quick else 100, repeats, mode)
    results["best_sqlite"] = {}
    if not args.skip_best:
        print(f"best trial on SQLite ({trials} x {steps}) ...", file=sys.stderr)
        results["best_sqlite"] = bench_best_trial(f"sqlite:///{workdir / 'tuner-best.db'}", trials, steps, 25)
    if args.postgres and not args.skip_best:
        print(f"best trial on PostgreSQL ({trials} x {steps}) ...", file=sys.stderr)
        url, drop = postgres_database(args.postgres)
        try:
            results["best_postgresql"] = bench_best_trial(url, trials, steps, 25)
        finally:
            drop()

    out = ROOT / "benchmarks" / "results" / "store.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print(table(results))


if __name__ == "__main__":
    main()
