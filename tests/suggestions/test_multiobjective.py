"""Several objectives in the suggestion layer: the history's JSON form, `auto`'s choice, the HTTP form's
errors, and a refusal by single-objective algorithms (the conformance suite covers the rest)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from suggestions import Direction, History, TrialRecord, get_suggester
from suggestions.multiobjective import auto_choice, default_population
from tuner.errors import SpecError, SuggestionError
from tuner.space import SearchSpace
from tuner.states import TrialState

SPACE = SearchSpace.from_dict(
    [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]
)
DIRECTIONS = (Direction.MINIMIZE, Direction.MAXIMIZE)


def two_objective_history() -> History:
    a, b = SPACE.parse({"x": "0.25"}), SPACE.parse({"x": "0.75"})
    return History(
        (
            TrialRecord("a", a, TrialState.SUCCEEDED, 1.0, values=(1.0, 3.0)),
            TrialRecord("b", b, TrialState.RUNNING),
        ),
        directions=DIRECTIONS,
    )


def test_json_form_round_trips_and_losses_follow_each_direction() -> None:
    history = two_objective_history()
    document = history.to_dict()
    assert document["directions"] == ["minimize", "maximize"] and document["trials"][0]["values"] == [
        1.0,
        3.0,
    ]
    again = History.from_dict(document, SPACE)
    assert again == history and again.digest() == history.digest()
    assert again.losses(again.trials[0]) == (1.0, -3.0)
    assert History(history.trials[:1]).to_dict().keys() == {"direction", "trials"}  # one objective: unchanged


def test_json_form_names_a_wrong_number_of_values() -> None:
    document = two_objective_history().to_dict()
    document["trials"][0]["values"] = [1.0]
    with pytest.raises(SpecError) as caught:
        History.from_dict(document, SPACE)
    assert str(caught.value.problems[0]).startswith("history.trials[0].values: expected 2 numbers")


def test_a_trial_missing_one_objective_is_not_observed() -> None:
    record = TrialRecord(
        "c", SPACE.parse({"x": "0.5"}), TrialState.SUCCEEDED, 1.0, values=(1.0, float("nan"))
    )
    assert not record.observed


@pytest.mark.parametrize(
    ("objectives", "observed", "budget", "expected"),
    [
        (2, 0, 60, "motpe"),
        (3, 0, 250, "motpe"),
        (2, 0, 251, "nsga2"),
        (4, 0, 60, "nsga3"),
        (2, 300, None, "nsga2"),
        (2, 100, None, "motpe"),
    ],
)
def test_auto_choice(objectives: int, observed: int, budget: int | None, expected: str) -> None:
    assert auto_choice(objectives, observed, budget) == expected


def test_default_population_follows_the_budget() -> None:
    assert [default_population(b) for b in (None, 30, 60, 120, 1000)] == [50, 10, 10, 20, 50]


def test_single_objective_algorithms_refuse_a_multi_objective_history() -> None:
    with pytest.raises(SuggestionError, match="tpe optimises one objective; for 2 objectives use nsga2"):
        get_suggester("tpe").suggest(SPACE, {}, two_objective_history(), 1)


@pytest.mark.parametrize("algorithm", ["motpe", "nsga2", "auto"])
def test_the_http_service_answers_several_objectives_as_in_process(serve: Any, algorithm: str) -> None:
    """Real loopback HTTP: directions and values survive the JSON form, the answer equals in-process."""
    from suggestions import testing
    from suggestions.client import RemoteSuggester, SuggestionClient
    from suggestions.registry import builtin_registry
    from suggestions.service import create_app

    registry = builtin_registry()
    service = serve(create_app(registry))
    space = testing.space_for(registry.get(algorithm), testing.profile_for(algorithm))
    rng = np.random.default_rng(4)
    records = []
    for i in range(14):
        a = space.sample(rng)
        first, second = testing.objectives(space, a)
        records.append(TrialRecord(f"t{i}", a, TrialState.SUCCEEDED, first, values=(first, second)))
    history = History(tuple(records), directions=(Direction.MINIMIZE, Direction.MINIMIZE))
    settings = {"random_state": "3", **({"population_size": "4"} if algorithm == "nsga2" else {})}
    with SuggestionClient(service.url, timeout=60) as client:
        over_http = RemoteSuggester(client, algorithm).suggest(space, settings, history, 2)
        with pytest.raises(SuggestionError, match="tpe optimises one objective"):
            RemoteSuggester(client, "tpe").suggest(space, {}, history, 1)
    assert over_http == registry.get(algorithm).suggest(space, settings, history, 2)
