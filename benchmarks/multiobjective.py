"""Multi-objective benchmark: hypervolume of the Pareto front found in a fixed trial budget.

Run by hand (never as a test), nice'd on a shared machine:

    nice -n 10 .venv/bin/python benchmarks/multiobjective.py --trials 60 --seeds 3

Problems (written here, standard definitions, all minimised): ZDT1 (convex front) and ZDT2 (concave
front) with 6 variables, DTLZ2 with 3 objectives and 6 variables. Contestants: tuner's `nsga2`, `nsga3`,
`motpe`, `auto` and `random`, called as the controller calls them (stateless: the whole history on every
call, one trial at a time), and optuna's samplers driven directly by `study.optimize` with their defaults
(NSGAIISampler, NSGAIIISampler, TPESampler, RandomSampler). The quality measure is the hypervolume of
the observed points against a fixed reference point (exact, computed here by slicing), higher is better;
the average rank is over every (problem, seed) pair (1 = best). Prints a Markdown table for
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

Objectives = Callable[[np.ndarray], tuple[float, ...]]


@dataclass(frozen=True)
class Problem:
    name: str
    dims: int
    objectives: int
    evaluate: Objectives
    reference: tuple[float, ...]


def zdt1(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * float(np.sum(x[1:])) / (len(x) - 1)
    return float(x[0]), g * (1 - math.sqrt(x[0] / g))


def zdt2(x: np.ndarray) -> tuple[float, float]:
    g = 1 + 9 * float(np.sum(x[1:])) / (len(x) - 1)
    return float(x[0]), g * (1 - (x[0] / g) ** 2)


def dtlz2(x: np.ndarray, m: int = 3) -> tuple[float, ...]:
    g = float(np.sum((x[m - 1 :] - 0.5) ** 2))
    out = []
    for i in range(m):
        f = 1 + g
        for j in range(m - 1 - i):
            f *= math.cos(x[j] * math.pi / 2)
        if i > 0:
            f *= math.sin(x[m - 1 - i] * math.pi / 2)
        out.append(f)
    return tuple(out)


PROBLEMS = (
    Problem("zdt1", 6, 2, zdt1, (1.1, 11.0)),  # worst values: f1 <= 1, f2 <= g <= 10
    Problem("zdt2", 6, 2, zdt2, (1.1, 11.0)),
    Problem("dtlz2", 6, 3, dtlz2, (2.2, 2.2, 2.2)),  # g <= 4 * 0.25 = 1, so every f <= 2
)


# -- hypervolume -------------------------------------------------------------------------------------------


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """The volume dominated by `points` (minimised) and bounded by `reference`: exact, by slicing along the
    last objective (O(n^(d-1) log n), fine for the few hundred points here)."""
    inside = [tuple(p) for p in points if all(a < r for a, r in zip(p, reference, strict=True))]
    if not inside:
        return 0.0
    if len(reference) == 1:
        return reference[0] - min(p[0] for p in inside)
    inside.sort(key=lambda p: p[-1])
    total = 0.0
    for i, p in enumerate(inside):
        top = inside[i + 1][-1] if i + 1 < len(inside) else reference[-1]
        if top > p[-1]:
            total += (top - p[-1]) * hypervolume([q[:-1] for q in inside[: i + 1]], reference[:-1])
    return total


# -- contestants -------------------------------------------------------------------------------------------


def run_tuner(algorithm: str, problem: Problem, seed: int, trials: int) -> list[tuple[float, ...]]:
    """Drive a tuner algorithm as the controller does: the whole history on every call, k = 1."""
    from suggestions import Direction, History, TrialRecord, get_suggester
    from tuner.space import SearchSpace
    from tuner.states import TrialState

    names = [f"x{i}" for i in range(problem.dims)]
    space = SearchSpace.from_dict(
        [{"name": n, "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}} for n in names]
    )
    suggester = get_suggester(algorithm)
    directions = (Direction.MINIMIZE,) * problem.objectives
    records: list[TrialRecord] = []
    values: list[tuple[float, ...]] = []
    for i in range(trials):
        history = History(tuple(records), directions=directions)
        [a] = suggester.suggest(space, {"random_state": str(seed)}, history, 1, budget=trials)
        f = problem.evaluate(np.array([float(a[n]) for n in names]))  # type: ignore[arg-type]
        records.append(TrialRecord(f"t{i}", a, TrialState.SUCCEEDED, f[0], values=f))
        values.append(f)
    return values


def run_optuna(sampler_name: str, problem: Problem, seed: int, trials: int) -> list[tuple[float, ...]]:
    """optuna's sampler with its defaults, driven by `study.optimize`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {
        "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
        "nsga3": lambda: optuna.samplers.NSGAIIISampler(seed=seed),
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            directions=["minimize"] * problem.objectives, sampler=samplers[sampler_name]()
        )

        def objective(trial: optuna.Trial) -> tuple[float, ...]:
            x = np.array([trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(problem.dims)])
            return problem.evaluate(x)

        study.optimize(objective, n_trials=trials)
    return [tuple(t.values) for t in study.trials]


