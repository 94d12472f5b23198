"""Batch suggestions (issue 17): each algorithm's own k points are distinct, spread, and keep away from
pending trials. These call `propose` directly, so `suggest`'s replacement of repeated points by random
ones cannot hide an algorithm that ignores its batch or the pending trials."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from suggestions import auto, testing
from suggestions.base import SuggestRequest, _call_seed
from suggestions.history import History
from suggestions.registry import builtin_registry
from tuner.space import Assignment, SearchSpace

REGISTRY = builtin_registry()
SPACE = SearchSpace.from_dict(testing.SPREAD_SPACE)
MODELLING = ["auto", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"]
EVERY = [*MODELLING, "sobol", "random"]


def _request(
    name: str, history: History, k: int, settings: Mapping[str, str] | None = None
) -> SuggestRequest:
    suggester = REGISTRY.get(name)
    parsed = suggester.settings_schema.parse({"random_state": "3", **(settings or {})})
    seed = _call_seed(name, 3, history)  # as `suggest` seeds the call: from random_state and the history
    return SuggestRequest(SPACE, parsed, history, k, None, seed, 3, frozenset(history.assignments()))


def _pending(history: History, *points: Assignment) -> History:
    return testing.with_trials(
        history, *(testing.TrialRecord(f"p{i}", a, testing.TrialState.RUNNING) for i, a in enumerate(points))
    )


@pytest.mark.parametrize("name", EVERY)
def test_a_batch_is_distinct_and_spread(name: str) -> None:
    history = testing.random_history(SPACE, 14, seed=2)
    batch = REGISTRY.get(name).propose(_request(name, history, 4))
    assert len(batch) == 4 and len(set(batch)) == 4, batch
    assert not set(batch) & history.assignments()
    assert testing.min_distance(SPACE, batch) >= testing.MIN_BATCH_DISTANCE, [a.rendered() for a in batch]


@pytest.mark.parametrize("name", MODELLING)
def test_a_pending_trial_where_the_model_would_go_is_avoided(name: str) -> None:
    history = testing.random_history(SPACE, 14, seed=4)
    suggester = REGISTRY.get(name)
    (alone,) = suggester.propose(_request(name, history, 1))
    (next_one,) = suggester.propose(_request(name, _pending(history, alone), 1))
    gap = testing.min_distance(SPACE, [next_one], [alone])
    assert gap >= testing.MIN_BATCH_DISTANCE, f"{name} went {gap:.2g} from the pending trial"


def test_auto_start_spreads_a_batch_over_the_sobol_sequence_with_pending_trials() -> None:
    first = REGISTRY.get("auto").propose(_request("auto", History(), 4))
    running = _pending(History(), *first)
    second = REGISTRY.get("auto").propose(_request("auto", running, 4))
    together = first + second
    assert len(set(together)) == 8
    assert testing.min_distance(SPACE, together) >= 0.1, "8 Sobol' points in 3-D keep well apart"


def test_auto_mixes_tpe_per_slot_of_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """After MIX_AFTER trials one slot in four is TPE's, in a batch of any size, and TPE sees the GP's
    points of the batch as pending."""
    assert all(sum(auto.mixed_in(n + i) for i in range(4)) == 1 for n in range(auto.MIX_AFTER, 60))
    assert [auto.mixed_in(n) for n in range(auto.MIX_AFTER - 2, auto.MIX_AFTER + 2)].count(True) == 1
    seen: list[SuggestRequest] = []
    real_tpe = auto._tpe

    def spy(request: SuggestRequest) -> list[Assignment]:
        seen.append(request)
        return real_tpe(request)

    monkeypatch.setattr(auto, "_tpe", spy)
    history = testing.random_history(SPACE, 32, seed=6)
    batch = REGISTRY.get("auto").propose(_request("auto", history, 4))
    assert len(set(batch)) == 4 and testing.min_distance(SPACE, batch) >= testing.MIN_BATCH_DISTANCE
    assert len(seen) == 1 and seen[0].k == 1, "slots 32..35: only slot 35 is TPE's"
    gp_points = {t.assignment for t in seen[0].history.pending}
    assert len(gp_points) == 3 and gp_points <= set(batch), "TPE sees the GP's three points as pending"
