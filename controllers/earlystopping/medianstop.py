"""Median stopping, with Katib's settings `min_trials_required` (default 3) and `start_step` (default 4).

At every report from `start_step` on, the running trial's best value so far is compared with the median, over
finished trials that reached the same step, of their best value up to that step; a trial worse than that
median is stopped, once at least `min_trials_required` finished trials reached the step.

Differences from Katib (pkg/earlystopping/v1beta1/medianstop): Katib fixes one threshold when the trial is
created, as the *mean* over succeeded trials of the average of their first `start_step` values, and checks it
exactly once, at the `start_step`-th report. Comparing with the median at the same step, at every report,
is the rule of Golovin et al. (Google Vizier) that the algorithm is named after; it stops bad trials later in
their run too and is not fooled by a few outliers.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from controllers.earlystopping.base import (
    EarlyStopper,
    Progress,
    StopDecision,
    best_so_far,
    int_setting,
)


class MedianStop(EarlyStopper):
    name = "medianstop"

    def __init__(self, min_trials_required: int = 3, start_step: int = 4) -> None:
        self.min_trials_required = min_trials_required
        self.start_step = start_step

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> MedianStop:
        return cls(
            min_trials_required=int_setting(settings, "min_trials_required", 3),
            start_step=int_setting(settings, "start_step", 4),
        )

    def should_stop(self, trial: Progress, others: Sequence[Progress], maximize: bool) -> StopDecision | None:
        if not trial.series:
            return None
        step = max(s for s, _ in trial.series)
        if step < self.start_step:
            return None
        mine = best_so_far(trial.series, step, maximize)
        peers = [
            best
            for other in others
            if other.finished and other.trial != trial.trial and any(s >= step for s, _ in other.series)
            for best in [best_so_far(other.series, step, maximize)]
            if best is not None
        ]
        if mine is None or len(peers) < self.min_trials_required:
            return None
        median = statistics.median(peers)
        worse = mine < median if maximize else mine > median
        if not worse:
            return None
        return StopDecision(
            rule=self.name,
            step=step,
            value=mine,
            threshold=median,
            message=(
                f"best value {mine:g} by step {step} is worse than the median {median:g} "
                f"of {len(peers)} finished trials at that step"
            ),
        )
