"""`random`: independent draws from each parameter's prior (Katib's default algorithm).

Stateless by nature: the history matters only in that its points are not proposed again.
"""

from __future__ import annotations

from suggestions.base import Suggester, SuggestRequest, fresh_points
from suggestions.settings import SettingsSchema, random_state_setting
from tuner.space import Assignment


class RandomSuggester(Suggester):
    """Random search: each parameter from its prior (uniform, log-uniform, normal, log-normal).

    >>> from tuner.space import SearchSpace
    >>> from suggestions.history import History
    >>> space = SearchSpace.from_dict([{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}])
    >>> [a["x"] for a in RandomSuggester().suggest(space, {"random_state": "1"}, History(), 3)]
    [2, 4, 8]
    """

    name = "random"
    multi_objective = True  # ignores the objective values: any number of objectives
    settings_schema = SettingsSchema(random_state_setting())

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        return fresh_points(request.space, set(request.taken), request.k, request.rng)
