"""`sobol`: a scrambled Sobol' sequence mapped through the parameters' priors (quasi-random search).

Stateless: the i-th trial of the experiment gets the i-th point of the sequence, so the next points
start at the history's length. The scrambling seed is `random_state` or, when unset, derived from the
space, so every call of an experiment walks the same sequence. Points of a finite space that repeat a
trial are replaced by random new ones (in `Suggester.suggest`).
"""

from __future__ import annotations

import warnings

from scipy.stats import qmc

from suggestions.base import Suggester, SuggestRequest
from suggestions.settings import SettingsSchema, random_state_setting
from tuner.space import Assignment, SearchSpace


class SobolSuggester(Suggester):
    """Quasi-random search on scipy's scrambled Sobol' sequence."""

    name = "sobol"
    multi_objective = True  # ignores the objective values: any number of objectives
    settings_schema = SettingsSchema(random_state_setting())

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        return sobol_points(request, len(request.history), request.k)


def start_length(space: SearchSpace) -> int:
    """Quasi-random points before a model takes over: d + 2, between 5 and 10 (optuna starts with 10)."""
    return min(max(len(space) + 2, 5), 10)


def sobol_points(request: SuggestRequest, start: int, k: int) -> list[Assignment]:
    """Points `start` .. `start + k - 1` of the experiment's scrambled Sobol' sequence, through the priors."""
    space = request.space
    seed = request.random_state if request.random_state is not None else int(space.digest()[:8], 16)
    engine = qmc.Sobol(d=len(space), scramble=True, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "balance properties ... power of 2"
        if start:  # scipy cannot fast-forward by 0
            engine.fast_forward(start)
        return [space.from_quantiles(q) for q in engine.random(k)]
