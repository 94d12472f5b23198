"""Experiment status in Katib's shape: conditions, the best trial so far, trial name lists and counters.

The controller writes it; `kubectl get experiment -o yaml` and `tuner ... -o yaml` show it. Server-written
models keep fields they do not know (a newer Katib may add some), unlike the user-written `spec`.
"""

from __future__ import annotations

from pydantic import Field

from tuner.spec.common import Observation, ParameterAssignment
from tuner.spec.field_types import ConditionStatus, Count, ServerModel, Timestamp


class Condition(ServerModel):
    """One condition of an Experiment or Trial (`Created`, `Running`, `Succeeded`, `Failed`, ...)."""

    type: str | None = None
    status: ConditionStatus | None = None
    reason: str | None = None
    message: str | None = None
    last_update_time: Timestamp | None = Field(default=None, alias="lastUpdateTime")
    last_transition_time: Timestamp | None = Field(default=None, alias="lastTransitionTime")


class OptimalTrial(ServerModel):
    """`status.currentOptimalTrial`: the best trial's name, assignments and observation."""

    best_trial_name: str | None = Field(default=None, alias="bestTrialName")
    parameter_assignments: list[ParameterAssignment] | None = Field(
        default=None, alias="parameterAssignments"
    )
    observation: Observation | None = None
    objective_value: float | None = Field(default=None, alias="objectiveValue")
    """The objective metric's value for this trial, reduced by its strategy (tuner's addition to Katib's
    shape: the observation keeps min, max and latest, and `kubectl get experiments` shows this one)."""


class ParetoTrial(ServerModel):
    """One entry of `status.paretoFront` (tuner's multi-objective extension): a trial no other trial beats
    on every objective, with its assignments and observation (shaped as `currentOptimalTrial`)."""

    trial_name: str | None = Field(default=None, alias="trialName")
    parameter_assignments: list[ParameterAssignment] | None = Field(
        default=None, alias="parameterAssignments"
    )
    observation: Observation | None = None


class ExperimentStatus(ServerModel):
    """`status` of an Experiment (Katib's ExperimentStatus). Counters are None when unset, as Katib omits 0."""

    start_time: Timestamp | None = Field(default=None, alias="startTime")
    completion_time: Timestamp | None = Field(default=None, alias="completionTime")
    last_reconcile_time: Timestamp | None = Field(default=None, alias="lastReconcileTime")
    conditions: list[Condition] | None = None
    current_optimal_trial: OptimalTrial | None = Field(default=None, alias="currentOptimalTrial")
    pareto_front: list[ParetoTrial] | None = Field(default=None, alias="paretoFront")
    """Multi-objective experiments only (`spec.objective.objectives`): the non-dominated trials, by number."""
    running_trial_list: list[str] | None = Field(default=None, alias="runningTrialList")
    pending_trial_list: list[str] | None = Field(default=None, alias="pendingTrialList")
    failed_trial_list: list[str] | None = Field(default=None, alias="failedTrialList")
    succeeded_trial_list: list[str] | None = Field(default=None, alias="succeededTrialList")
    killed_trial_list: list[str] | None = Field(default=None, alias="killedTrialList")
    early_stopped_trial_list: list[str] | None = Field(default=None, alias="earlyStoppedTrialList")
    metrics_unavailable_trial_list: list[str] | None = Field(
        default=None, alias="metricsUnavailableTrialList"
    )
    trials: Count | None = None
    trials_succeeded: Count | None = Field(default=None, alias="trialsSucceeded")
    trials_failed: Count | None = Field(default=None, alias="trialsFailed")
    trials_killed: Count | None = Field(default=None, alias="trialsKilled")
    trials_pending: Count | None = Field(default=None, alias="trialsPending")
    trials_running: Count | None = Field(default=None, alias="trialsRunning")
    trials_early_stopped: Count | None = Field(default=None, alias="trialsEarlyStopped")
    trial_metrics_unavailable: Count | None = Field(default=None, alias="trialMetricsUnavailable")

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, if present."""
        return next((c for c in self.conditions or [] if c.type == type_), None)
