"""The trial history a suggestion algorithm is handed: every trial of the experiment so far.

The controller (or a client of the HTTP service) builds it from the store on every call; algorithms keep
nothing between calls, so any replica can answer. A trial's objective value is already reduced by the
experiment's metric strategy (min / max / latest), as Katib's GetSuggestions request carries it; values
stay in the user's direction and `History.loss` turns them into "lower is better" for the algorithms.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Any

from tuner.errors import Problem, SpecError
from tuner.space import Assignment, SearchSpace
from tuner.states import TrialState


class Direction(str, Enum):
    """The objective's direction (Katib's `objective.type`)."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


# States whose objective value, when present, is a real observation of the assignment (Katib feeds
# early-stopped trials to its algorithms as well).
_OBSERVED_STATES = frozenset({TrialState.SUCCEEDED, TrialState.EARLY_STOPPED})


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the algorithms see it.

    Attributes:
        name: the trial's name (unique within the experiment).
        assignment: its parameter values.
        state: where the trial is in its life; Created and Running trials are pending.
        value: the objective value reduced by the metric strategy, None while unknown or if it never came.
        intermediate: (step, value) pairs reported while the trial ran, in report order.
    """

    name: str
    assignment: Assignment
    state: TrialState
    value: float | None = None
    intermediate: tuple[tuple[int, float], ...] = ()

    @property
    def observed(self) -> bool:
        """True when the trial finished with a usable objective value (Succeeded or EarlyStopped)."""
        return self.state in _OBSERVED_STATES and self.value is not None and math.isfinite(self.value)

    @property
    def pending(self) -> bool:
        """True while the trial occupies a parallel slot (Created or Running)."""
        return self.state.is_active

    @cached_property
    def fingerprint(self) -> bytes:
        """A hash of everything algorithms read from this trial (cached: records are immutable)."""
        text = repr((self.name, self.state.value, self.value, self.assignment.rendered(), self.intermediate))
        return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class History:
    """All trials of an experiment in creation order, and the objective's direction."""

    trials: tuple[TrialRecord, ...] = ()
    direction: Direction = Direction.MINIMIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "trials", tuple(self.trials))
        object.__setattr__(self, "direction", Direction(self.direction))

    def __iter__(self) -> Iterator[TrialRecord]:
        return iter(self.trials)

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def observed(self) -> list[TrialRecord]:
        """Finished trials with an objective value, the ones models learn from."""
        return [t for t in self.trials if t.observed]

    @property
    def pending(self) -> list[TrialRecord]:
        """Created and Running trials: never proposed again, and avoided by parallel suggestions."""
        return [t for t in self.trials if t.pending]

    def loss(self, trial: TrialRecord) -> float:
        """The trial's value as a quantity to minimise (negated for maximize). Needs an observed trial."""
        if trial.value is None:
            raise ValueError(f"trial {trial.name!r} has no objective value")
        return trial.value if self.direction == Direction.MINIMIZE else -trial.value

    def best(self) -> TrialRecord | None:
        """The observed trial with the lowest loss, None before the first observation."""
        observed = self.observed
        return min(observed, key=self.loss) if observed else None

    def keep_informative(self, limit: int) -> History:
        """This history with at most `limit` observations: the best half and the most recent ones.

        Models whose cost grows with the history (GP fits, Parzen estimators) see this beyond their
        limit. Pending trials are always kept (the model must avoid them); the order is unchanged.
        """
        observed = self.observed
        if len(observed) <= limit:
            return self
        keep = {id(t) for t in sorted(observed, key=self.loss)[: limit // 2]}
        for t in reversed(observed):
            if len(keep) >= limit:
                break
            keep.add(id(t))
        return History(tuple(t for t in self.trials if t.pending or id(t) in keep), self.direction)

    def assignments(self) -> set[Assignment]:
        """Every assignment ever proposed, whatever its trial's state."""
        return {t.assignment for t in self.trials}

    def digest(self) -> str:
        """A stable hash of everything algorithms read, for cache keys and per-call seeds."""
        return self._digest

    @cached_property
    def _digest(self) -> str:
        h = hashlib.sha256(self.direction.value.encode())
        for t in self.trials:
            h.update(t.fingerprint)
        return h.hexdigest()[:24]

    # -- JSON form (HTTP service) -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON form: assignments as rendered text, as the store and Katib keep them."""
        return {
            "direction": self.direction.value,
            "trials": [
                {
                    "name": t.name,
                    "assignment": t.assignment.rendered(),
                    "state": t.state.value,
                    "value": t.value,
                    "intermediate": [list(p) for p in t.intermediate],
                }
                for t in self.trials
            ],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], space: SearchSpace, path: str = "history") -> History:
        """Read the JSON form, parsing assignments against `space`.

        Raises:
            SpecError: naming each bad field, e.g. ``history.trials[3].assignment.lr``.
        """
        problems: list[Problem] = []
        trials: list[TrialRecord] = []
        raw_direction = document.get("direction", Direction.MINIMIZE.value)
        try:
            direction = Direction(raw_direction)
        except ValueError:
            problems.append(Problem(f"{path}.direction", f"{raw_direction!r} is not minimize or maximize"))
            direction = Direction.MINIMIZE
        for i, raw in enumerate(document.get("trials") or []):
            try:
                trials.append(_trial_from_dict(raw, space, f"{path}.trials[{i}]"))
            except SpecError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpecError(problems)
        return cls(tuple(trials), direction)


def _trial_from_dict(raw: Mapping[str, Any], space: SearchSpace, where: str) -> TrialRecord:
    problems: list[Problem] = []
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem(f"{where}.name", "every trial needs a non-empty name"))
    try:
        state = TrialState(raw.get("state"))
    except ValueError:
        allowed = ", ".join(s.value for s in TrialState)
        problems.append(Problem(f"{where}.state", f"{raw.get('state')!r} is not one of {allowed}"))
        state = TrialState.CREATED
    value = raw.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        problems.append(Problem(f"{where}.value", f"expected a number or null, got {value!r}"))
        value = None
    assignment = Assignment()
    try:
        assignment = _assignment(raw.get("assignment"), space)
    except SpecError as exc:
        problems += [Problem(f"{where}.assignment.{p.path}", p.message) for p in exc.problems]
    intermediate = _intermediate(raw.get("intermediate") or [], f"{where}.intermediate", problems)
    if problems:
        raise SpecError(problems)
    return TrialRecord(str(name), assignment, state, None if value is None else float(value), intermediate)


def _assignment(raw: object, space: SearchSpace) -> Assignment:
    if not isinstance(raw, Mapping):
        raise SpecError([Problem("", f"expected a mapping of parameter name to value, got {raw!r}")])
    a = space.parse(raw) if all(isinstance(v, str) for v in raw.values()) else space.coerce(raw)
    problems = [
        Problem(p.name, f"{a[p.name]!r} is not an allowed value of this parameter")
        for p in space
        if not p.contains(a[p.name])
    ]
    if problems:
        raise SpecError(problems)
    return a


def _intermediate(raw: Iterable[Any], where: str, problems: list[Problem]) -> tuple[tuple[int, float], ...]:
    out: list[tuple[int, float]] = []
    for j, pair in enumerate(raw):
        try:
            step, value = pair
            out.append((int(step), float(value)))
        except (TypeError, ValueError):
            problems.append(Problem(f"{where}[{j}]", f"expected [step, value], got {pair!r}"))
    return tuple(out)
