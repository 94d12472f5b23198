"""The trial history a suggestion algorithm is handed: every trial of the experiment so far.

The controller (or a client of the HTTP service) builds it from the store on every call; algorithms keep
nothing between calls, so any replica can answer. A trial's objective value is already reduced by the
experiment's metric strategy (min / max / latest), as Katib's GetSuggestions request carries it; values
stay in the user's direction and `History.loss` turns them into "lower is better" for the algorithms.

Several objectives (tuner's extension): `History.directions` holds one direction per objective and each
observed record's `values` one value per objective (the first is also `value`); `History.losses` turns
them into "lower is better". A single-objective history leaves both empty, so nothing else changes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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
        labels: the trial's labels as the algorithm set them (`LabelledAssignment`, e.g. pbt's lineage).
        values: every objective's value when the experiment has several (`value` is the first), else ().
    """

    name: str
    assignment: Assignment
    state: TrialState
    value: float | None = None
    intermediate: tuple[tuple[int, float], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    values: tuple[float, ...] = ()

    @property
    def observed(self) -> bool:
        """True when the trial finished with a usable objective value (Succeeded or EarlyStopped); with
        several objectives, every one of them must be usable."""
        return (
            self.state in _OBSERVED_STATES
            and self.value is not None
            and math.isfinite(self.value)
            and all(math.isfinite(v) for v in self.values)
        )

    @property
    def pending(self) -> bool:
        """True while the trial occupies a parallel slot (Created or Running)."""
        return self.state.is_active

    @cached_property
    def fingerprint(self) -> bytes:
        """A hash of everything algorithms read from this trial (cached: records are immutable)."""
        parts = (self.name, self.state.value, self.value, self.assignment.rendered(), self.intermediate)
        text = repr(parts + ((self.values,) if self.values else ()))
        if self.labels:
            text += repr(sorted(self.labels.items()))
        return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class History:
    """All trials of an experiment in creation order, and the objective's direction."""

    trials: tuple[TrialRecord, ...] = ()
    direction: Direction = Direction.MINIMIZE
    directions: tuple[Direction, ...] = ()
    """One direction per objective when there are several (the first equals `direction`), else ()."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "trials", tuple(self.trials))
        object.__setattr__(self, "directions", tuple(Direction(d) for d in self.directions))
        direction = self.directions[0] if self.directions else self.direction
        object.__setattr__(self, "direction", Direction(direction))

    @property
    def is_multi_objective(self) -> bool:
        """True when the experiment optimises several objectives."""
        return len(self.directions) > 1

    @property
    def objectives(self) -> tuple[Direction, ...]:
        """The direction of every objective (one for a single-objective experiment)."""
        return self.directions or (self.direction,)

    def losses(self, trial: TrialRecord) -> tuple[float, ...]:
        """Every objective's value as a quantity to minimise. Needs an observed trial."""
        if not self.is_multi_objective:
            return (self.loss(trial),)
        if len(trial.values) != len(self.directions):
            raise ValueError(
                f"trial {trial.name!r} has {len(trial.values)} values, not {len(self.directions)}"
            )
        return tuple(
            v if d == Direction.MINIMIZE else -v for v, d in zip(trial.values, self.directions, strict=True)
        )

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
        return History(
            tuple(t for t in self.trials if t.pending or id(t) in keep), self.direction, self.directions
        )

    def assignments(self) -> set[Assignment]:
        """Every assignment ever proposed, whatever its trial's state."""
        return {t.assignment for t in self.trials}

    def digest(self) -> str:
        """A stable hash of everything algorithms read, for cache keys and per-call seeds."""
        return self._digest

    @cached_property
    def _digest(self) -> str:
        h = hashlib.sha256(self.direction.value.encode())
        if self.directions:
            h.update(",".join(d.value for d in self.directions).encode())
        for t in self.trials:
            h.update(t.fingerprint)
        return h.hexdigest()[:24]

    # -- JSON form (HTTP service) -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON form: assignments as rendered text, as the store and Katib keep them; `directions` and
        each trial's `values` only when there are several objectives."""
        document: dict[str, Any] = {
            "direction": self.direction.value,
            "trials": [
                {
                    "name": t.name,
                    "assignment": t.assignment.rendered(),
                    "state": t.state.value,
                    "value": t.value,
                    "intermediate": [list(p) for p in t.intermediate],
                    **({"labels": dict(t.labels)} if t.labels else {}),
                    **({"values": list(t.values)} if t.values else {}),
                }
                for t in self.trials
            ],
        }
        if self.directions:
            document["directions"] = [d.value for d in self.directions]
        return document

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
        directions = _directions(document.get("directions") or [], f"{path}.directions", problems)
        for i, raw in enumerate(document.get("trials") or []):
            try:
                trials.append(_trial_from_dict(raw, space, f"{path}.trials[{i}]", len(directions)))
            except SpecError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpecError(problems)
        return cls(tuple(trials), direction, directions)


def _directions(raw: Any, where: str, problems: list[Problem]) -> tuple[Direction, ...]:
    if not isinstance(raw, list):
        problems.append(Problem(where, f"expected a list of minimize/maximize, got {raw!r}"))
        return ()
    out: list[Direction] = []
    for i, item in enumerate(raw):
        try:
            out.append(Direction(item))
        except ValueError:
            problems.append(Problem(f"{where}[{i}]", f"{item!r} is not minimize or maximize"))
    return tuple(out)


def _trial_from_dict(
    raw: Mapping[str, Any], space: SearchSpace, where: str, objectives: int = 0
) -> TrialRecord:
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
    labels = raw.get("labels") or {}
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        problems.append(Problem(f"{where}.labels", f"expected a mapping of text to text, got {labels!r}"))
        labels = {}
    values = _values(raw.get("values"), objectives, f"{where}.values", problems)
    if problems:
        raise SpecError(problems)
    number = None if value is None else float(value)
    return TrialRecord(str(name), assignment, state, number, intermediate, labels=dict(labels), values=values)


def _values(raw: Any, objectives: int, where: str, problems: list[Problem]) -> tuple[float, ...]:
    """A trial's objective values: absent, or one number per objective when there are several."""
    if raw is None or raw == []:
        return ()
    ok = isinstance(raw, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    if not ok or objectives < 2 or len(raw) != objectives:
        problems.append(
            Problem(
                where, f"expected {objectives} numbers (one per direction in history.directions), got {raw!r}"
            )
        )
        return ()
    return tuple(float(v) for v in raw)


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
