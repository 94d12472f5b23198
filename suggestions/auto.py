"""`auto`: the default algorithm; picks and combines methods by the search space and the budget.

The plan, decided on every call from the request alone (so any replica answers the same):

1. A finite space no larger than the budget (maxTrialCount) is enumerated: grid search finds the best
   point for sure, in a seeded random order.
2. Otherwise the first ``n_startup_trials`` trials (default: the number of parameters + 2, between 5 and
   10) are points of a scrambled Sobol' sequence mapped through the priors: an even cover of the space,
   fewer points than the 10 random ones optuna's samplers start with, so the model starts earlier.
3. Then Gaussian-process Bayesian optimisation: optuna's GPSampler (Matern 5/2 with ARD, log expected
   improvement, q-batch LogEI for pending trials and batches), with the kernel fitted to convergence on
   every call and the objective treated as noise-free (measured on the benchmark without the TPE mix:
   optuna's own loose fit did better on the synthetic problems but clearly worse on the ML ones; a noisy
   objective did worse on Hartmann-6). Beyond `MAX_GP_OBSERVATIONS` observations the GP
   sees the best half and the most recent half of them, which bounds the time per suggestion.
   From `MIX_AFTER` observations on, every `MIX_EVERY`-th suggestion comes from TPE instead: a stateless
   GP, refitted from scratch on every call, tends to settle in one basin (optuna's stateful sampler
   escapes by carrying its kernel over between calls); TPE's points, drawn around the good region with
   a different model, give it the data to move on. Measured on the benchmark's public problems (5 seeds):
   Hartmann-6 at 100 trials 0.163 -> 0.048 from the optimum, mixed4 0.0015 -> 0.00016, ackley5 3.3 ->
   2.5, average rank at 100 trials from behind optuna's GPSampler to ahead of it (benchmarks/README.md).
4. Tree-structured Parzen estimators instead of the GP when the GP does not fit the problem: more than
   `MAX_GP_DIMENSIONS` parameters, or torch (the ``gp`` extra) is not installed.

Batches (k > 1, parallelTrialCount) and pending trials: the Sobol' start hands out the next k points of
the sequence (pending trials count, so a batch is spread like k sequential points); the GP sees pending
trials and the earlier points of its batch as RUNNING and scores with optuna's q-batch log EI (fantasies
of their outcomes), TPE with optuna's constant liar. The TPE mix is decided per slot: the slot after
``observed + pending + i`` trials is TPE's when `mixed_in` says so, which is exactly the sequential
rule for k = 1 and keeps one point in four from TPE in a batch of any size (deciding by the observed
count alone would make every batch all-GP or all-TPE).
Several objectives (tuner's extension): point 1 as above, then `suggestions.multiobjective.auto_choice`:
nsga3 beyond three objectives, motpe for budgets up to 250 trials, nsga2 beyond.

Settings: ``random_state``; ``n_startup_trials`` to override the quasi-random start.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from suggestions import _optuna
from suggestions.base import Suggester, SuggestRequest
from suggestions.grid import GridSuggester
from suggestions.history import History, TrialRecord
from suggestions.settings import Setting, SettingsSchema, integer, random_state_setting
from suggestions.sobol import sobol_points, start_length
from tuner.space import Assignment, SearchSpace
from tuner.states import TrialState

logger = logging.getLogger(__name__)

HAS_TORCH = importlib.util.find_spec("torch") is not None
"""Whether optuna's GPSampler can run here (torch comes with the ``gp`` extra)."""

MAX_GP_DIMENSIONS = 20
"""Above this many parameters, TPE: the GP's fit and acquisition search grow costly and weak."""

MAX_GP_OBSERVATIONS = 200
"""Most observations the GP is fitted on (the best half and the most recent half)."""

MIX_AFTER = 30
"""Observations before TPE suggestions are mixed into the GP's (module docstring, point 3)."""

