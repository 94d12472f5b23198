"""What every metrics collector produces: observations of declared metrics, in report order.

Collectors are pure parsers fed with text as the trial writes it (a log or a metrics file, tailed while the
trial runs), so the same code serves live streaming, early stopping and re-reading a log after a restart.
They never talk to the store; the controller records what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Observation:
    """One reported value of one metric.

    `step` is the trial's own step when it gave one (push, JSON `step`), otherwise the 1-based number of this
    report of the metric in the trial: Katib's early stopping counts reports the same way.
    `timestamp` is the time the trial wrote down, or the time the line was read when it gave none.
    """

    metric: str
    value: float
    step: int
    timestamp: datetime


class StepCounter:
    """Numbers the reports of each metric 1, 2, 3, ... unless the trial names its own step."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def next(self, metric: str, explicit: int | None = None) -> int:
        count = self._counts.get(metric, 0) + 1
        if explicit is not None:
            count = max(explicit, 0)
        self._counts[metric] = count
        return count

    def reports(self, metric: str) -> int:
        return self._counts.get(metric, 0)


def parse_number(text: str) -> float | None:
    """The float a metric's text stands for, or None when it is not a number (e.g. an empty match)."""
    try:
        return float(text.strip())
    except ValueError:
        return None


class LineSplitter:
    """Turns chunks of text into complete lines, keeping a partial last line until it is finished."""

    def __init__(self) -> None:
        self._partial = ""

    def feed(self, chunk: str) -> list[str]:
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()
        return [line.rstrip("\r") for line in lines]

    def flush(self) -> list[str]:
        """The unfinished last line, once the writer is done."""
        rest, self._partial = self._partial, ""
        return [rest.rstrip("\r")] if rest.strip() else []


def declared_metrics(objective: str, additional: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics a collector keeps: the objective first, then the additional ones, without repeats."""
    names = [objective, *(additional or ())]
    return tuple(dict.fromkeys(n for n in names if n))


def latest(observations: Iterable[Observation]) -> Observation | None:
    """Katib's `latest`: the newest by timestamp; among equal timestamps the one reported last."""
    best: Observation | None = None
    for obs in observations:
        if best is None or obs.timestamp >= best.timestamp:
            best = obs
    return best
