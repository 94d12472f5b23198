"""Asynchronous successive halving (ASHA, Li et al. 2020) for trials that report a step.

Settings (all optional):
- `min_resource` (default 1): the first rung's step.
- `reduction_factor` (default 3, >= 2): rungs sit at min_resource * reduction_factor**k, and at each rung only
  the best 1/reduction_factor of the trials that reached it go on.
- `min_early_stopping_rate` (default 0): skips the first rungs (rung k is at
  min_resource * reduction_factor**(k + min_early_stopping_rate)).

A trial reaching a rung is compared with every trial (finished or running) that reported at that rung so far.
It goes on if its best value up to the rung ranks within the top `len(rung) // reduction_factor`; while
fewer than `reduction_factor` trials reached the rung, only a trial at least as good as the best goes on
(decisions are asynchronous: no trial ever waits for others). Each rung is judged once per trial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from controllers.earlystopping.base import (
    EarlyStopper,
    Progress,
    StopDecision,
    best_so_far,
    int_setting,
)


class Asha(EarlyStopper):
    name = "asha"

    def __init__(
        self, min_resource: int = 1, reduction_factor: int = 3, min_early_stopping_rate: int = 0
    ) -> None:
        self.min_resource = min_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Asha:
        return cls(
            min_resource=int_setting(settings, "min_resource", 1),
            reduction_factor=int_setting(settings, "reduction_factor", 3),
            min_early_stopping_rate=int_setting(settings, "min_early_stopping_rate", 0),
        )

    def rung_steps(self, up_to: int) -> list[int]:
        """The steps of the rungs at or below `up_to`."""
        steps: list[int] = []
        k = 0
        while True:
            step = self.min_resource * self.reduction_factor ** (k + self.min_early_stopping_rate)
            if step > up_to:
                return steps
            steps.append(step)
            k += 1

    def should_stop(self, trial: Progress, others: Sequence[Progress], maximize: bool) -> StopDecision | None:
        if not trial.series:
            return None
        last_step = max(s for s, _ in trial.series)
        rungs = self.rung_steps(last_step)
        if not rungs:
            return None
        rung = rungs[-1]
        earlier = [s for s, _ in trial.series if s < last_step]
        if earlier and max(earlier) >= rung:
            return None  # this rung was judged at the report that first reached it
        mine = best_so_far(trial.series, rung, maximize)
        if mine is None:
            return None
        competitors = [mine]
        for other in others:
            if other.trial == trial.trial or not any(s >= rung for s, _ in other.series):
                continue
            value = best_so_far(other.series, rung, maximize)
            if value is not None:
                competitors.append(value)
        keep = max(len(competitors) // self.reduction_factor, 1)
        ranked = sorted(competitors, reverse=maximize)
        threshold = ranked[keep - 1]
        goes_on = mine >= threshold if maximize else mine <= threshold
        if goes_on:
            return None
        return StopDecision(
            rule=self.name,
            step=rung,
            value=mine,
            threshold=threshold,
            message=(
                f"at rung step {rung} its best value {mine:g} is outside the top {keep} of "
                f"{len(competitors)} trials (cut-off {threshold:g})"
            ),
        )
