"""`tpe` and `multivariate-tpe`: Tree-structured Parzen Estimators on optuna's TPESampler.

Katib runs `tpe` on hyperopt and validates hyperopt's setting names (gamma, prior_weight,
n_EI_candidates, random_state); we keep those names but run optuna's sampler, which did better than
hyperopt on the benchmark (see benchmarks/README.md), in optuna's default form for one objective:
multivariate (one joint Parzen estimator over all parameters). `multivariate-tpe` is Katib's optuna setup:
``TPESampler(multivariate=True, constant_liar=True)`` with n_startup_trials, n_ei_candidates and
random_state. Both see pending trials through the constant liar, so parallel suggestions spread out.
`tpe` starts with d + 2 (5 to 10) scrambled Sobol' points, `multivariate-tpe` with Katib's
n_startup_trials random points from the space's own priors (normal and log-normal included, which
optuna lacks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.samplers import TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial

from suggestions import _optuna
from suggestions.base import Suggester, SuggestRequest, fresh_points
from suggestions.settings import Setting, SettingsSchema, integer, number, random_state_setting
from suggestions.sobol import sobol_points, start_length
from tuner.space import Assignment

MAX_OBSERVATIONS = 500
"""Most observations the estimators are built from (the best half and the most recent half): the good
group (at most 25) is always among them; beyond 500 the bad group is thinned, which halves the time per
suggestion at 1,000 observations."""

_GAMMA_CAP = 25  # optuna and hyperopt both cap the "good" group at 25 trials


class FixedSpaceTpe(TPESampler):
    """TPESampler told the search space instead of inferring it from every trial of the study.

    The inference walks all trials (about 12 ms at 1,000 trials) to find the parameters they share,
    which here are always the space's parameters, the same for every trial.
    """

    def __init__(self, space: dict[str, BaseDistribution], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fixed_space = {name: d for name, d in space.items() if not d.single()}

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        # Independent TPE samples each parameter on its own (sample_independent): no joint space.
        return dict(self._fixed_space) if self._multivariate is not False else {}


class _TpeBase(Suggester):
    """Shared driver: a start-up design, then a fresh TPESampler over the history."""

    def startup_trials(self, request: SuggestRequest) -> int:
        """How many observations to collect before modelling."""
        raise NotImplementedError

    def startup_points(self, request: SuggestRequest) -> list[Assignment]:
        """The points suggested before modelling: random ones from the priors."""
        return fresh_points(request.space, set(request.taken), request.k, request.rng)

    def sampler(
        self, settings: Mapping[str, Any], space: dict[str, BaseDistribution], seed: int, liar: bool
    ) -> TPESampler:
        """The sampler for one call; `liar`: pending trials exist (optuna's constant liar, slower)."""
        raise NotImplementedError

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        if len(request.history.observed) < self.startup_trials(request):
            return self.startup_points(request)
        return ask_tpe(request, lambda dists, seed, liar: self.sampler(request.settings, dists, seed, liar))


def ask_tpe(
    request: SuggestRequest, make: Callable[[dict[str, BaseDistribution], int, bool], TPESampler]
) -> list[Assignment]:
    """`request.k` points from a fresh TPE sampler, `make(distributions, seed, liar)`, over the history.

    The history is bounded by `MAX_OBSERVATIONS`. The liar only matters when some trial is pending
    (earlier points of this batch count); without one it changes nothing but costs time, as optuna then
    reads the trials uncached.
    """
    seed = request.seed % 2**32
    dists = _optuna.distributions(request.space)
    history = request.history.keep_informative(MAX_OBSERVATIONS)
    liar = bool(history.pending) or request.k > 1
    return _optuna.ask(request.space, history, request.k, lambda: make(dists, seed, liar))


def hyperopt_gamma(gamma: float) -> Callable[[int], int]:
    """hyperopt's split: the best ceil(gamma * sqrt(n)) observations form the "good" group."""

    def split(n: int) -> int:
        return min(math.ceil(gamma * math.sqrt(n)), _GAMMA_CAP)

    return split


class TpeSuggester(_TpeBase):
    """Katib's `tpe` with hyperopt's setting names.

    Settings: ``gamma`` in (0, 1): when set, the best ceil(gamma * sqrt(n)) observations are "good"
    (hyperopt's rule); unset, optuna's default (10 %, at most 25). ``prior_weight`` > 0 (1.0);
    ``n_EI_candidates`` >= 1 (24); ``random_state``. Models after a quasi-random start of d + 2 (5 to 10) points.
    """

    name = "tpe"
    settings_schema = SettingsSchema(
        Setting(
            "gamma", number(0, 1, low_open=True, high_open=True), None, "share of observations taken as good"
        ),
        Setting(
            "prior_weight",
            number(0, low_open=True),
            None,
            "weight of the prior in the Parzen estimators (1.0)",
        ),
        Setting("n_EI_candidates", integer(1), 24, "candidates scored by expected improvement"),
        random_state_setting(),
    )

    def startup_trials(self, request: SuggestRequest) -> int:
        # Katib's hyperopt service models after the first batch; optuna's default waits for 10 random
        # trials. Here: a short quasi-random start (d + 2, 5 to 10 points), as `auto` does.
        return start_length(request.space)

    def startup_points(self, request: SuggestRequest) -> list[Assignment]:
        return sobol_points(request, len(request.history), request.k)

    def sampler(
        self, settings: Mapping[str, Any], space: dict[str, BaseDistribution], seed: int, liar: bool
    ) -> TPESampler:
        extra: dict[str, Any] = {}
        if settings["gamma"] is not None:
            extra["gamma"] = hyperopt_gamma(settings["gamma"])
        if settings["prior_weight"] is not None:  # deprecated in optuna 4.9: passed only when asked for
            extra["prior_weight"] = settings["prior_weight"]
        return FixedSpaceTpe(
            space,
            n_ei_candidates=settings["n_EI_candidates"],
            n_startup_trials=0,
            multivariate=True,  # optuna's default for one objective, and what the benchmark's optuna-tpe runs
            constant_liar=liar,
            seed=seed,
            **extra,
        )


class MultivariateTpeSuggester(_TpeBase):
    """Katib's `multivariate-tpe`: optuna's multivariate TPE with a constant liar.

    Settings: ``n_startup_trials`` >= 0 (10), ``n_ei_candidates`` >= 1 (24), ``random_state``.
    """

    name = "multivariate-tpe"
    settings_schema = SettingsSchema(
        Setting("n_startup_trials", integer(0), 10, "random trials before modelling"),
        Setting("n_ei_candidates", integer(1), 24, "candidates scored by expected improvement"),
        random_state_setting(),
    )

    def startup_trials(self, request: SuggestRequest) -> int:
        return int(request.settings["n_startup_trials"])

    def sampler(
        self, settings: Mapping[str, Any], space: dict[str, BaseDistribution], seed: int, liar: bool
    ) -> TPESampler:
        return FixedSpaceTpe(
            space,
            n_ei_candidates=settings["n_ei_candidates"],
            n_startup_trials=0,
            multivariate=True,
            constant_liar=liar,
            seed=seed,
        )
