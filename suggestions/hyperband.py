"""`hyperband`: successive halving in brackets over a resource parameter (epochs, samples, ...).

Katib's settings: ``r_l`` (required), the largest resource a trial gets; ``resource_name`` (required),
the parameter that carries it; ``eta`` (3), the halving rate. With s_max = floor(log_eta(r_l)), bracket
s = s_max .. 0 starts n = ceil((s_max + 1) / (s + 1) * eta^s) random configurations with resource
r_l * eta^-s; each rung keeps the best 1/eta of the previous one (failed trials rank last) and gives
them eta times the resource. After the last bracket a new round of brackets begins, until the
experiment's maxTrialCount ends it.

Stateless: the bracket state is recomputed from the history on every call. Trials fill the rungs in
history order (a trial belongs to the current rung when its resource matches; others are ignored), so
no state needs storing, unlike Katib's service which writes it back into the Suggestion's settings. A
rung after the first needs every trial of the previous rung finished: until then `propose` answers
nothing and the controller asks again when a trial ends. Random configurations come from the priors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from suggestions.base import Suggester, SuggestRequest
from suggestions.history import History, TrialRecord
from suggestions.settings import Setting, SettingsSchema, number, random_state_setting, text
from tuner.errors import Problem, SearchExhaustedError
from tuner.space import Assignment, NumericRange, SearchSpace, Value

_MAX_DRAWS_PER_POINT = 50


@dataclass(frozen=True)
class Rung:
    """One rung of a bracket: how many trials it holds and the resource each gets."""

    bracket: int
    index: int
    size: int
    resource: Value


class HyperbandSuggester(Suggester):
    """Hyperband (Li et al.) with Katib's settings, recomputed from the history on every call."""

    name = "hyperband"
    settings_schema = SettingsSchema(
        Setting("r_l", number(0, low_open=True), None, "the largest resource a trial gets", required=True),
        Setting("resource_name", text(), None, "the parameter that carries the resource", required=True),
        Setting("eta", number(1, low_open=True), 3.0, "halving rate: each rung keeps the best 1/eta"),
        random_state_setting(),
    )

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        name = settings["resource_name"]
        if name not in space:
            return [
                Problem(
                    "algorithmSettings.resource_name",
                    f"{name!r} is not a parameter; name one of {space.names}",
                )
            ]
        p = space[name]
        if not isinstance(p, NumericRange):
            return [
                Problem(
                    "algorithmSettings.resource_name",
                    f"parameter {name!r} must be int or double to hold a resource",
                )
            ]
        if settings["r_l"] > p.high:
            return [
                Problem(
                    "algorithmSettings.r_l",
                    f"{settings['r_l']:g} is above the maximum of {name!r} ({p.high:g})",
                )
            ]
        return []

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        settings, space, history = request.settings, request.space, request.history
        resource = space[settings["resource_name"]]
        assert isinstance(resource, NumericRange)
        rungs = _schedule(settings["r_l"], settings["eta"], resource)
        members = _fill(rungs, history, resource.name)
        rung, filled = members[-1]
        free = rung.size - len(filled)
        if rung.index == 0:
            return self._new_configs(request, resource.name, rung.resource, min(free, request.k))
        previous = members[-2][1]
        if any(t.pending for t in previous):
            return []  # the rung it promotes from is still running
        promoted = {_config(t.assignment, resource.name) for t in filled}
        ranked = sorted(previous, key=lambda t: (not t.observed, history.loss(t) if t.observed else 0.0))
        out = []
        for t in ranked[: rung.size]:
            config = _config(t.assignment, resource.name)
            if config in promoted:
                continue
            promoted.add(config)
            candidate = Assignment({**t.assignment, resource.name: rung.resource})
            if request.is_new(candidate):
                out.append(candidate)
            if len(out) == min(free, request.k):
                break
        return out

    def _new_configs(
        self, request: SuggestRequest, resource_name: str, value: Value, n: int
    ) -> list[Assignment]:
        out: list[Assignment] = []
        seen = set(request.taken)
        for _ in range(_MAX_DRAWS_PER_POINT * n):
            a = Assignment({**request.space.sample(request.rng), resource_name: value})
            if a not in seen:
                seen.add(a)
                out.append(a)
                if len(out) == n:
                    return out
        if not out and request.space.size is not None:
            raise SearchExhaustedError(f"hyperband: no new configuration left for resource {value}")
        return out


def _schedule(r_l: float, eta: float, resource: NumericRange) -> Iterator[Rung]:
    """The rungs of every bracket, round after round, without end."""
    s_max = math.floor(math.log(r_l) / math.log(eta) + 1e-9)
    while True:
        for s in range(s_max, -1, -1):
            n = math.ceil((s_max + 1) / (s + 1) * eta**s)
            for i in range(s + 1):
                r_i = r_l * eta ** (i - s)
                yield Rung(s, i, max(1, math.ceil(n / eta**i - 1e-9)), resource.nearest(r_i))


def _fill(
    rungs: Iterator[Rung], history: History, resource_name: str
) -> list[tuple[Rung, list[TrialRecord]]]:
    """Assign the history's trials to rungs in order; returns the rungs up to the first one not full."""
    trials = iter(history.trials)
    members: list[tuple[Rung, list[TrialRecord]]] = []
    for rung in rungs:
        filled: list[TrialRecord] = []
        members.append((rung, filled))
        while len(filled) < rung.size:
            t = next(trials, None)
            if t is None:
                return members[-2:] if rung.index > 0 else members[-1:]
            if t.assignment[resource_name] == rung.resource:
                filled.append(t)
        if len(members) > 2:
            del members[0]
    raise AssertionError("unreachable: the schedule never ends")


def _config(a: Assignment, resource_name: str) -> Assignment:
    return Assignment((k, v) for k, v in a.items() if k != resource_name)
