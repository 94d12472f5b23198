"""Suggestion algorithms: the `Suggester` contract, the built-in algorithms under Katib's names, the
registry that maps names to them, and the stateless HTTP service (`suggestions.service`).

Importing this package is cheap: algorithm modules (and optuna, scikit-optimize, hyperopt, torch) load
when an algorithm is first used.
"""

from suggestions.base import Suggester, SuggestRequest
from suggestions.history import Direction, History, TrialRecord
from suggestions.registry import Registry, UnknownAlgorithmError, default_registry, get_suggester
from suggestions.settings import InvalidSettingsError, Setting, SettingsSchema
from suggestions.validation import check_experiment

__all__ = [
    "Direction",
    "History",
    "InvalidSettingsError",
    "Registry",
    "Setting",
    "SettingsSchema",
    "SuggestRequest",
    "Suggester",
    "TrialRecord",
    "UnknownAlgorithmError",
    "check_experiment",
    "default_registry",
    "get_suggester",
]
