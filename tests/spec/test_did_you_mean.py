"""One "did you mean" for the whole project: the spec's rules, algorithm names and algorithm settings guess alike."""

from __future__ import annotations

import pytest

from suggestions.registry import UnknownAlgorithmError, builtin_registry
from suggestions.settings import Setting, SettingsSchema
from tuner.spec.suggest import closest, did_you_mean


@pytest.mark.parametrize(
    ("word", "candidates", "guess"),
    [
        ("Bayesian-Optimization", ["random", "bayesianoptimization"], "bayesianoptimization"),  # case, dashes
        ("paralelTrialCount", ["parallelTrialCount", "maxTrialCount"], "parallelTrialCount"),  # spelling
        ("max", ["minimize", "maximize"], "maximize"),  # the one name it abbreviates
        ("bayes", ["cmaes", "bayesianoptimization"], "bayesianoptimization"),  # before a near spelling
        ("m", ["minimize", "maximize"], None),  # ambiguous prefix: no guess
        ("zzz", ["minimize", "maximize"], None),
        ("", ["a"], None),
    ],
)
def test_closest(word: str, candidates: list[str], guess: str | None) -> None:
    assert closest(word, candidates) == guess


def test_the_hint_is_quoted_where_the_caller_quotes_names() -> None:
    assert did_you_mean("maximise", ["maximize"]) == "; did you mean maximize?"
    assert did_you_mean("maximise", ["maximize"], quote=True) == "; did you mean 'maximize'?"


def test_algorithm_names_and_settings_use_the_same_guess() -> None:
    """Before, settings used a case-sensitive difflib of their own: `RANDOM-STATE` got no hint."""
    schema = SettingsSchema(Setting("random_state", int))
    (problem,) = schema.problems({"RANDOM-STATE": "1"})
    assert "did you mean 'random_state'?" in problem.message
    with pytest.raises(UnknownAlgorithmError) as info:
        builtin_registry().get("Multivariate_TPE")
    assert info.value.closest == closest("Multivariate_TPE", builtin_registry().names())
    assert info.value.closest == "multivariate-tpe"
