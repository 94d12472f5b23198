"""Experiments for the figure tests: a real `tuner.tune` run, and a synthetic 10,000-trial store.

The small experiment runs real function trials (threads) into a SQLite file; the large one is written
through the store API in bulk (trials created and settled, metric points in batches), as the controller
would leave it, since running 10,000 real trials would take minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

import tuner

SPACE = {
    "lr": tuner.search.double(1e-4, 1e-1, log=True),
    "layers": tuner.search.int(1, 6),
    "optimizer": tuner.search.categorical(["sgd", "adam", "rmsprop"]),
}
SMALL_TRIALS = 12
STEPS = 4


def objective(params: dict[str, Any]) -> dict[str, float]:
    """A score that grows with layers and depends on lr; `cost` grows with layers (a real trade-off)."""
    base = (
        params["layers"] - abs(math.log10(params["lr"]) + 2.5) + (0.5 if params["optimizer"] == "adam" else 0)
    )
    for step in range(1, STEPS + 1):
        tuner.report(step=step, score=base * step / STEPS)
    return {"score": base, "cost": params["layers"] * 1.5 + params["lr"]}


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite store holding experiment `small`: SMALL_TRIALS real trials, two metrics, series of STEPS."""
    folder = tmp_path_factory.mktemp("viz-small")
    url = f"sqlite:///{folder / 'tuner.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("TUNER_HOME", str(folder / "home"))
    try:
        tuner.tune(
            objective,
            SPACE,
            name="small",
            objective_metric_name="score",
            additional_metric_names=["cost"],
            metric_strategies={"cost": "min"},
            algorithm_name="random",
            algorithm_settings={"random_state": 5},
            max_trial_count=SMALL_TRIALS,
            threads=True,
            store=url,
            verbose=False,
        )
        yield url
    finally:
        mp.undo()


BIG_TRIALS = 10_000
BIG_STEPS = 5


def build_big(
    url: str, trials: int = BIG_TRIALS, steps: int = BIG_STEPS, name: str = "big", started_every: int = 10
) -> None:
    """`trials` settled trials (every 50th Failed; every `started_every`th went through Running), with
    `steps` points of `accuracy` and one of `loss`."""
    from tuner.states import ExperimentState, TrialState
    from tuner.store import open_store
    from tuner.store.records import Assignment, Observation

    spec = {
        "apiVersion": "tuner.dev/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
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
                {
                    "name": "optimizer",
                    "parameterType": "categorical",
                    "feasibleSpace": {"list": ["sgd", "adam"]},
                },
            ],
        },
    }
    store = open_store(url)
    try:
        record = store.create_experiment(name, spec, "sha256:0")
        points: list[Observation] = []
        for n in range(trials):
            lr = 1e-4 * 10 ** (4 * ((n * 7919) % 10007) / 10007)
            layers = n % 8 + 1
            assignments = [
                Assignment("lr", repr(lr), lr),
                Assignment("layers", str(layers), float(layers)),
                Assignment("optimizer", "adam" if n % 2 else "sgd"),
            ]
            trial = store.create_trial(record.id, f"{name}-{n:06d}", assignments, number=n)
            if n % started_every == 0:  # a start time, for the timeline (one more write per trial)
                store.transition_trial(trial.id, TrialState.RUNNING)
            store.transition_trial(trial.id, TrialState.FAILED if n % 50 == 49 else TrialState.SUCCEEDED)
            value = ((n * 7919) % 10007) / 10007
            points += [Observation(trial.id, "accuracy", value * s / steps, s) for s in range(1, steps + 1)]
            points.append(Observation(trial.id, "loss", 1 - value + layers / 10, steps))
            if len(points) >= 50_000:
                store.log_metrics(points)
                points = []
        store.log_metrics(points)
        store.update_experiment_status(record.id, ExperimentState.SUCCEEDED, {})
    finally:
        store.close()


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('viz-big') / 'tuner.db'}"
    build_big(url)
    return url
