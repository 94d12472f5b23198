"""Trial and experiment states with their rules, shared by the spec's status, the store and the controller.

The names are Katib's condition types, so that a status written by tuner reads like Katib's.
"""

from __future__ import annotations

from enum import Enum


class TrialState(str, Enum):
    """The life of a trial: Created -> Running -> one finished state."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    KILLED = "Killed"
    EARLY_STOPPED = "EarlyStopped"
    METRICS_UNAVAILABLE = "MetricsUnavailable"

    @property
    def is_finished(self) -> bool:
        """True for every state a trial never leaves."""
        return self in _FINISHED_TRIAL

    @property
    def is_active(self) -> bool:
        """True while the trial occupies a parallel slot (Katib's pending + running)."""
        return self in (TrialState.CREATED, TrialState.RUNNING)

    @property
    def counts_as_failed(self) -> bool:
        """Katib's rule for maxFailedTrialCount: Failed and MetricsUnavailable both count."""
        return self in (TrialState.FAILED, TrialState.METRICS_UNAVAILABLE)

    def can_become(self, new: TrialState) -> bool:
        """Whether the state machine allows `self -> new` (staying put is always allowed)."""
        return new == self or new in _TRIAL_TRANSITIONS[self]


_FINISHED_TRIAL = frozenset(
    {
        TrialState.SUCCEEDED,
        TrialState.FAILED,
        TrialState.KILLED,
        TrialState.EARLY_STOPPED,
        TrialState.METRICS_UNAVAILABLE,
    }
)

_TRIAL_TRANSITIONS: dict[TrialState, frozenset[TrialState]] = {
    TrialState.CREATED: frozenset({TrialState.RUNNING} | _FINISHED_TRIAL),
    TrialState.RUNNING: _FINISHED_TRIAL,
    **{s: frozenset() for s in _FINISHED_TRIAL},
}


class ExperimentState(str, Enum):
    """Katib's experiment condition types, used as the experiment's current state, plus two of tuner's own.

    INTERRUPTED (Ctrl-C or a signal in the driving process) and STOPPED (`tuner experiments stop`) mean
    "not finished, and nobody drives it": running it again continues it. Katib has no such condition types;
    its status shape shows them as the Running condition turned False with reason ExperimentInterrupted or
    ExperimentStopped (see `controllers.status.conditions_for`).
    """

    CREATED = "Created"
    RUNNING = "Running"
    RESTARTING = "Restarting"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"
    STOPPED = "Stopped"

    @property
    def is_finished(self) -> bool:
        return self in (ExperimentState.SUCCEEDED, ExperimentState.FAILED)

    def can_become(self, new: ExperimentState) -> bool:
        """Finished experiments only move on by restarting (Katib: raising maxTrialCount)."""
        if new == self:
            return True
        if self.is_finished:
            return new == ExperimentState.RESTARTING
        return True


class ExperimentReason(str, Enum):
    """Katib's condition reason strings (experiment/util/status_util.go)."""

    CREATED = "ExperimentCreated"
    RUNNING = "ExperimentRunning"
    RESTARTING = "ExperimentRestarting"
    GOAL_REACHED = "ExperimentGoalReached"
    MAX_TRIALS_REACHED = "ExperimentMaxTrialsReached"
    SUGGESTION_END_REACHED = "ExperimentSuggestionEndReached"
    FAILED = "ExperimentFailed"
    INTERRUPTED = "ExperimentInterrupted"  # tuner's own: Ctrl-C or a signal stopped the driving process
    STOPPED = "ExperimentStopped"  # tuner's own: `tuner experiments stop`
