"""The early-stopping contract: given the objective's series of one running trial and of the others, stop it?

The controller calls `should_stop` every time a running trial reports its objective. Rules are pure
functions of the series, so a restarted controller decides exactly as the old one would have. Settings are
Katib's `earlyStopping.algorithmSettings` (name/value strings), validated with the rest of the spec
(`tuner.spec.early_stopping_rules`) before a stopper is built from them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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


def int_setting(settings: Mapping[str, str], name: str, default: int) -> int:
    """An integer setting, or its default when unset (values were validated with the spec)."""
    raw = settings.get(name)
    return default if raw is None else int(str(raw).strip())
