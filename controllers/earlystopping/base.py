"""The early-stopping contract: given the objective's series of one running trial and of the others, stop it?

The controller calls `should_stop` every time a running trial reports its objective. Rules are pure
functions of the series, so a restarted controller decides exactly as the old one would have. Settings are
Katib's `earlyStopping.algorithmSettings` (name/value strings), checked by `validate_settings`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tuner.errors import Problem


@dataclass(frozen=True)
class Progress:
    """The objective's reports of one trial, in step order, and whether the trial has finished."""

    trial: str
    series: Sequence[tuple[int, float]]
    finished: bool


@dataclass(frozen=True)
class StopDecision:
    """Why a trial was stopped: recorded in the store and shown to the user."""

    rule: str
    step: int
    value: float
    threshold: float
    message: str


class EarlyStopper(ABC):
    """One early-stopping algorithm, configured with validated settings."""

    name: str = ""

    @classmethod
    @abstractmethod
    def validate_settings(cls, settings: Mapping[str, str], path: str) -> list[Problem]:
        """Problems with `settings`, each naming `path` plus the setting."""

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Mapping[str, str]) -> EarlyStopper:
        """Build the stopper; `settings` were validated."""

    @abstractmethod
    def should_stop(self, trial: Progress, others: Sequence[Progress], maximize: bool) -> StopDecision | None:
        """Whether `trial` (still running) should stop now, judged against `others`."""


def best_so_far(series: Sequence[tuple[int, float]], upto_step: int, maximize: bool) -> float | None:
    """The best value reported at or before `upto_step`, or None if nothing was reported by then."""
    values = [v for s, v in series if s <= upto_step]
    if not values:
        return None
    return max(values) if maximize else min(values)


def int_setting(
    settings: Mapping[str, str], name: str, default: int, minimum: int, path: str, problems: list[Problem]
) -> int:
    """Read an integer setting >= `minimum`, recording a problem (and returning the default) if it is bad."""
    raw = settings.get(name)
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        problems.append(Problem(f"{path}[{name}]", f"must be an integer >= {minimum}, got {raw!r}"))
        return default
    if value < minimum:
        problems.append(Problem(f"{path}[{name}]", f"must be >= {minimum}, got {value}"))
        return default
    return value


def unknown_settings(settings: Mapping[str, str], known: Sequence[str], path: str) -> list[Problem]:
    return [
        Problem(f"{path}[{name}]", f"unknown setting; known settings are {', '.join(known)}")
        for name in settings
        if name not in known
    ]