MIX_EVERY = 4
"""One suggestion in this many comes from TPE once `MIX_AFTER` observations exist."""

KERNEL_FIT_TOLERANCE = 1e-4
"""Gradient tolerance of the kernel fit (optuna's own, 1e-2, stops near its starting point)."""


@dataclass(frozen=True)
class Plan:
    """What `auto` does for one request: the method and the length of the quasi-random start."""

    method: str  # "grid", "sobol", "gp" or "tpe"
    startup: int


def plan(space: SearchSpace, settings: Mapping[str, Any], observed: int, budget: int | None) -> Plan:
    """The method for the next suggestions (see the module docstring)."""
    startup = settings.get("n_startup_trials") or start_length(space)
    if space.size is not None and budget is not None and space.size <= budget:
        return Plan("grid", startup)
    if observed < startup:
        return Plan("sobol", startup)
    if gp_fits(space):
        return Plan("tpe" if mixed_in(observed) else "gp", startup)
    return Plan("tpe", startup)


def gp_fits(space: SearchSpace) -> bool:
    """Whether the GP models this space (torch installed, at most `MAX_GP_DIMENSIONS` parameters)."""
    return HAS_TORCH and len(space) <= MAX_GP_DIMENSIONS


def mixed_in(n: int) -> bool:
    """Whether the suggestion after `n` trials (observed or pending) comes from TPE (point 3)."""
    return n >= MIX_AFTER and n % MIX_EVERY == MIX_EVERY - 1


class AutoSuggester(Suggester):
    """The default: quasi-random start, then GP-based Bayesian optimisation, or TPE (module docstring)."""

    name = "auto"
    multi_objective = True
    settings_schema = SettingsSchema(
        random_state_setting(),
        Setting(
            "n_startup_trials", integer(1), None, "quasi-random trials before modelling (d + 2, 5 to 10)"
        ),
    )

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        chosen = plan(request.space, request.settings, len(request.history.observed), request.budget)
        if chosen.method == "grid":
            return GridSuggester().propose(request)
        if request.history.is_multi_objective:
            from suggestions.multiobjective import auto_multi_objective

            return auto_multi_objective(request)
        if chosen.method == "sobol":
            return sobol_points(request, len(request.history), request.k)
        if not gp_fits(request.space):
            return _tpe(request)
        return _mixed_batch(request)


def _mixed_batch(request: SuggestRequest) -> list[Assignment]:
    """GP points and, in the slots `mixed_in` picks, TPE points that see the GP's as pending."""
    start = len(request.history.observed) + len(request.history.pending)
    n_tpe = sum(mixed_in(start + i) for i in range(request.k))
    out = _gp(replace(request, k=request.k - n_tpe)) if n_tpe < request.k else []
    if n_tpe:
        batch = tuple(TrialRecord(f"batch-{i}", a, TrialState.RUNNING) for i, a in enumerate(out))
        history = History(request.history.trials + batch, request.history.direction)
        out += _tpe(replace(request, k=n_tpe, history=history, taken=request.taken | set(out)))
    return out


def _gp(request: SuggestRequest) -> list[Assignment]:
    from suggestions._gp import FixedSpaceGp

    dists = _optuna.distributions(request.space)
    seed = request.seed % 2**32
    return _optuna.ask(
        request.space,
        request.history.keep_informative(MAX_GP_OBSERVATIONS),
        request.k,
        lambda: FixedSpaceGp(dists, seed=seed, deterministic_objective=True, fit_gtol=KERNEL_FIT_TOLERANCE),
    )


def _tpe(request: SuggestRequest) -> list[Assignment]:
    from suggestions.tpe import FixedSpaceTpe, ask_tpe

    return ask_tpe(
        request,
        lambda dists, seed, liar: FixedSpaceTpe(
            dists, n_startup_trials=0, multivariate=True, constant_liar=liar, seed=seed
        ),
    )
