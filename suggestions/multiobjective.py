"""`nsga2`, `nsga3` and `motpe`: several objectives at once (tuner's extension), on optuna's samplers.

Each call replays the history into a throw-away optuna study with one direction per objective
(`suggestions._optuna`), as the single-objective algorithms do, so the service stays stateless.

- `nsga2`: optuna's NSGAIISampler (non-dominated sorting and crowding distance). Its generations are
  stateful in optuna; here a trial's generation is its position among the trials the study sees divided by
  the population size, so every replica labels them alike. Generation 0 is a scrambled Sobol' design
  rather than random points (an even cover of the space).
- `nsga3`: optuna's NSGAIIISampler (reference points instead of crowding distance; better spread beyond
  three objectives). Same generations and start.
- `motpe`: optuna's TPESampler on several objectives (MOTPE: the "good" group is the best
  non-dominated layers, weighted by hypervolume contribution), multivariate, after a quasi-random start
  of 10 Sobol' points (optuna's start length; on benchmarks/multiobjective.py, 5 seeds x 60 trials, it
  did better than the d + 2 points `tpe` starts with: hypervolume 10.96/9.42/9.17 against
  10.64/9.33/9.00 on ZDT1/ZDT2/DTLZ2, chosen on those same problems).

The genetic algorithms' `population_size` defaults to 50 (optuna's) but, when maxTrialCount is known,
to a sixth of it between 10 and 50: a 60-trial experiment then runs six generations instead of one.
`auto` picks among them for a multi-objective experiment (`auto_multi_objective`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler, NSGAIIISampler, NSGAIISampler
from optuna.trial import FrozenTrial

from suggestions import _optuna
from suggestions.base import Suggester, SuggestRequest
from suggestions.settings import Setting, SettingsSchema, integer, number, random_state_setting
from suggestions.sobol import sobol_points
from tuner.space import Assignment

MOTPE_STARTUP = 10
"""Sobol' points before MOTPE models (see the module docstring)."""

MOTPE_OBSERVATIONS = 250
"""`auto` uses MOTPE up to this many observations (or for a budget up to it), then NSGA-II: MOTPE is the
more sample-efficient at small budgets, and its cost per suggestion grows with the history."""

NSGA3_OBJECTIVES = 3
"""Above this many objectives `auto` uses NSGA-III, whose reference points keep the front spread out."""


