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
Unlike Katib, the last two end Failed (ExperimentFailed, the message says "no trial succeeded") when no
trial succeeded: an experiment whose every trial failed has no result, and must not read as a success.
Trials still running when the experiment ends are stopped and counted Killed (Katib leaves them running).
Killed trials do not count towards maxTrialCount: a trial is killed only because the user interrupted the
run or the experiment already ended, and a resumed run should still deliver the trials asked for.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass

from controllers.earlystopping import Progress
from controllers.errors import PermanentError, TemporaryError
from controllers.pareto_status import ParetoDocuments, other_objectives
from controllers.status import (
    TrialView,
    conditions_for,
    no_optimal_trial,
    now_rfc3339,
    optimal_trial,
    stored_trial_view,
    trial_counts,
)
from controllers.supervisor import Settled, Supervisor
from controllers.view import OBSERVED, ExperimentView
from tuner.errors import SearchExhaustedError, SuggestionError
from tuner.spec import Experiment
from tuner.states import ExperimentReason, ExperimentState, TrialState
from tuner.store import Store
from tuner.store.records import Assignment as StoredAssignment
from tuner.store.records import Trial

COMPLETED = frozenset(
    {TrialState.SUCCEEDED, TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.METRICS_UNAVAILABLE}
)
"""States that use up the trial budget (Katib also counts Killed; see the module docstring)."""

COUNTS_REFRESH_SECONDS = 1.0
"""How often a running experiment re-reads the counts a user may change from the store."""

Proposal = tuple[dict[str, str], dict[str, float | None], dict[str, str]]
"""A suggestion as the reconciler records it: rendered values, numeric copies for sorting, and the trial
labels the algorithm asked for (pbt's generation and parent; usually none)."""

SuggestFn = Callable[[ExperimentView, int], list[Proposal]]
"""Given the experiment's trials so far and a count k, k new assignments (SearchExhaustedError when done)."""


