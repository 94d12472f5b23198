"""`hyperband`: successive halving in brackets over a resource parameter (epochs, samples, ...).

Katib's settings: ``r_l`` (required), the largest resource a trial gets; ``resource_name`` (required),
the parameter that carries it; ``eta`` (3), the halving rate. With s_max = int(log(r_l) / log(eta)),
bracket s = s_max .. 0 starts n = ceil((s_max + 1) / (s + 1) * eta^s) random configurations with resource
r = int(r_l * eta^-s); each rung keeps the best 1/eta of the previous one (failed trials rank last) and
gives them int(r * eta^i). After the last bracket a new round of brackets begins, until the experiment's
maxTrialCount ends it.

Validation is Katib's (its suggestion service's ValidateAlgorithmSettings): both required settings set,
r_l a positive number, eta read as int(eta) with 0 or less meaning 3, resource_name one of the parameters,
and parallelTrialCount at least ceil(int(eta)^s_max), the size of the first bracket. Katib does not bound
the resource by its parameter's feasibleSpace: its example fixes `num-epochs` to min = max = 1 and runs with
r_l 2, so the trials get 1 and then 2 epochs. Here too the resource takes the schedule's values whatever the
parameter's range (`proposal_space` widens that one parameter for the algorithm). Refused beyond Katib: an
eta between 0 and 2 (Katib's service divides by log(int(eta)) = 0, or loops on a negative exponent), an r_l
so small that no bracket exists (s_max < 0: Katib's service then answers nothing), and a categorical or
discrete resource. A double resource keeps the exact value r_l * eta^(i - s) (Katib writes its integer
part); an int resource gets Katib's integer part.

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
from tuner.space import Assignment, IntParameter, NumericRange, SearchSpace, Value

_MAX_DRAWS_PER_POINT = 50


def _eta(text: str) -> float:
    """Katib's eta: a number; 0 or less means the default 3; below 2 Katib's service cannot run."""
    try:
        eta = float(text)
    except ValueError:
        raise ValueError("must be a number of at least 2 (0 or less means 3)") from None
    if not math.isfinite(eta) or 0 < eta < 2:
        raise ValueError("must be a number of at least 2 (0 or less means 3)")
    return 3.0 if eta <= 0 else eta


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
        Setting("eta", _eta, 3.0, "halving rate: each rung keeps the best 1/eta (0 or less: 3)"),
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
        if not isinstance(space[name], NumericRange):
            return [
                Problem(
                    "algorithmSettings.resource_name",
                    f"parameter {name!r} must be int or double to hold a resource",
                )
            ]
        r_l, eta = settings["r_l"], settings["eta"]
        if _s_max(r_l, eta) < 0:
            return [
                Problem(
                    "algorithmSettings.r_l",
                    f"{r_l:g} gives no bracket with eta {eta:g} (int(log(r_l) / log(eta)) is below 0); "
                    "use r_l of at least 1",
                )
            ]
        first_bracket = math.ceil(int(eta) ** _s_max(r_l, int(eta)))
        if parallel_trial_count is not None and parallel_trial_count < first_bracket:
            return [
                Problem(
                    "parallelTrialCount",
                    f"must be at least {first_bracket} for hyperband with r_l {r_l:g} and eta {eta:g} "
                    f"(its first bracket starts {first_bracket} trials at once), got {parallel_trial_count}",
                )
            ]
        return []

    def proposal_space(self, settings: Mapping[str, Any], space: SearchSpace) -> SearchSpace:
        """The space with the resource parameter's range widened to every value the schedule gives it."""
        name = settings["resource_name"]
        if name not in space:
            return space
        p = space[name]
        if not isinstance(p, NumericRange) or _s_max(settings["r_l"], settings["eta"]) < 0:
            return space
        values = _resource_values(settings["r_l"], settings["eta"], p)
        if all(p.contains(v) for v in values):
            return space
        numbers = [float(v) for v in values if isinstance(v, (int, float))]
        low, high = min([p.low, *numbers]), max([p.high, *numbers])
        widened = {**p.to_spec()["feasibleSpace"], "min": _text(low, p), "max": _text(high, p)}
        widened.pop("step", None)
        specs = [{**q.to_spec(), "feasibleSpace": widened} if q.name == name else q.to_spec() for q in space]
        return SearchSpace.from_parameters(specs, "parameters")

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        settings, space, history = request.settings, request.space, request.history
        resource = space[settings["resource_name"]]
        assert isinstance(resource, NumericRange)
        rungs = _schedule(settings["r_l"], settings["eta"], resource)  # `space` is `proposal_space`
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


def _s_max(r_l: float, eta: float) -> int:
    """Katib's s_max: int(log(r_l) / log(eta)), truncated toward zero as Katib's service does."""
    return int(math.log(r_l) / math.log(eta))


def _resource(r_l: float, eta: float, s: int, i: int, resource: NumericRange) -> Value:
    """The resource of rung i of bracket s: Katib's int(int(r_l * eta^-s) * eta^i) for an int parameter."""
    if isinstance(resource, IntParameter):
        base = int(r_l * eta ** (-s) + 1e-9)  # the tolerance keeps 9 * 3^-2 at 1, never 0.999...
        return int(base * eta**i + 1e-9)
    return float(r_l * eta ** (i - s))


def _resource_values(r_l: float, eta: float, resource: NumericRange) -> set[Value]:
    s_max = _s_max(r_l, eta)
    return {_resource(r_l, eta, s, i, resource) for s in range(s_max + 1) for i in range(s + 1)}


def _text(value: float, p: NumericRange) -> str:
    return str(int(value)) if isinstance(p, IntParameter) else repr(float(value))


def _schedule(r_l: float, eta: float, resource: NumericRange) -> Iterator[Rung]:
    """The rungs of every bracket, round after round, without end."""
    s_max = _s_max(r_l, eta)
    while True:
        for s in range(s_max, -1, -1):
            n = math.ceil((s_max + 1) / (s + 1) * eta**s)
            for i in range(s + 1):
                size = max(1, math.ceil(n / eta**i - 1e-9))
                yield Rung(s, i, size, _resource(r_l, eta, s, i, resource))


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
