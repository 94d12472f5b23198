"""Quickstart, Python-API variant: the same search as experiment.yaml, written as a function.

Runs once `tuner.tune` exists (it is planned with the controller, in the issue after the foundation);
until then this file documents the intended API and `python3 tune.py` stops with a clear message.

    python3 examples/quickstart/tune.py

The objective receives one dict of typed values (floats, ints, strings) per trial and returns its
metrics; the first-named metric is the objective.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so that `import train` finds the sibling file

import train  # the training code shared with experiment.yaml


def objective(params: dict[str, Any]) -> dict[str, float]:
    """Train with one parameter assignment; return the final epoch's metrics."""
    *_, last = train.train(params)
    return {"accuracy": last["accuracy"], "train_accuracy": last["train_accuracy"]}


def main() -> int:
    import tuner

    if not hasattr(tuner, "tune"):
        print(
            "tuner.tune is not available yet in this version; run experiment.yaml instead.", file=sys.stderr
        )
        return 2
    result = tuner.tune(
        objective,
        parameters={
            "lr": tuner.search.double(1e-3, 0.3, log=True),
            "alpha": tuner.search.double(1e-6, 1e-2, log=True),
            "loss": tuner.search.categorical(["hinge", "log_loss", "modified_huber"]),
            "epochs": tuner.search.int(5, 30),
        },
        objective_metric_name="accuracy",
        objective_type="maximize",
        additional_metric_names=["train_accuracy"],
        algorithm_name="tpe",
        max_trial_count=12,
        parallel_trial_count=2,
    )
    print(result.best_trial)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