def no_success_message(completed: int, why: ExperimentReason) -> str:
    """The Failed condition's message of an experiment that ended with no successful trial."""
    ended = (
        "the trial budget is used up"
        if why == ExperimentReason.MAX_TRIALS_REACHED
        else "the algorithm has nothing more to try"
    )
    return (
        f"Experiment has failed because no trial succeeded: {ended} and all {completed} completed "
        "trials failed (see each trial's message and log)"
    )


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
        strategy = spec.objective.strategy_for(self.objective).value
        self.view = ExperimentView(store, experiment_id, self.objective, strategy, self.maximize)
        self.view.others = other_objectives(spec.objective)  # several objectives: tuner's extension
        self.view.load()
        self._exhausted = False
        self._suggest_after = 0.0
        self.suggestion_unavailable: str | None = None
        """Why the last pass could not get suggestions (a temporary error), for progress displays."""
        record = store.get_experiment_by_id(experiment_id)
        self._last_status: dict[str, object] = dict(record.status or {})
        self._last_state = record.state
        self._status_best: int | None = None
        self._status_written = 0.0
        self._optimal_doc: dict[str, object] | None = None
        self._pareto = ParetoDocuments(store, spec.objective.metric_names)
        self._counts_read = time.monotonic()  # the spec given is the stored one at start

    # -- one pass -------------------------------------------------------------------------------
    def reconcile(self) -> Result:
        """One level-based pass; see the module docstring."""
        self._refresh_counts()
        peers = self._peers() if self.supervisor.needs_peers else None
        self._settled(self.supervisor.tick(peers))
        self._start_waiting()
        ending = self._ending()
        if ending is None:
            self._top_up()
            ending = self._ending()
        if ending is not None:
            return self.finish(*ending)
        self._write_status(ExperimentState.RUNNING, ExperimentReason.RUNNING)
        return Result(finished=False, requeue_after=self.poll_interval)

    def _refresh_counts(self) -> None:
        """Take up the counts a user changed while the experiment runs (`PATCH` on the server, from any
        process): parallelTrialCount, maxTrialCount and maxFailedTrialCount are read back from the stored
        spec, at most once per `COUNTS_REFRESH_SECONDS`."""
        now = time.monotonic()
        if now - self._counts_read < COUNTS_REFRESH_SECONDS:
            return
        self._counts_read = now
        stored = self.store.get_experiment_by_id(self.experiment_id).spec.get("spec") or {}
        spec = self.experiment.spec
        spec.parallel_trial_count = stored.get("parallelTrialCount")
        spec.max_trial_count = stored.get("maxTrialCount")
        spec.max_failed_trial_count = stored.get("maxFailedTrialCount")

    def adopt_running(self) -> list[Trial]:
        """After a restart: follow the trials an earlier process left running; returns those it lost."""
        lost: list[Trial] = []
        for trial in self.view.ordered():
            if trial.state != TrialState.RUNNING or trial.id in self.supervisor.active:
                continue
            if not self.supervisor.adopt(trial):
                lost.append(trial)
        return lost

    def mark_lost(self, trial: Trial, message: str) -> None:
        """Settle a trial whose process cannot be found: Killed, so a new trial takes its place."""
        self.view.settle(self.store.transition_trial(trial.id, TrialState.KILLED, "TrialKilled", message))

    def finish(self, state: ExperimentState, reason: ExperimentReason, message: str | None = None) -> Result:
        """End the experiment: stop what still runs (Killed), write the final status."""
        self._settled(self.supervisor.stop_all(TrialState.KILLED, "the experiment ended"))
        self._write_status(state, reason, message)
        return Result(finished=True, state=state, reason=reason)

    def interrupt(
        self,
        state: ExperimentState = ExperimentState.INTERRUPTED,
        reason: ExperimentReason = ExperimentReason.INTERRUPTED,
    ) -> None:
        """Ctrl-C or `tuner experiments stop`: stop the running trials (Killed), record the experiment
        Interrupted or Stopped; it stays resumable."""
        what = "stopped" if state == ExperimentState.STOPPED else "interrupted"
        self._settled(self.supervisor.stop_all(TrialState.KILLED, f"the run was {what}"))
        self._write_status(state, reason, force=True)

    # -- deciding -------------------------------------------------------------------------------
    def _ending(self) -> tuple[ExperimentState, ExperimentReason, str | None] | None:
        ending = self._katib_ending()
        if ending is None or ending[0] != ExperimentState.SUCCEEDED or self.view.best is not None:
            return None if ending is None else (*ending, None)
        if self.view.count(OBSERVED) > 0:
            return (*ending, None)  # trials succeeded, none with an objective value: Katib's success
        completed = self.view.count(COMPLETED)
        return ExperimentState.FAILED, ExperimentReason.FAILED, no_success_message(completed, ending[1])

    def _katib_ending(self) -> tuple[ExperimentState, ExperimentReason] | None:
        spec = self.experiment.spec
        best = self.view.best
        goal = spec.objective.goal
        if best is not None and goal is not None and (best[1] >= goal if self.maximize else best[1] <= goal):
            return ExperimentState.SUCCEEDED, ExperimentReason.GOAL_REACHED
        failed = self.view.failed
        limit = spec.max_failed_trial_count
        if limit is not None and failed > 0 and failed >= limit:
            return ExperimentState.FAILED, ExperimentReason.FAILED
        if spec.max_trial_count is not None and self.view.count(COMPLETED) >= spec.max_trial_count:
            return ExperimentState.SUCCEEDED, ExperimentReason.MAX_TRIALS_REACHED
        if self._exhausted and self.view.active == 0:
            return ExperimentState.SUCCEEDED, ExperimentReason.SUGGESTION_END_REACHED
        return None

    def _top_up(self) -> None:
        spec = self.experiment.spec
        active = self.view.active
        completed = self.view.count(COMPLETED)
        parallel = spec.parallel_trial_count or 3
        budget = (spec.max_trial_count - completed) if spec.max_trial_count is not None else parallel
        wanted = min(parallel, budget) - active
        if wanted <= 0 or self._exhausted or not self.supervisor.can_start():
            return
        if time.monotonic() < self._suggest_after:
            return
        try:
            proposals = self.suggest(self.view, wanted)
        except TemporaryError as exc:
            # e.g. the suggestion service is down: no new trial this pass, ask again after the delay
            self._suggest_after = time.monotonic() + exc.delay
            self.suggestion_unavailable = str(exc)
            return
        except SearchExhaustedError:
            self._exhausted = True
            return
        except SuggestionError as exc:
            raise PermanentError(f"the suggestion algorithm failed: {exc}") from exc
        self.suggestion_unavailable = None
        if not proposals:
            # nothing new: the end, unless trials still run (an algorithm working in rounds, such as
            # hyperband or pbt, answers nothing until the round's last trial is done: ask again then)
            self._exhausted = self.view.active == 0
            return
        number = self.view.next_number()
        created: list[Trial] = []
        for offset, (rendered, numeric, labels) in enumerate(proposals[:wanted]):
            assignments = [StoredAssignment(n, v, numeric.get(n)) for n, v in rendered.items()]
            name = self._trial_name()
            trial = self.store.create_trial(
                self.experiment_id,
                name,
                assignments,
                number=number + offset,
                labels=labels or None,
                run_spec=self.supervisor.backend.run_spec(name, rendered),
            )
            self.view.put(trial)
            created.append(trial)
        for trial in created:
            started = self.supervisor.start(trial)
            if started is None:
                break  # resources busy: the rest waits as Created and starts in a later pass
            self.view.put(started)

    def _start_waiting(self) -> None:
        """Launch Created trials recorded earlier (waiting for resources, or left by a crash)."""
        for trial in self.view.ordered():
            if trial.state != TrialState.CREATED or trial.id in self.supervisor.active:
                continue
            started = self.supervisor.start(trial)
            if started is None:
                return
            self.view.put(started)

    def _trial_name(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return f"{self.experiment.name}-{''.join(secrets.choice(alphabet) for _ in range(8))}"

    def _settled(self, settled: list[Settled]) -> None:
        for item in settled:
            self.view.settle(item.trial)
            if self.on_settled is not None:
                self.on_settled(item)

    # -- status ---------------------------------------------------------------------------------
    STATUS_INTERVAL = 0.5
    """While nothing but counters changes, the status is written at most this often (seconds): it is derived
    from the trials, which are written at once, so a throttled status never loses anything."""

    def _write_status(
        self,
        state: ExperimentState,
        reason: ExperimentReason,
        message: str | None = None,
        force: bool = False,
    ) -> None:
        routine = state == self._last_state and not state.is_finished and message is None and not force
        if routine and time.monotonic() - self._status_written < self.STATUS_INTERVAL:
            return
        record = self.store.get_experiment_by_id(self.experiment_id) if state.is_finished or message else None
        previous = dict((record.status if record else self._last_status) or {})
        current_state = record.state if record else self._last_state
        now = now_rfc3339()
        conditions = list(previous.get("conditions") or [])
        if current_state != state or not conditions or message is not None:
            conditions = conditions_for(conditions, state, reason, now, message)
        trials = self.view.ordered()
        status: dict[str, object] = {
            "startTime": previous.get("startTime") or now,
            "conditions": conditions,
            **trial_counts([TrialView(t.name, t.state, ()) for t in trials]),
        }
        status["currentOptimalTrial"] = self._optimal() or no_optimal_trial()
        if self.view.others:
            status["paretoFront"] = self._pareto.documents(self.view.pareto_front())
        if state.is_finished:
            status["completionTime"] = previous.get("completionTime") or now
        comparable = {k: v for k, v in previous.items() if k != "lastReconcileTime"}
        if comparable == status and current_state == state:
            return
        status["lastReconcileTime"] = now
        updated = self.store.update_experiment_status(self.experiment_id, state, status)
        self._status_written = time.monotonic()
        self._last_status = dict(updated.status)
        self._last_state = updated.state

    def _optimal(self) -> dict[str, object] | None:
        best = self.view.best
        if best is None:
            return None
        trial = best[0]
        if self._status_best != trial.id:
            view = stored_trial_view(trial, self.store.metric_summaries(trial.id))
            self._optimal_doc = optimal_trial(view, self.experiment.spec.objective.metric_names)
            self._status_best = trial.id
        return self._optimal_doc

    # -- early stopping peers -------------------------------------------------------------------
    def _peers(self) -> list[Progress]:
        """Finished trials' objective series (loaded once each) and the running ones' (from memory)."""
        finished = [
            self.view.finished_progress(t)
            for t in self.view.trials.values()
            if t.state.is_finished and t.state != TrialState.KILLED
        ]
        return [*finished, *self.supervisor.running_progress()]
