"""Which trials a figure draws: the trials of a metric, and a cap on the count that keeps the best ones.

A figure of 10,000 trials would send megabytes to the browser and draw nothing a reader can tell apart, so
every figure draws at most `max_points` points: the best fifth of the cap by the metric, plus an even
sample (by trial number) of the rest, which keeps the shape of the cloud and the trend over time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tuner.visualization.data import ExperimentData, MetricInfo, TrialData
from tuner.visualization.options import FigureOptionError

FINISHED_WITH_VALUE = ("Succeeded", "EarlyStopped")
BEST_SHARE = 5
"""One point in BEST_SHARE of the cap goes to the best trials."""


def metric_of(data: ExperimentData, name: str | None, option: str = "metric") -> MetricInfo:
    try:
        return data.metric(name)
    except KeyError:
        known = ", ".join(m.name for m in data.metrics)
        raise FigureOptionError(
            f"option {option}={name!r}: experiment {data.name!r} has no such metric; give one of {known}"
        ) from None


def params_of(data: ExperimentData, names: Sequence[str] | None, option: str = "params") -> list[str]:
    """The parameters to draw, checked against the spec (default: all, in the spec's order)."""
    known = [p.name for p in data.parameters]
    if names is None:
        return known
    for name in names:
        if name not in known:
            raise FigureOptionError(
                f"option {option} names {name!r}, which experiment {data.name!r} does not have: "
                f"give some of {', '.join(known)}"
            )
    if not names:
        raise FigureOptionError(f"option {option} is empty: give some of {', '.join(known)}")
    return list(names)


def trials_with(
    data: ExperimentData, metric: MetricInfo, states: Sequence[str] | None
) -> list[tuple[TrialData, float]]:
    """Trials (in `states`, default any state) that have a finite value of `metric`, by trial number."""
    out = []
    for trial in data.trials:
        if states is not None and trial.state not in states:
            continue
        value = trial.metrics.get(metric.name)
        if value is not None and math.isfinite(value):
            out.append((trial, value))
    return out


def sample_indices(values: Sequence[float], cap: int, maximize: bool) -> list[int]:
    """Indices (ascending) of at most `cap` items: the best cap/BEST_SHARE by value, then an even sample."""
    n = len(values)
    if n <= cap:
        return list(range(n))
    best_count = max(1, cap // BEST_SHARE)
    order = sorted(range(n), key=lambda i: values[i], reverse=maximize)
    keep = set(order[:best_count])
    rest = [i for i in range(n) if i not in keep]
    room = cap - len(keep)
    if room > 0 and rest:
        stride = len(rest) / room
        keep.update(rest[min(int(k * stride), len(rest) - 1)] for k in range(room))
    return sorted(keep)


def even_indices(n: int, cap: int) -> list[int]:
    """At most `cap` indices of range(n), evenly spread (the first and the last included)."""
    if n <= cap:
        return list(range(n))
    if cap <= 1:
        return [n - 1] if cap == 1 else []
    return sorted({round(k * (n - 1) / (cap - 1)) for k in range(cap)})


def capped(rows: list[tuple[TrialData, float]], cap: int, maximize: bool) -> list[tuple[TrialData, float]]:
    """`rows` cut to `cap` by `sample_indices` (the best kept), still by trial number."""
    return [rows[i] for i in sample_indices([v for _, v in rows], cap, maximize)]


def best_so_far(values: Sequence[float], maximize: bool) -> list[float]:
    out: list[float] = []
    best = -math.inf if maximize else math.inf
    for value in values:
        best = max(best, value) if maximize else min(best, value)
        out.append(best)
    return out


def auto_log(values: Sequence[float], requested: bool | None) -> bool:
    """A log axis when asked, or (auto) when every value is positive and they span 3 decades or more."""
    if requested is not None:
        return requested
    finite = [v for v in values if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) >= 1000
