"""`load_experiment_data` of the 10,000-trial experiment, this tree against an older checkout, same stores.

Run by hand, from the repository root:

    git archive <older commit> | tar -x -C /tmp/before
    nice -n 10 .venv/bin/python benchmarks/load_data.py --baseline /tmp/before [--sqlite FILE] [--sqlite-only]

The experiment is `benchmarks/server.py`'s (written once per backend; `--sqlite FILE` reuses a SQLite file
that holds it). Each tree runs in its own interpreter (PYTHONPATH), alternating, `--repeats` loads each
after one untimed load; wall and CPU (user + sys of the process: steadier than wall on a shared machine)
medians are printed and written to benchmarks/results/load_data.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = """
import json, sys, time
from tuner.store import open_store
from tuner.visualization import load_experiment_data
store = open_store(sys.argv[1])
load_experiment_data(store, "big")
out = []
for _ in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    data = load_experiment_data(store, "big")
    out.append((time.perf_counter() - wall, time.process_time() - cpu))
assert len(data.trials) > 0
print(json.dumps(out))
"""


def probe(tree: Path, url: str, repeats: int) -> list[tuple[float, float]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, str(repeats)], env=env, capture_output=True, text=True, cwd=tree
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return [tuple(p) for p in json.loads(done.stdout)]


def main() -> None:
    from benchmarks.server import DEFAULT_PG, _postgres_database, seed_tuner

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--sqlite", help="a SQLite file that already holds the experiment")
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"now": ROOT, **({"before": args.baseline.resolve()} if args.baseline else {})}
    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as folder:
        targets = []
        if args.sqlite:
            targets.append(("SQLite", f"sqlite:///{Path(args.sqlite).resolve()}", None))
        else:
            url = f"sqlite:///{folder}/big.db"
            seed_tuner(url, args.trials, 100)
            targets.append(("SQLite", url, None))
        if not args.sqlite_only:
            url, hooks = _postgres_database(args.postgres)
            targets.append(("PostgreSQL", url, hooks))
        try:
            for label, url, hooks in targets:
                if hooks is not None:
                    seed_tuner(url, args.trials, 100)
                    hooks[0]()
                runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
                for _ in range(args.rounds):  # alternate, so that both see the same moments of load
                    for name, tree in trees.items():
                        runs[name] += probe(tree, url, args.repeats)
                results[label] = {
                    name: {
                        "wall_ms": 1000 * statistics.median(w for w, _ in times),
                        "cpu_ms": 1000 * statistics.median(c for _, c in times),
                        "n": len(times),
                    }
                    for name, times in runs.items()
                }
                print(label, json.dumps(results[label]), flush=True)
        finally:
            for _, _, hooks in targets:
                if hooks is not None:
                    hooks[1]()
    results["load_average_end"] = os.getloadavg()
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "load_data.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
