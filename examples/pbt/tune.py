"""Population based training from Python: the toy of toy.py, a member per trial, a generation per round.

    .venv/bin/python examples/pbt/tune.py

The objective finds its checkpoint folder with `tuner.checkpoint_dir()`: with pbt it starts as a copy of
the parent's (the member this trial continues), so "load, train a little, save" is all it does. The
output shows the best loss of each generation going down.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so that `import toy` finds the sibling file

import toy


def objective(params: dict[str, Any]) -> float:
    """Train one generation of one member from its checkpoint; the loss is the objective."""
    import tuner

    return toy.train_generation(params["lr"], tuner.checkpoint_dir())


def generations(result: Any) -> dict[int, float]:
    """The best loss of each generation, from the trials' pbt labels."""
    from suggestions.pbt import GENERATION_LABEL

    best: dict[int, float] = {}
    for t in result.trials:
        if t.value is not None and GENERATION_LABEL in t.labels:
            g = int(t.labels[GENERATION_LABEL])
            best[g] = min(best.get(g, math.inf), t.value)
    return dict(sorted(best.items()))


def run(n_population: int = 8, n_generations: int = 5, name: str = "pbt-toy", **options: Any) -> Any:
    """Tune the toy with pbt: `n_generations` generations of `n_population` members."""
    import tuner

    return tuner.tune(
        objective,
        parameters={"lr": tuner.search.double(1e-4, 0.1, log=True)},
        name=name,
        objective_metric_name="loss",
        objective_type="minimize",
        algorithm_name="pbt",
        algorithm_settings={"n_population": n_population, "truncation_threshold": 0.25, "random_state": 1},
        max_trial_count=n_population * n_generations,
        parallel_trial_count=n_population,
        **options,
    )


def main() -> int:
    result = run()
    for g, value in generations(result).items():
        print(f"generation {g}: best loss {value:.3g}")
    print(result.best_trial)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