CONTESTANTS: dict[str, Callable[[Problem, int, int], list[tuple[float, ...]]]] = {
    "tuner auto": lambda p, s, n: run_tuner("auto", p, s, n),
    "tuner motpe": lambda p, s, n: run_tuner("motpe", p, s, n),
    "tuner nsga2": lambda p, s, n: run_tuner("nsga2", p, s, n),
    "tuner nsga3": lambda p, s, n: run_tuner("nsga3", p, s, n),
    "tuner random": lambda p, s, n: run_tuner("random", p, s, n),
    "optuna TPESampler": lambda p, s, n: run_optuna("tpe", p, s, n),
    "optuna NSGAIISampler": lambda p, s, n: run_optuna("nsga2", p, s, n),
    "optuna NSGAIIISampler": lambda p, s, n: run_optuna("nsga3", p, s, n),
    "optuna RandomSampler": lambda p, s, n: run_optuna("random", p, s, n),
}


def ranks(scores: dict[str, float]) -> dict[str, float]:
    """Rank 1 for the highest hypervolume; ties share their mean rank."""
    ordered = sorted(scores, key=lambda c: -scores[c])
    out: dict[str, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and scores[ordered[j + 1]] == scores[ordered[i]]:
            j += 1
        for c in ordered[i : j + 1]:
            out[c] = (i + j) / 2 + 1
        i = j + 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="contestants to run (default: all)")
    args = parser.parse_args(argv)
    chosen = {k: v for k, v in CONTESTANTS.items() if not args.only or k in args.only}
    hv: dict[tuple[str, str], list[float]] = {}
    seconds: dict[str, float] = dict.fromkeys(chosen, 0.0)
    rank_sum: dict[str, list[float]] = {c: [] for c in chosen}
    for problem in PROBLEMS:
        for seed in range(args.seeds):
            scores = {}
            for contestant, run in chosen.items():
                start = time.perf_counter()
                values = run(problem, seed, args.trials)
                seconds[contestant] += time.perf_counter() - start
                scores[contestant] = hypervolume(values, problem.reference)
                hv.setdefault((contestant, problem.name), []).append(scores[contestant])
                print(f"{problem.name} seed {seed} {contestant}: {scores[contestant]:.4f}", file=sys.stderr)
            for contestant, r in ranks(scores).items():
                rank_sum[contestant].append(r)
    header = " | ".join(f"{p.name} ({p.objectives} obj.)" for p in PROBLEMS)
    print(f"| contestant | {header} | average rank | seconds |")
    print("|---|" + "---|" * len(PROBLEMS) + "---|---|")
    for contestant in sorted(chosen, key=lambda c: statistics.mean(rank_sum[c])):
        cells = []
        for p in PROBLEMS:
            values = hv[(contestant, p.name)]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f} ± {spread:.3f}")
        print(
            f"| {contestant} | {' | '.join(cells)} | {statistics.mean(rank_sum[contestant]):.2f} | "
            f"{seconds[contestant]:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
