"""Per-problem pairwise P (the harness's "clearly" measure) of one optimizer against a reference.

    PYTHONPATH=/path/to/repo python -m benchmarks.hpo_pairs RESULTS.json [...] --optimizer tuner-tpe --reference optuna-tpe

Run from the folder holding ``bench/`` (the shared harness). P = P(optimizer's seed beats the reference's
seed) + half the ties; "clearly better" is P >= 0.8, "clearly worse" P <= 0.2, as in ``bench.hpo.report``.
"""

from __future__ import annotations

import argparse

from bench.hpo.report import _less_eq, collect, load_runs, order_problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+")
    parser.add_argument("--optimizer", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--budgets", default="20,50,100")
    args = parser.parse_args()
    runs, _ = load_runs(args.results)
    budgets = [int(b) for b in args.budgets.split(",")]
    print("| problem | " + " | ".join(f"P @{b}" for b in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    data = {b: collect(runs, b) for b in budgets}
    for problem in order_problems(runs):
        cells = []
        for b in budgets:
            d = data[b].get(problem, {})
            if len(d.get(args.optimizer, [])) and len(d.get(args.reference, [])):
                lt, eq = _less_eq(d[args.optimizer], d[args.reference])
                p = lt + 0.5 * eq
                mark = " (better)" if p >= 0.8 - 1e-9 else " (worse)" if p <= 0.2 + 1e-9 else ""
                cells.append(f"{p:.2f}{mark}")
            else:
                cells.append("n/a")
        print(f"| {problem} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
