"""Adapter between the shared HPO benchmark harness (``bench/hpo``) and tuner's suggestion algorithms.

The harness calls ``create_optimizer(space, seed)`` with its neutral space dict and drives the object
through ``ask()`` / ``tell(params, value)`` (minimisation). Every ``ask`` goes through the public
contract exactly as the controller uses it: the whole history is passed to ``Suggester.suggest`` on each
call, with ``random_state`` set to the seed. The algorithm is named by ``HPO_BENCH_ALGORITHM`` (default
``auto``); extra settings may be given as ``HPO_BENCH_SETTINGS="name=value,name=value"``.

For ``grid`` every continuous parameter gets a grid: ``ceil(HPO_BENCH_GRID_POINTS ** (1 / d))`` values
(default 100 points overall, d = number of continuous parameters), evenly spaced, geometrically for
log-scale parameters (as a discrete list). ``hyperband`` needs a resource parameter and is not part of
this comparison.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

from suggestions.history import History, TrialRecord
from suggestions.registry import get_suggester
from tuner.space import Assignment, DiscreteParameter, NumericRange, SearchSpace
from tuner.states import TrialState

ALGORITHM_ENV = "HPO_BENCH_ALGORITHM"
SETTINGS_ENV = "HPO_BENCH_SETTINGS"
GRID_POINTS_ENV = "HPO_BENCH_GRID_POINTS"


def create_optimizer(space: dict[str, dict[str, Any]], seed: int) -> ContractOptimizer:
    """The harness's factory: the algorithm from HPO_BENCH_ALGORITHM (default ``auto``)."""
    algorithm = os.environ.get(ALGORITHM_ENV, "auto")
    settings = dict(item.split("=", 1) for item in os.environ.get(SETTINGS_ENV, "").split(",") if item)
    return ContractOptimizer(space, seed, algorithm, settings)


class ContractOptimizer:
    """ask/tell over `Suggester.suggest` with the full history on every call."""

    def __init__(
        self, space: dict[str, dict[str, Any]], seed: int, algorithm: str, settings: dict[str, str]
    ) -> None:
        self.neutral = space
        grid = algorithm == "grid"
        self.space = SearchSpace.from_dict(
            [_parameter(name, spec, _grid_values(space) if grid else 0) for name, spec in space.items()]
        )
        self.suggester = get_suggester(algorithm)
        self.settings = {"random_state": str(seed), **settings}
        problems = self.suggester.validate(self.settings, self.space)
        if problems:
            raise ValueError(f"{algorithm}: " + "; ".join(map(str, problems)))
        self.trials: list[TrialRecord] = []

    def ask(self) -> dict[str, Any]:
        history = History(tuple(self.trials))
        (a,) = self.suggester.suggest(self.space, self.settings, history, 1)
        self.trials.append(TrialRecord(f"t{len(self.trials)}", a, TrialState.RUNNING))
        return self._neutral(a)

    def ask_batch(self, k: int) -> list[dict[str, Any]]:
        """k points from one `suggest(..., k)` call, all pending until told (batch benchmark)."""
        history = History(tuple(self.trials))
        out = self.suggester.suggest(self.space, self.settings, history, k)
        for a in out:
            self.trials.append(TrialRecord(f"t{len(self.trials)}", a, TrialState.RUNNING))
        return [self._neutral(a) for a in out]

    def tell(self, params: dict[str, Any], value: float) -> None:
        a = self._assignment(params)
        for i, t in enumerate(self.trials):
            if t.state == TrialState.RUNNING and t.assignment == a:
                self.trials[i] = TrialRecord(t.name, a, TrialState.SUCCEEDED, float(value))
                return
        self.trials.append(TrialRecord(f"t{len(self.trials)}", a, TrialState.SUCCEEDED, float(value)))

    def tell_many(self, observations: Iterable[tuple[dict[str, Any], float]]) -> None:
        for params, value in observations:
            a = self._assignment(params)
            self.trials.append(TrialRecord(f"t{len(self.trials)}", a, TrialState.SUCCEEDED, float(value)))

    def _neutral(self, a: Assignment) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in self.neutral.items():
            v = a[name]
            if spec["type"] == "cat":
                v = next(c for c in spec["choices"] if str(c) == v)
            elif spec["type"] == "int":
                v = int(v)
            else:
                v = float(v)
            out[name] = v
        return out

    def _assignment(self, params: dict[str, Any]) -> Assignment:
        """The harness's point in the project's space; off-grid points (external tells) are snapped."""
        values: dict[str, Any] = {}
        for name, spec in self.neutral.items():
            v, p = params[name], self.space[name]
            if spec["type"] == "cat":
                values[name] = str(v)
            elif isinstance(p, DiscreteParameter):  # a log-scale grid
                values[name] = min(p.values, key=lambda c: abs(math.log(float(c)) - math.log(float(v))))
            elif isinstance(p, NumericRange):
                values[name] = p.nearest(float(v))
        return self.space.coerce(values)


def _grid_values(space: dict[str, dict[str, Any]]) -> int:
    continuous = sum(1 for s in space.values() if s["type"] == "float")
    total = int(os.environ.get(GRID_POINTS_ENV, "100"))
    return max(2, math.ceil(total ** (1 / max(continuous, 1))))


def _parameter(name: str, spec: dict[str, Any], grid_values: int) -> dict[str, Any]:
    kind = spec["type"]
    if kind == "cat":
        return {
            "name": name,
            "parameterType": "categorical",
            "feasibleSpace": {"list": [str(c) for c in spec["choices"]]},
        }
    distribution = "logUniform" if spec.get("log") else "uniform"
    low, high = spec["low"], spec["high"]
    if kind == "int":
        fs = {"min": str(int(low)), "max": str(int(high)), "distribution": distribution}
        return {"name": name, "parameterType": "int", "feasibleSpace": fs}
    if grid_values and spec.get("log"):
        ratio = (high / low) ** (1 / (grid_values - 1))
        values = [low * ratio**i for i in range(grid_values - 1)] + [high]
        return {
            "name": name,
            "parameterType": "discrete",
            "feasibleSpace": {"list": [repr(float(v)) for v in values]},
        }
    fs = {"min": repr(float(low)), "max": repr(float(high)), "distribution": distribution}
    if grid_values:
        # A hair under the exact spacing: (high - low) / step must not round down to one point fewer.
        fs["step"] = repr((high - low) / (grid_values - 1) * (1 - 1e-12))
    return {"name": name, "parameterType": "double", "feasibleSpace": fs}
