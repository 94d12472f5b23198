"""`bayesianoptimization`: scikit-optimize's `Optimizer` with Katib's settings and defaults.

Settings (Katib's names): ``base_estimator`` GP | RF | ET | GBRT (GP), ``n_initial_points`` (10),
``acq_func`` gp_hedge | LCB | EI | PI (gp_hedge), ``acq_optimizer`` auto | sampling | lbfgs (auto),
``random_state``. EIps and PIps, which Katib lists, need each trial's run time as a second objective and
are refused with a message. Unlike Katib's service, which gave every double a log-uniform prior (so
negative ranges failed), each parameter keeps its own scale: log-uniform for logUniform and logNormal,
uniform otherwise.

Stateless: each call builds a fresh optimizer, tells it the observations in one fit, tells pending
trials with the worst value so far as a lie (skopt's "cl_max" constant liar), and asks; each further
point of a batch of k is asked after telling the previous ones with the same lie. The best value as the
lie ("cl_min", skopt's default) let a batch pile up in one corner: told "as good as the best", the
acquisition stays high right beside a pending point (measured: 4 points within 0.008 of each other,
tests/suggestions/test_batch.py). Surrogate fitting grows with the cube of the number of points, so beyond
`MAX_OBSERVATIONS` the model sees the best half and the most recent half of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from skopt import Optimizer
from skopt.space import Categorical, Dimension, Integer, Real
from skopt.utils import cook_estimator

from suggestions.base import Suggester, SuggestRequest, fresh_points
from suggestions.settings import Setting, SettingsSchema, choice, integer, random_state_setting
from tuner.errors import Problem
from tuner.space import (
    Assignment,
    CategoricalParameter,
    DiscreteParameter,
    DoubleParameter,
    IntParameter,
    Parameter,
    SearchSpace,
    Value,
)

MAX_OBSERVATIONS = 100
"""Most observations the surrogate is fitted on (the best half and the most recent half)."""

GP_FIT_RESTARTS = 0
"""Extra random starts of the GP's kernel fit: skopt's default, 2, triples the fit's cost. With this and
`ACQUISITION_SEARCH`, `bayesianoptimization` still ranks ahead of skopt's defaults (skopt-gp) on the
benchmark's public problems (4.93 against 5.21 at 100 trials, benchmarks/README.md)."""

ACQUISITION_SEARCH = {"n_points": 1000, "n_restarts_optimizer": 2}
"""How the acquisition is maximised: skopt's defaults (10,000 random points, 5 L-BFGS starts, for each of
gp_hedge's three acquisition functions) cost more than the surrogate fit; see `GP_FIT_RESTARTS`."""

_TIME_AWARE = ("EIps", "PIps")


class BayesianOptimizationSuggester(Suggester):
    """Bayesian optimisation with scikit-optimize (Katib's `bayesianoptimization`)."""

    name = "bayesianoptimization"
    settings_schema = SettingsSchema(
        Setting("base_estimator", choice("GP", "RF", "ET", "GBRT"), "GP", "surrogate model"),
        Setting("n_initial_points", integer(0), 10, "random points before the model is used"),
        Setting(
            "acq_func",
            choice("gp_hedge", "LCB", "EI", "PI", *_TIME_AWARE),
            "gp_hedge",
            "acquisition function",
        ),
        Setting(
            "acq_optimizer", choice("auto", "sampling", "lbfgs"), "auto", "how the acquisition is maximised"
        ),
        random_state_setting(),
    )

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        if settings["acq_func"] in _TIME_AWARE:
            return [
                Problem(
                    "algorithmSettings.acq_func",
                    f"{settings['acq_func']} weighs improvement by each trial's run time, which tuner does not "
                    "pass to the algorithm; use EI or PI",
                )
            ]
        return []

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        settings, space, history = request.settings, request.space, request.history
        observed = history.observed
        if len(observed) < max(settings["n_initial_points"], 1):
            return fresh_points(space, set(request.taken), request.k, request.rng)
        kept = history.keep_informative(MAX_OBSERVATIONS)
        x = [_to_skopt(space, t.assignment) for t in kept.observed]
        y = [history.loss(t) for t in kept.observed]
        lie = max(y)  # "cl_max": a pending point is told the worst value so far (module docstring)
        x += [_to_skopt(space, t.assignment) for t in kept.pending]
        y += [lie] * (len(x) - len(y))
        dimensions = [_dimension(p) for p in space]
        out: list[Assignment] = []
        for i in range(request.k):  # constant liar: each point of the batch is told the lie
            seed = (request.seed + i) % 2**32
            optimizer = Optimizer(
                dimensions,
                base_estimator=_estimator(settings["base_estimator"], dimensions, seed),
                n_initial_points=0,
                acq_func=settings["acq_func"],
                acq_optimizer=settings["acq_optimizer"],
                acq_optimizer_kwargs=dict(ACQUISITION_SEARCH),
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "evaluated at this point before", convergence warnings
                optimizer.tell(x, y)
                point = optimizer.ask()
            out.append(_from_skopt(space, point))
            x.append(point)
            y.append(lie)
        return out


def _estimator(name: str, dimensions: list[Dimension], seed: int) -> Any:
    """skopt's surrogate for `name`, with the GP's kernel fitted from one start (`GP_FIT_RESTARTS`)."""
    estimator = cook_estimator(name, space=dimensions, random_state=seed)
    if name == "GP":
        estimator.set_params(n_restarts_optimizer=GP_FIT_RESTARTS)
    return estimator


def _by_index(p: Parameter) -> bool:
    """Stepped linear ranges and discrete lists are modelled by their index (0..n-1)."""
    if isinstance(p, DiscreteParameter):
        return True
    if isinstance(p, (DoubleParameter, IntParameter)) and not p.log:
        return p.cardinality is not None and (isinstance(p, DoubleParameter) or (p.step or 1) > 1)
    return False


def _dimension(p: Parameter) -> Dimension:
    if isinstance(p, CategoricalParameter):
        return Categorical(list(p.texts), name=p.name)  # skopt sees the choices' texts
    if _by_index(p):
        return Integer(0, (p.cardinality or 1) - 1, name=p.name)
    assert isinstance(p, (DoubleParameter, IntParameter))
    prior = "log-uniform" if p.log else "uniform"
    if isinstance(p, IntParameter):
        return Integer(int(p.low), int(p.high), prior=prior, name=p.name)
    return Real(p.low, p.high, prior=prior, name=p.name)


def _to_skopt(space: SearchSpace, a: Assignment) -> list[Any]:
    out: list[Any] = []
    for p in space:
        v = a[p.name]
        if _by_index(p):
            out.append(int(p.to_unit(v) * (p.cardinality or 1)))
        elif isinstance(p, CategoricalParameter):
            out.append(p.render(v))
        else:
            out.append(v)
    return out


def _from_skopt(space: SearchSpace, point: list[Any]) -> Assignment:
    values: list[tuple[str, Value]] = []
    for p, v in zip(space, point, strict=True):
        if _by_index(p):
            values.append((p.name, p.from_unit((int(v) + 0.5) / (p.cardinality or 1))))
        elif isinstance(p, (DoubleParameter, IntParameter)):
            values.append((p.name, p.nearest(float(np.asarray(v)))))
        else:
            values.append((p.name, p.parse(str(v))))
    return Assignment(values)
