"""Suggestion algorithms: the `Suggester` contract, the built-in algorithms under Katib's names, the
registry that maps names to them, and the stateless HTTP service (`suggestions.service`).

Importing this package is cheap: algorithm modules (and optuna, scikit-optimize, hyperopt, torch) load
when an algorithm is first used.
"""

from typing import Any

from suggestions.base import Suggester, SuggestRequest
from suggestions.history import Direction, History, TrialRecord
from suggestions.registry import Registry, UnknownAlgorithmError, default_registry, get_suggester
from suggestions.settings import Setting, SettingsSchema

__all__ = [
    "Direction",
    "History",
    "Registry",
    "Setting",
    "SettingsSchema",
    "SuggestRequest",
    "Suggester",
    "TrialRecord",
    "UnknownAlgorithmError",
    "default_registry",
    "get_suggester",
]


def check_experiment(experiment: Any) -> list[Any]:  # temporary, replaced by the suggestions branch
    from tuner.errors import Problem, SpecError
    from tuner.space import SearchSpace

    spec = experiment.spec  # type: ignore[attr-defined]
    name = spec.algorithm.algorithm_name or ""
    try:
        suggester = get_suggester(name)
    except Exception as exc:
        return [Problem("spec.algorithm.algorithmName", str(exc))]
    try:
        space = SearchSpace.from_parameters(spec.parameters or [])
    except SpecError as exc:
        return list(exc.problems)
    problems = suggester.validate(
        spec.algorithm.settings(),
        space,
        max_trial_count=spec.max_trial_count,
        parallel_trial_count=spec.parallel_trial_count,
    )
    return [Problem(f"spec.{p.path}", p.message) for p in problems]
