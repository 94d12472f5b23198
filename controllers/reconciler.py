"""The experiment reconcile loop: level-based and idempotent, with the store as the truth.

One pass reads the experiment and its trials from the store, lets the supervisor settle the trials that
ended, decides whether the experiment is over (Katib's rules, in Katib's order) and otherwise tops up the
running trials: `min(parallelTrialCount, maxTrialCount - completed) - active` new trials are asked of the
suggestion algorithm, recorded as Created, then launched. It returns how soon to look again. Nothing the
pass learns lives only in memory: killed at any point, a new controller continues from the store.

End rules (Katib's experiment status util, in order):
    best value by the objective's metric strategy meets `objective.goal`       -> Succeeded, ExperimentGoalReached
    Failed + MetricsUnavailable trials >= maxFailedTrialCount (and at least 1) -> Failed, ExperimentFailed
    completed trials >= maxTrialCount                                            -> Succeeded, ExperimentMaxTrialsReached
    the algorithm has nothing new and no trial is active                        -> Succeeded, ExperimentSuggestionEndReached
Trials still running when the experiment ends are stopped and counted Killed (Katib leaves them running).
Killed trials do not count towards maxTrialCount: a trial is killed only because the user interrupted the
run or the experiment already ended, and a resumed run should still deliver the trials asked for.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controllers.earlystopping import Progress
from controllers.errors import PermanentError
from controllers.status import (
    MetricView,
    TrialView,
    conditions_for,
    now_rfc3339,
    optimal_trial,
    trial_counts,
)
from controllers.supervisor import Settled, Supervisor
from tuner.errors import SearchExhaustedError, SuggestionError
from tuner.spec import Experiment
from tuner.states import ExperimentReason, ExperimentState, TrialState
from tuner.store import Store
from tuner.store.records import Assignment as StoredAssignment
from tuner.store.records import Goal, MetricStrategy, Trial

COMPLETED = frozenset(
    {TrialState.SUCCEEDED, TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.METRICS_UNAVAILABLE}
)
"""States that use up the trial budget (Katib also counts Killed; see the module docstring)."""

OBSERVED = (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
"""States whose objective value counts for the optimal trial and the goal."""

Proposal = tuple[dict[str, str], dict[str, float | None]]
"""A suggestion as the reconciler records it: rendered values, and numeric copies for sorting."""

SuggestFn = Callable[[Sequence[Trial], int], list[Proposal]]
"""Given every trial so far and a count k, k new assignments (raises SearchExhaustedError when done)."""


@dataclass(frozen=True)
class Result:
    """What a pass concluded: whether the experiment is over, and when to look again if not."""

    finished: bool
    requeue_after: float = 0.0
    state: ExperimentState = ExperimentState.RUNNING
    reason: ExperimentReason = ExperimentReason.RUNNING


class ExperimentReconciler:
    """Drives one experiment (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        experiment_id: int,
        experiment: Experiment,
        supervisor: Supervisor,
        suggest: SuggestFn,
        *,
        on_settled: Callable[[Settled], None] | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.store = store
        self.experiment_id = experiment_id
        self.experiment = experiment
        self.supervisor = supervisor
        self.suggest = suggest
        self.on_settled = on_settled
        self.poll_interval = poll_interval
        spec = experiment.spec
        self.objective = spec.objective.objective_metric_name or ""
        self.maximize = spec.objective.type is not None and spec.objective.type.value == "maximize"
        self.goal = Goal.MAXIMIZE if self.maximize else Goal.MINIMIZE
        self.strategy = MetricStrategy(spec.objective.strategy_for(self.objective).value)
        self._exhausted = False
        self._peer_cache: dict[int, Progress] = {}

    # -- one pass -------------------------------------------------------------------------------
    def reconcile(self) -> Result:
        """One level-based pass; see the module docstring."""
        peers = self._peers() if self.supervisor.needs_peers else None
        for settled in self.supervisor.tick(peers):
            self._notify(settled)
        trials = self.store.list_trials(self.experiment_id)
        self._start_waiting(trials)
        ending = self._ending(trials)
        if ending is not None:
            return self.finish(*ending)
        trials = self._top_up(trials)
        ending = self._ending(trials)
        if ending is not None:
            return self.finish(*ending)
        self._write_status(trials, ExperimentState.RUNNING, ExperimentReason.RUNNING)
        return Result(finished=False, requeue_after=self.poll_interval)

    def adopt_running(self) -> list[Trial]:
        """After a restart: follow the trials an earlier process left running; returns those it lost."""
        lost: list[Trial] = []
        for trial in self.store.list_trials(self.experiment_id, states=[TrialState.RUNNING]):
            if trial.id not in self.supervisor.active and not self.supervisor.adopt(trial):
                lost.append(trial)
        return lost

    def finish(self, state: ExperimentState, reason: ExperimentReason, message: str | None = None) -> Result:
        """End the experiment: stop what still runs (Killed), write the final status."""
        for settled in self.supervisor.stop_all(TrialState.KILLED, "the experiment ended"):
            self._notify(settled)
        trials = self.store.list_trials(self.experiment_id)
        self._write_status(trials, state, reason, message)
        return Result(finished=True, state=state, reason=reason)

    def interrupt(self) -> None:
        """Ctrl-C or `tuner experiments stop`: stop the running trials, leave the experiment resumable."""
        for settled in self.supervisor.stop_all(TrialState.KILLED, "the run was interrupted"):
            self._notify(settled)
        trials = self.store.list_trials(self.experiment_id)
        self._write_status(trials, ExperimentState.RUNNING, ExperimentReason.RUNNING)

    # -- deciding -------------------------------------------------------------------------------
    def _ending(self, trials: Sequence[Trial]) -> tuple[ExperimentState, ExperimentReason] | None:
        spec = self.experiment.spec
        best = self.store.best_trial(
            self.experiment_id, self.objective, self.goal, self.strategy, states=OBSERVED
        )
        goal = spec.objective.goal
        if (
            best is not None
            and goal is not None
            and (best.value >= goal if self.maximize else best.value <= goal)
        ):
            return ExperimentState.SUCCEEDED, ExperimentReason.GOAL_REACHED
        failed = sum(1 for t in trials if t.state.counts_as_failed)
        limit = spec.max_failed_trial_count
        if limit is not None and failed > 0 and failed >= limit:
            return ExperimentState.FAILED, ExperimentReason.FAILED
        completed = sum(1 for t in trials if t.state in COMPLETED)
        if spec.max_trial_count is not None and completed >= spec.max_trial_count:
            return ExperimentState.SUCCEEDED, ExperimentReason.MAX_TRIALS_REACHED
        active = sum(1 for t in trials if t.state.is_active)
        if self._exhausted and active == 0:
            return ExperimentState.SUCCEEDED, ExperimentReason.SUGGESTION_END_REACHED
        return None

    def _top_up(self, trials: list[Trial]) -> list[Trial]:
        spec = self.experiment.spec
        active = sum(1 for t in trials if t.state.is_active)
        completed = sum(1 for t in trials if t.state in COMPLETED)
        parallel = spec.parallel_trial_count or 3
        budget = (spec.max_trial_count - completed) if spec.max_trial_count is not None else parallel
        wanted = min(parallel, budget) - active
        if wanted <= 0 or self._exhausted or not self.supervisor.can_start():
            return trials
        try:
            proposals = self.suggest(trials, wanted)
        except SearchExhaustedError:
            self._exhausted = True
            return trials
        except SuggestionError as exc:
            raise PermanentError(f"the suggestion algorithm failed: {exc}") from exc
        if not proposals:
            self._exhausted = True
            return trials
        number = max((t.number for t in trials), default=-1) + 1
        created: list[Trial] = []
        for offset, (rendered, numeric) in enumerate(proposals[:wanted]):
            assignments = [StoredAssignment(n, v, numeric.get(n)) for n, v in rendered.items()]
            name = self._trial_name()
            trial = self.store.create_trial(
                self.experiment_id,
                name,
                assignments,
                number=number + offset,
                run_spec=self.supervisor.backend.run_spec(name, rendered),
            )
            created.append(trial)
        for trial in created:
            if not self.supervisor.start(trial):
                break  # resources busy: the rest waits as Created and starts in a later pass
        return self.store.list_trials(self.experiment_id)

    def _start_waiting(self, trials: Sequence[Trial]) -> None:
        """Launch Created trials recorded earlier (waiting for resources, or left by a crash)."""
        for trial in trials:
            waiting = trial.state == TrialState.CREATED and trial.id not in self.supervisor.active
            if waiting and not self.supervisor.start(trial):
                return

    def _trial_name(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return f"{self.experiment.name}-{''.join(secrets.choice(alphabet) for _ in range(8))}"

    # -- status ---------------------------------------------------------------------------------
    def _write_status(
        self,
        trials: Sequence[Trial],
        state: ExperimentState,
        reason: ExperimentReason,
        message: str | None = None,
    ) -> None:
        record = self.store.get_experiment_by_id(self.experiment_id)
        previous = dict(record.status or {})
        now = now_rfc3339()
        conditions = list(previous.get("conditions") or [])
        if record.state != state or not conditions or message is not None:
            conditions = conditions_for(conditions, state, reason, now, message)
        status: dict[str, object] = {
            "startTime": previous.get("startTime") or now,
            "conditions": conditions,
            **trial_counts([TrialView(t.name, t.state, ()) for t in trials]),
        }
        optimal = self._optimal()
        if optimal is not None:
            status["currentOptimalTrial"] = optimal
        if state.is_finished:
            status["completionTime"] = previous.get("completionTime") or now
        comparable = {k: v for k, v in previous.items() if k != "lastReconcileTime"}
        if comparable == status and record.state == state:
            return
        status["lastReconcileTime"] = now
        self.store.update_experiment_status(self.experiment_id, state, status)

    def _optimal(self) -> dict[str, object] | None:
        best = self.store.best_trial(
            self.experiment_id, self.objective, self.goal, self.strategy, states=OBSERVED
        )
        if best is None:
            return None
        summaries = self.store.metric_summaries(best.trial.id)
        view = TrialView(
            best.trial.name,
            best.trial.state,
            [(a.name, a.value) for a in best.trial.assignments],
            {name: MetricView(s.min, s.max, s.latest) for name, s in summaries.items()},
        )
        return optimal_trial(view, self.experiment.spec.objective.metric_names)

    # -- early stopping peers -------------------------------------------------------------------
    def _peers(self) -> list[Progress]:
        """Every trial's objective series, finished ones cached (they never change)."""
        series = self.store.experiment_metric_series(self.experiment_id, self.objective)
        trials = {t.id: t for t in self.store.list_trials(self.experiment_id)}
        peers: list[Progress] = []
        for trial_id, points in series.items():
            trial = trials.get(trial_id)
            if trial is None:
                continue
            if trial_id in self._peer_cache:
                peers.append(self._peer_cache[trial_id])
                continue
            progress = Progress(
                trial.name,
                [(p.step if p.step is not None else i + 1, p.value) for i, p in enumerate(points)],
                finished=trial.state.is_finished,
            )
            if progress.finished:
                self._peer_cache[trial_id] = progress
            peers.append(progress)
        return peers

    def _notify(self, settled: Settled) -> None:
        if self.on_settled is not None:
            self.on_settled(settled)
