"""Held-out benchmark problems (issue 17): families `auto`'s rules were not chosen on.

`auto` was designed on the harness's seven public problems (``../shared/bench/hpo``). These six are
other families, written for this check and never used to tune anything:

- ``levy6``: Levy, 6-D on [-10, 10]: many regular local minima around a flat valley (f* = 0 at x = 1).
- ``noisy_camel``: six-hump camel, 2-D, Gaussian noise (sd 0.2) on every evaluation.
- ``noisy_styblinski4``: Styblinski-Tang, 4-D on [-5, 5], 2^4 basins, Gaussian noise (sd 3).
- ``catint8``: a synthetic "training run" over 3 categorical, 4 integer (2 log-scale) and 1 float
  parameters with interactions (the best depth depends on the activation, the best width on the depth,
  the best batch size on the optimizer); f* found by enumeration.
- ``styblinski24``: Styblinski-Tang, 24-D (above `auto`'s GP limit of 20 parameters).
- ``hgb_diabetes``: scikit-learn's HistGradientBoostingRegressor on the bundled diabetes data, 5
  parameters, 3-fold CV mean squared error over the target's variance (1 - R^2); f* unknown.

Noise is drawn from a generator seeded by the problem, the run's seed and the point, so a rerun sees the
same noise; `true` is the noise-free value, which the report uses for the point an optimizer would pick
(its best observed one).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import product
from typing import Any

import numpy as np

Space = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class HeldOutProblem:
    """A minimisation problem in the harness's neutral space format, with optional observation noise."""

    name: str
    space: Space
    true: Callable[[dict[str, Any]], float]
    f_opt: float | None
    kind: str = "synthetic"
    noise_sd: float = 0.0
    description: str = ""

    def observe(self, params: dict[str, Any], seed: int) -> float:
        """The value an optimizer sees: the true value plus this point's noise for this run."""
        value = float(self.true(params))
        if not self.noise_sd:
            return value
        key = f"{self.name}:{seed}:{sorted((k, repr(v)) for k, v in params.items())}"
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        return value + self.noise_sd * float(rng.standard_normal())


def _box(names: list[str], low: float, high: float) -> Space:
    return {n: {"type": "float", "low": low, "high": high} for n in names}


def _vec(p: dict[str, Any], names: list[str]) -> np.ndarray:
    return np.array([float(p[n]) for n in names])


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