def default_population(budget: int | None) -> int:
    """NSGA's population: optuna's 50, or a sixth of the trial budget between 10 and 50."""
    return 50 if budget is None else max(10, min(50, budget // 6))


def _ga_settings(*extra: Setting) -> SettingsSchema:
    return SettingsSchema(
        Setting("population_size", integer(2), None, "trials per generation (50, or maxTrialCount / 6)"),
        Setting("crossover_prob", number(0, 1), 0.9, "probability that a child is a crossover of parents"),
        Setting("swapping_prob", number(0, 1), 0.5, "probability of taking each parameter from one parent"),
        *extra,
        random_state_setting(),
    )


class _Genetic(Suggester):
    """Shared driver of NSGA-II and NSGA-III: Sobol' generation 0, then the sampler over labelled trials."""

    multi_objective = True
    own_setting: ClassVar[str]
    """The one setting (beside the shared ones of `_ga_settings`) that this variant's sampler takes."""

    make_sampler: ClassVar[Callable[..., BaseSampler]]
    """optuna's sampler class (or a function building it) for this variant."""

    def sampler(self, settings: Mapping[str, Any], population: int, seed: int) -> BaseSampler:
        return type(self).make_sampler(
            population_size=population,
            crossover_prob=settings["crossover_prob"],
            swapping_prob=settings["swapping_prob"],
            seed=seed,
            **{self.own_setting: settings[self.own_setting]},
        )

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        population = request.settings["population_size"] or default_population(request.budget)
        return ask_genetic(
            request, self.sampler(request.settings, population, request.seed % 2**32), population
        )


def ask_genetic(request: SuggestRequest, sampler: BaseSampler, population: int) -> list[Assignment]:
    """Generation 0 from the Sobol' sequence; later ones from `sampler` over trials labelled by generation."""
    seen = len(request.history.observed) + len(request.history.pending)
    if seen < population:
        return sobol_points(request, len(request.history), request.k)
    key = sampler._get_generation_key()  # type: ignore[attr-defined]

    def label(trials: list[FrozenTrial]) -> list[FrozenTrial]:
        return [_with_attr(t, key, i // population) for i, t in enumerate(trials)]

    return _optuna.ask(request.space, request.history, request.k, lambda: sampler, prepare=label)


def _with_attr(trial: FrozenTrial, key: str, value: Any) -> FrozenTrial:
    """A copy of `trial` with one more system attribute (the cached trials are shared: never changed)."""
    return FrozenTrial(
        trial.number,
        trial.state,
        None,
        None,
        None,
        trial.params,
        trial.distributions,
        {},
        {**trial.system_attrs, key: value},
        {},
        trial._trial_id,
        values=trial.values,
    )


def nsga3_sampler(**options: Any) -> NSGAIIISampler:
    """optuna's NSGAIIISampler, without its "experimental" warning on every call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return NSGAIIISampler(**options)


class Nsga2Suggester(_Genetic):
    """NSGA-II (module docstring). Settings: ``population_size``, ``mutation_prob`` (1 / parameters),
    ``crossover_prob`` (0.9), ``swapping_prob`` (0.5), ``random_state``."""

    name = "nsga2"
    settings_schema = _ga_settings(
        Setting("mutation_prob", number(0, 1), None, "probability of mutating each parameter (1/d)")
    )
    own_setting = "mutation_prob"
    make_sampler = NSGAIISampler


class Nsga3Suggester(_Genetic):
    """NSGA-III (module docstring). Settings: ``population_size``, ``dividing_parameter`` (3: the
    reference points' divisions per objective), ``crossover_prob``, ``swapping_prob``, ``random_state``."""

    name = "nsga3"
    settings_schema = _ga_settings(
        Setting("dividing_parameter", integer(1), 3, "divisions of each objective for the reference points")
    )
    own_setting = "dividing_parameter"
    make_sampler = nsga3_sampler


class MotpeSuggester(Suggester):
    """Multi-objective TPE (module docstring). Settings: ``n_startup_trials`` (10),
    ``n_ei_candidates`` (24), ``random_state``."""

    name = "motpe"
    multi_objective = True
    settings_schema = SettingsSchema(
        Setting("n_startup_trials", integer(1), MOTPE_STARTUP, "quasi-random trials before modelling"),
        Setting("n_ei_candidates", integer(1), 24, "candidates scored by expected improvement"),
        random_state_setting(),
    )

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        return ask_motpe(
            request, request.settings.get("n_startup_trials"), request.settings["n_ei_candidates"]
        )


def ask_motpe(request: SuggestRequest, startup: int | None, candidates: int = 24) -> list[Assignment]:
    """A Sobol' start of `startup` points (default `MOTPE_STARTUP`), then MOTPE over the whole history."""
    if len(request.history.observed) < (startup or MOTPE_STARTUP):
        return sobol_points(request, len(request.history), request.k)
    from suggestions.tpe import FixedSpaceTpe

    seed = request.seed % 2**32
    dists: dict[str, BaseDistribution] = _optuna.distributions(request.space)
    liar = bool(request.history.pending) or request.k > 1
    return _optuna.ask(
        request.space,
        request.history,
        request.k,
        lambda: FixedSpaceTpe(
            dists,
            n_startup_trials=0,
            n_ei_candidates=candidates,
            multivariate=True,
            constant_liar=liar,
            seed=seed,
        ),
    )


def auto_choice(objectives: int, observed: int, budget: int | None) -> str:
    """`auto`'s algorithm for several objectives: nsga3 beyond three objectives; motpe while the budget
    (or, without one, the observations so far) stays within `MOTPE_OBSERVATIONS`; nsga2 beyond."""
    if objectives > NSGA3_OBJECTIVES:
        return "nsga3"
    if (budget if budget is not None else observed) <= MOTPE_OBSERVATIONS:
        return "motpe"
    return "nsga2"


def auto_multi_objective(request: SuggestRequest) -> list[Assignment]:
    """`auto` for a multi-objective experiment (`auto_choice`, with each algorithm's default settings)."""
    history = request.history
    choice = auto_choice(len(history.objectives), len(history.observed), request.budget)
    if choice == "motpe":
        return ask_motpe(request, request.settings.get("n_startup_trials"))
    population = default_population(request.budget)
    seed = request.seed % 2**32
    sampler: BaseSampler
    if choice == "nsga3":
        sampler = nsga3_sampler(population_size=population, seed=seed)
    else:
        sampler = NSGAIISampler(population_size=population, seed=seed)
    return ask_genetic(request, sampler, population)
