"""The parts of the contract around the algorithms: history, settings, screening of proposals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from suggestions.base import Suggester, SuggestRequest
from suggestions.history import Direction, History, TrialRecord
from suggestions.settings import Setting, SettingsSchema, choice, integer, number
from tuner.errors import SearchExhaustedError, SpecError, SuggestionError
from tuner.space import Assignment, SearchSpace
from tuner.states import TrialState

SPACE = SearchSpace.from_dict(
    [
        {"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
        {
            "name": "lr",
            "parameterType": "double",
            "feasibleSpace": {"min": "0.001", "max": "1", "distribution": "logUniform"},
        },
    ]
)


def _trial(
    name: str, x: int, state: TrialState = TrialState.SUCCEEDED, value: float | None = 1.0
) -> TrialRecord:
    return TrialRecord(name, Assignment({"x": x, "lr": 0.01}), state, value)


def test_history_losses_follow_the_direction() -> None:
    trials = (_trial("a", 1, value=2.0), _trial("b", 2, value=5.0), _trial("c", 3, TrialState.RUNNING, None))
    assert History(trials, Direction.MINIMIZE).best().name == "a"  # type: ignore[union-attr]
    assert History(trials, Direction.MAXIMIZE).best().name == "b"  # type: ignore[union-attr]
    assert [t.name for t in History(trials).pending] == ["c"]


def test_observed_needs_a_finished_state_and_a_finite_value() -> None:
    assert _trial("a", 1).observed
    assert _trial("b", 1, TrialState.EARLY_STOPPED, 0.3).observed
    assert not _trial("c", 1, TrialState.FAILED, 0.3).observed
    assert not _trial("d", 1, TrialState.SUCCEEDED, math.inf).observed
    assert not _trial("e", 1, TrialState.SUCCEEDED, None).observed


def test_history_json_round_trip_and_digest() -> None:
    history = History(
        (
            _trial("a", 1),
            TrialRecord("b", Assignment({"x": 2, "lr": 0.5}), TrialState.EARLY_STOPPED, 0.5, ((1, 0.9),)),
        ),
        Direction.MAXIMIZE,
    )
    doc = history.to_dict()
    assert doc["trials"][0]["assignment"] == {"x": "1", "lr": "0.01"}
    again = History.from_dict(doc, SPACE)
    assert again == history and again.digest() == history.digest()
    assert History(history.trials[:1]).digest() != history.digest()


def test_history_from_dict_names_every_bad_field() -> None:
    doc = {
        "direction": "up",
        "trials": [
            {"name": "a", "assignment": {"x": "1.5", "lr": "0.01"}, "state": "Succeeded", "value": 1},
            {"name": "b", "assignment": {"x": 1, "lr": 0.01}, "state": "Done", "value": "high"},
        ],
    }
    with pytest.raises(SpecError) as info:
        History.from_dict(doc, SPACE)
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "history.direction",
        "history.trials[0].assignment.x",
        "history.trials[1].state",
        "history.trials[1].value",
    ]


def test_settings_schema_reports_every_problem_and_fills_defaults() -> None:
    schema = SettingsSchema(
        Setting("gamma", number(0, 1, low_open=True, high_open=True), 0.25),
        Setting("n_EI_candidates", integer(1), 24),
        Setting("acq_func", choice("EI", "LCB"), "EI"),
        Setting("resource_name", str, required=True, doc="the parameter that holds the budget"),
    )
    problems = schema.problems({"gamma": "1.5", "n_ei_candidates": "3", "acq_func": "ei"})
    messages = [str(p) for p in problems]
    assert messages == [
        "algorithmSettings.gamma: must be a number in (0, 1) (got '1.5')",
        "algorithmSettings.n_ei_candidates: unknown setting; did you mean 'n_EI_candidates'? (known: acq_func, gamma, n_EI_candidates, resource_name)",
        "algorithmSettings.acq_func: must be one of EI, LCB (got 'ei')",
        "algorithmSettings.resource_name: is required: the parameter that holds the budget",
    ]
    parsed = schema.parse({"resource_name": "epochs", "n_EI_candidates": "5.0"})
    assert parsed == {"gamma": 0.25, "n_EI_candidates": 5, "acq_func": "EI", "resource_name": "epochs"}
    with pytest.raises(SuggestionError, match="gamma"):
        schema.parse({"gamma": "x", "resource_name": "e"})


class _Repeater(Suggester):
    """Proposes the same known point every time, to exercise the screening in `suggest`."""

    name = "repeater"

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        return [Assignment({"x": 1, "lr": 0.01})] * request.k


class _Outsider(Suggester):
    name = "outsider"

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        return [Assignment({"x": 7, "lr": 0.01})]


class _Broken(Suggester):
    name = "broken"

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        raise np.linalg.LinAlgError("matrix is singular")


def test_repeated_points_are_replaced_by_new_ones() -> None:
    history = History((_trial("a", 1),))
    out = _Repeater().suggest(SPACE, {}, history, 3)
    assert len(out) == 3 and len(set(out)) == 3
    assert Assignment({"x": 1, "lr": 0.01}) not in out


def test_a_point_outside_the_space_is_a_suggestion_error() -> None:
    with pytest.raises(SuggestionError, match="outside the search space"):
        _Outsider().suggest(SPACE, {}, History(), 1)


def test_library_failures_become_one_suggestion_error() -> None:
    with pytest.raises(SuggestionError, match="broken failed: LinAlgError: matrix is singular"):
        _Broken().suggest(SPACE, {}, History(), 1)


def test_used_up_finite_space_raises_search_exhausted() -> None:
    space = SearchSpace.from_dict(
        [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}}]
    )
    history = History(tuple(TrialRecord(f"t{x}", Assignment({"x": x}), TrialState.FAILED) for x in (1, 2, 3)))
    with pytest.raises(SearchExhaustedError):
        _Repeater().suggest(space, {}, history, 1)


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        _Repeater().suggest(SPACE, {}, History(), 0)
