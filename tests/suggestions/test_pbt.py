"""pbt: generations planned from the trials' labels, exploit/explore, retries, settings, and the HTTP service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from fastapi import FastAPI

from suggestions.base import LabelledAssignment, labels_of
from suggestions.client import RemoteSuggester, SuggestionClient
from suggestions.history import Direction, History, TrialRecord
from suggestions.pbt import GENERATION_LABEL, PARENT_LABEL, PbtSuggester
from suggestions.registry import builtin_registry
from suggestions.service import create_app
from tests.suggestions.conftest import LoopbackServer
from tuner.space import Assignment, SearchSpace
from tuner.states import TrialState

SPACE = SearchSpace.from_dict(
    [
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "1"}},
        {"name": "width", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "64"}},
        {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam", "rms"]}},
    ]
)
SETTINGS = {"n_population": "5", "truncation_threshold": "0.4", "random_state": "3"}
PBT = PbtSuggester()


def finish(proposals: list[Assignment], prefix: str, values: list[float]) -> tuple[TrialRecord, ...]:
    """The proposals as Succeeded trials with the given values (labels kept, as the store keeps them)."""
    return tuple(
        TrialRecord(f"{prefix}{i}", a, TrialState.SUCCEEDED, v, labels=labels_of(a))
        for i, (a, v) in enumerate(zip(proposals, values, strict=True))
    )


def first_generation(direction: Direction = Direction.MINIMIZE) -> History:
    proposals = PBT.suggest(SPACE, SETTINGS, History(direction=direction), 5)
    return History(finish(proposals, "g0-", [5.0, 1.0, 4.0, 2.0, 3.0]), direction)


def test_generation_zero_is_random_members_without_parent() -> None:
    out = PBT.suggest(SPACE, SETTINGS, History(), 3)
    assert len(out) == 3
    assert all(labels_of(a) == {GENERATION_LABEL: "0"} for a in out)
    running = tuple(
        TrialRecord(f"t{i}", a, TrialState.RUNNING, labels=labels_of(a)) for i, a in enumerate(out)
    )
    more = PBT.suggest(SPACE, SETTINGS, History(running), 5)
    assert len(more) == 2, "a generation holds n_population members"


def test_next_generation_waits_for_the_last_member() -> None:
    history = first_generation()
    running = replace(history.trials[-1], state=TrialState.RUNNING, value=None)
    assert PBT.suggest(SPACE, SETTINGS, History((*history.trials[:-1], running)), 5) == []


def test_worst_members_copy_the_best_and_explore_the_rest_continue() -> None:
    history = first_generation()  # values 5, 1, 4, 2, 3: best g0-1, g0-3; worst g0-0, g0-2
    by_name = {t.name: t for t in history.trials}
    out = PBT.suggest(SPACE, SETTINGS, history, 5)
    assert len(out) == 5
    assert all(labels_of(a)[GENERATION_LABEL] == "1" for a in out)
    parents = [labels_of(a)[PARENT_LABEL] for a in out]
    # slots keep the members' order: members 1, 3, 4 continue with their own checkpoint and parameters
    for i in (1, 3, 4):
        assert parents[i] == f"g0-{i}" and out[i] == by_name[f"g0-{i}"].assignment
    # members 0 and 2 (the worst 40 %) take a top member's checkpoint and perturbed parameters
    for i in (0, 2):
        source = by_name[parents[i]]
        assert source.name in {"g0-1", "g0-3"}
        assert out[i] != source.assignment and SPACE.contains(out[i])
        lr_ratio = float(out[i]["lr"]) / float(source.assignment["lr"])  # type: ignore[arg-type]
        assert min(abs(lr_ratio - 0.8), abs(lr_ratio - 1.2)) < 1e-6 or out[i]["lr"] in (0.001, 1.0)


def test_maximize_exploits_the_largest_values() -> None:
    history = first_generation(Direction.MAXIMIZE)  # best now g0-0 (5) and g0-2 (4)
    out = PBT.suggest(SPACE, SETTINGS, history, 5)
    parents = [labels_of(a)[PARENT_LABEL] for a in out]
    assert {parents[1], parents[3]} <= {"g0-0", "g0-2"}
    assert parents[0] == "g0-0" and parents[2] == "g0-2" and parents[4] == "g0-4"


def test_resample_probability_zero_copies_the_best_exactly() -> None:
    history = first_generation()
    out = PBT.suggest(SPACE, {**SETTINGS, "resample_probability": "0"}, history, 5)
    by_name = {t.name: t for t in history.trials}
    for a in out:
        assert a == by_name[labels_of(a)[PARENT_LABEL]].assignment


def test_a_failed_member_is_proposed_again_with_the_same_parent_and_parameters() -> None:
    history = first_generation()
    out = PBT.suggest(SPACE, SETTINGS, history, 5)
    trials = list(finish(out, "g1-", [1.0] * 5))
    trials[2] = replace(trials[2], state=TrialState.FAILED, value=None)
    retry = PBT.suggest(SPACE, SETTINGS, History(history.trials + tuple(trials)), 5)
    assert len(retry) == 1
    assert retry[0] == out[2] and labels_of(retry[0]) == labels_of(out[2])


def test_the_plan_is_the_same_on_every_call_and_replica() -> None:
    history = first_generation()
    a = PBT.suggest(SPACE, SETTINGS, history, 5)
    b = PbtSuggester().suggest(SPACE, SETTINGS, history, 5)
    assert a == b and [labels_of(x) for x in a] == [labels_of(x) for x in b]


def test_trials_without_labels_are_not_members() -> None:
    stranger = TrialRecord("other", SPACE.sample(np.random.default_rng(0)), TrialState.SUCCEEDED, 0.0)
    out = PBT.suggest(SPACE, SETTINGS, History((stranger,)), 5)
    assert len(out) == 5 and all(labels_of(a) == {GENERATION_LABEL: "0"} for a in out)


@pytest.mark.parametrize(
    ("settings", "max_trials", "path", "words"),
    [
        ({"n_population": "4"}, None, "algorithmSettings.n_population", "must be an integer >= 5"),
        ({"truncation_threshold": "0.6"}, None, "algorithmSettings.truncation_threshold", "in (0, 0.5]"),
        (
            {"truncation_threshold": "0.05"},
            None,
            "algorithmSettings.truncation_threshold",
            "use at least 0.1",
        ),
        ({"resample_probability": "1.5"}, None, "algorithmSettings.resample_probability", "in [0, 1]"),
        ({"suggestion_trial_dir": "ckpt"}, None, "algorithmSettings.suggestion_trial_dir", "absolute path"),
        (
            {"checkpoint_volume": "My_Claim"},
            None,
            "algorithmSettings.checkpoint_volume",
            "PersistentVolumeClaim",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_setting_and_the_fix(
    settings: dict[str, str], max_trials: int | None, path: str, words: str
) -> None:
    problems = PBT.validate(settings, SPACE, max_trial_count=max_trials)
    assert [p.path for p in problems] == [path]
    assert words in problems[0].message


def test_katib_settings_are_accepted() -> None:
    katib = {
        "suggestion_trial_dir": "/var/log/katib/checkpoints/",
        "n_population": "40",
        "truncation_threshold": "0.2",
    }
    assert PBT.validate(katib, SPACE, max_trial_count=80) == []


def test_labelled_assignment_equals_the_plain_one() -> None:
    plain = Assignment({"lr": 0.1, "width": 3, "opt": "sgd"})
    labelled = LabelledAssignment(plain, {GENERATION_LABEL: "2"})
    assert labelled == plain and hash(labelled) == hash(plain) and labels_of(plain) == {}


def test_history_keeps_labels_through_its_json_form() -> None:
    history = first_generation()
    again = History.from_dict(history.to_dict(), SPACE)
    assert [t.labels for t in again.trials] == [t.labels for t in history.trials]
    assert again.digest() == history.digest()


def test_labels_travel_through_the_http_service(serve: Callable[[FastAPI], LoopbackServer]) -> None:
    service = serve(create_app(builtin_registry()))
    history = first_generation()
    with SuggestionClient(service.url, timeout=60) as client:
        remote = RemoteSuggester(client, "pbt")
        over_http = remote.suggest(SPACE, SETTINGS, history, 5)
    here = PBT.suggest(SPACE, SETTINGS, history, 5)
    assert over_http == here
    assert [labels_of(a) for a in over_http] == [labels_of(a) for a in here]
    assert all(PARENT_LABEL in labels_of(a) for a in over_http)