def camel(x: np.ndarray) -> float:
    x1, x2 = x
    return float((4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2)


STYBLINSKI_MIN = -39.16616570377142  # per dimension, at x = -2.903534


def styblinski(x: np.ndarray) -> float:
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


# -- catint8 -----------------------------------------------------------------------------------------------
_BEST_LAYERS = {"relu": 4, "tanh": 3, "sigmoid": 2, "gelu": 5}
_OPT_COST = {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.15}
_NORM_COST = {"none": 0.1, "batch": 0.0, "layer": 0.03}

CATINT_SPACE: Space = {
    "activation": {"type": "cat", "choices": list(_BEST_LAYERS)},
    "optimizer": {"type": "cat", "choices": list(_OPT_COST)},
    "norm": {"type": "cat", "choices": list(_NORM_COST)},
    "layers": {"type": "int", "low": 1, "high": 8},
    "units": {"type": "int", "low": 8, "high": 512, "log": True},
    "batch": {"type": "int", "low": 16, "high": 256, "log": True},
    "patience": {"type": "int", "low": 1, "high": 20},
    "dropout": {"type": "float", "low": 0.0, "high": 0.6},
}


def _catint_discrete(act: str, opt: str, norm: str, layers: int) -> float:
    """The part of catint8 fixed by the categorical parameters and the depth."""
    cost = 0.08 * (layers - _BEST_LAYERS[act]) ** 2 + _OPT_COST[opt] + _NORM_COST[norm]
    if opt == "sgd" and norm == "batch":
        cost -= 0.1  # batch norm rescues plain SGD
    if act == "gelu" and norm == "layer":
        cost -= 0.03
    return cost


def _units_cost(units: int, layers: int) -> float:
    return 0.05 * (math.log2(units) - (5 + layers / 2)) ** 2


def _batch_cost(batch: int, opt: str) -> float:
    return 0.04 * (math.log2(batch) - (5 if opt == "sgd" else 7)) ** 2


def _patience_cost(patience: int) -> float:
    return 0.3 * math.exp(-patience / 3) + 0.005 * patience


def catint8(p: dict[str, Any]) -> float:
    layers = int(p["layers"])
    best_dropout = 0.05 * layers
    return (
        _catint_discrete(p["activation"], p["optimizer"], p["norm"], layers)
        + _units_cost(int(p["units"]), layers)
        + _batch_cost(int(p["batch"]), p["optimizer"])
        + _patience_cost(int(p["patience"]))
        + 2.0 * (float(p["dropout"]) - best_dropout) ** 2
    )


@cache
def catint8_min() -> float:
    """catint8's minimum by enumeration (the dropout term reaches 0 inside its range)."""
    patience = min(_patience_cost(n) for n in range(1, 21))
    best = math.inf
    for act, opt, norm, layers in product(_BEST_LAYERS, _OPT_COST, _NORM_COST, range(1, 9)):
        units = min(_units_cost(u, layers) for u in range(8, 513))
        batch = min(_batch_cost(b, opt) for b in range(16, 257))
        best = min(best, _catint_discrete(act, opt, norm, layers) + units + batch)
    return best + patience


# -- hgb_diabetes ------------------------------------------------------------------------------------------
HGB_SPACE: Space = {
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
    "max_leaf_nodes": {"type": "int", "low": 2, "high": 64, "log": True},
    "min_samples_leaf": {"type": "int", "low": 2, "high": 60},
    "l2_regularization": {"type": "float", "low": 1e-4, "high": 10.0, "log": True},
    "max_features": {"type": "float", "low": 0.2, "high": 1.0},
}


@cache
def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return x, y


def hgb_diabetes(p: dict[str, Any]) -> float:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, cross_val_score

    x, y = _diabetes()
    model = HistGradientBoostingRegressor(
        max_iter=50,
        learning_rate=float(p["learning_rate"]),
        max_leaf_nodes=int(p["max_leaf_nodes"]),
        min_samples_leaf=int(p["min_samples_leaf"]),
        l2_regularization=float(p["l2_regularization"]),
        max_features=float(p["max_features"]),
        early_stopping=False,
        random_state=0,
    )
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    r2 = cross_val_score(model, x, y, cv=cv, scoring="r2", n_jobs=1)
    return float(1.0 - r2.mean())


_X6 = [f"x{i}" for i in range(1, 7)]
_X4 = [f"x{i}" for i in range(1, 5)]
_X24 = [f"x{i}" for i in range(1, 25)]

PROBLEMS: dict[str, HeldOutProblem] = {
    p.name: p
    for p in [
        HeldOutProblem(
            "levy6", _box(_X6, -10.0, 10.0), lambda p: levy(_vec(p, _X6)), 0.0, description="Levy 6-D"
        ),
        HeldOutProblem(
            "noisy_camel",
            {
                "x1": {"type": "float", "low": -3.0, "high": 3.0},
                "x2": {"type": "float", "low": -2.0, "high": 2.0},
            },
            lambda p: camel(_vec(p, ["x1", "x2"])),
            -1.0316284534898774,
            noise_sd=0.2,
            description="six-hump camel 2-D, noise sd 0.2",
        ),
        HeldOutProblem(
            "noisy_styblinski4",
            _box(_X4, -5.0, 5.0),
            lambda p: styblinski(_vec(p, _X4)),
            4 * STYBLINSKI_MIN,
            noise_sd=3.0,
            description="Styblinski-Tang 4-D, noise sd 3",
        ),
        HeldOutProblem(
            "catint8",
            CATINT_SPACE,
            catint8,
            None,  # filled in below (enumeration)
            description="3 categorical, 4 int (2 log), 1 float; interacting",
        ),
        HeldOutProblem(
            "styblinski24",
            _box(_X24, -5.0, 5.0),
            lambda p: styblinski(_vec(p, _X24)),
            24 * STYBLINSKI_MIN,
            description="Styblinski-Tang 24-D",
        ),
        HeldOutProblem(
            "hgb_diabetes",
            HGB_SPACE,
            hgb_diabetes,
            None,
            kind="ml",
            description="HistGradientBoostingRegressor (50 iterations) on diabetes, 3-fold CV 1 - R^2",
        ),
    ]
}
PROBLEMS["catint8"] = HeldOutProblem(
    "catint8", CATINT_SPACE, catint8, catint8_min(), description=PROBLEMS["catint8"].description
)
