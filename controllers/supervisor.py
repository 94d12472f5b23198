"""Running trials: launch, follow their metrics, stop the bad ones early, and record how each one ended.

The supervisor owns the launcher handles of the trials this controller process runs. Every `tick` it polls
each one, appends the new observations to the store, asks the early-stopping rule about the trials that
reported their objective, and settles finished attempts into a trial state with Katib's rules:

    attempt ended well, objective reported (or collector None)  -> Succeeded
    attempt ended well, objective never reported                -> MetricsUnavailable (with the last lines)
    attempt failed / lost, retries left (backoffLimit)          -> launched again (same trial, attempt + 1)
    attempt failed / lost / over its deadline, no retries left  -> Failed (with the exit status and last lines)
    stopped by the early-stopping rule                          -> EarlyStopped (keeps its metrics)
    stopped because the experiment ended or was interrupted     -> Killed

Where the work differs between process trials and function trials (what to launch, where metrics come
from) a `TrialBackend` decides; everything else is shared.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from controllers.collectors.base import Observation as Collected
from controllers.earlystopping import EarlyStopper, Progress, StopDecision
from controllers.launchers.base import Handle, Launcher, LaunchRequest, Phase, RunInfo, Status
from controllers.resources import Grant, Request, ResourcePool
from tuner.states import TrialState
from tuner.store import Store
from tuner.store.records import Observation, RuntimeInfo, Trial

REASONS = {
    TrialState.RUNNING: "TrialRunning",
    TrialState.SUCCEEDED: "TrialSucceeded",
    TrialState.FAILED: "TrialFailed",
    TrialState.KILLED: "TrialKilled",
    TrialState.EARLY_STOPPED: "TrialEarlyStopped",
    TrialState.METRICS_UNAVAILABLE: "MetricsUnavailable",
}


class TrialBackend(ABC):
    """What differs between kinds of trials: the launch request and where metrics come from."""

    launcher: Launcher

    @abstractmethod
    def request(self, trial: Trial, attempt: int, grant: Grant | None) -> LaunchRequest:
        """The request for one attempt of `trial`."""

    @abstractmethod
    def start_collecting(self, trial: Trial) -> Any:
        """Per-trial collection state (followers, collectors), created when the trial is first watched."""

    @abstractmethod
    def collect(self, trial: Trial, state: Any, handle: Handle, final: bool) -> list[Collected]:
        """Observations that arrived since the last call; `final` once the attempt has ended."""

    def tail(self, trial: Trial) -> list[str]:
        """The last lines of the trial's output, for messages."""
        return []

    def run_spec(self, trial: str, assignment: Mapping[str, str]) -> dict[str, Any] | None:
        """The rendered workload recorded with the trial (Katib's Trial `spec.runSpec`), if there is one."""
        return None

    def resources(self) -> Request:
        return Request()

    def notes(self) -> list[str]:
        return []


@dataclass
class ActiveTrial:
    trial: Trial
    handle: Handle
    attempt: int
    grant: Grant | None
    collection: Any
    skip: dict[str, int] = field(default_factory=dict)
    objective_series: list[tuple[int, float]] = field(default_factory=list)
    objective_seen: bool = False
    stopping: tuple[TrialState, str] | None = None


@dataclass(frozen=True)
class Settled:
    """A trial that reached a final state during a tick."""

    trial: Trial
    state: TrialState
    message: str


class Supervisor:
    """Launches and follows the trials of one experiment (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        backend: TrialBackend,
        *,
        objective: str,
        maximize: bool,
        retries: int = 0,
        collect_metrics: bool = True,
        early_stopper: EarlyStopper | None = None,
        pool: ResourcePool | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.objective = objective
        self.maximize = maximize
        self.retries = retries
        self.collect_metrics = collect_metrics
        self.early_stopper = early_stopper
        self.pool = pool or ResourcePool()
        self.active: dict[int, ActiveTrial] = {}
        self._host = socket.gethostname()

    # -- starting -------------------------------------------------------------------------------
    def can_start(self) -> bool:
        """Whether one more trial fits in the machine's resources right now."""
        request = self.backend.resources()
        grant = self.pool.try_acquire(request)
        if grant is None:
            return False
        self.pool.release(grant)
        return True

    def start(self, trial: Trial) -> Trial | None:
        """Launch a Created trial and return its Running record; None (and nothing changes) when resources
        are busy."""
        grant = self.pool.try_acquire(self.backend.resources())
        if grant is None:
            return None
        attempt = max(trial.attempt, 0) + 1
        request = self.backend.request(trial, attempt, grant)
        # a controller killed between launching and recording leaves the attempt running: adopt it
        handle = self.backend.launcher.recover(request) or self.backend.launcher.launch(request)
        trial = self.store.transition_trial(
            trial.id,
            TrialState.RUNNING,
            REASONS[TrialState.RUNNING],
            "Trial is running",
            runtime=self._runtime(handle, attempt),
            new_attempt=True,
        )
        self.active[trial.id] = ActiveTrial(
            trial, handle, attempt, grant, self.backend.start_collecting(trial)
        )
        return trial

    def adopt(self, trial: Trial) -> bool:
        """Follow a Running trial launched by an earlier controller process; False if it cannot be found."""
        runtime = trial.runtime
        info = RunInfo.from_dict(runtime.extra.get("run", {})) if runtime else None
        handle = self.backend.launcher.attach(info) if info else None
        if handle is None:
            return False
        summaries = self.store.metric_summaries(trial.id)
        skip = {name: s.count for name, s in summaries.items()}
        active = ActiveTrial(
            trial, handle, trial.attempt, None, self.backend.start_collecting(trial), skip=skip
        )
        active.objective_seen = self.objective in summaries and summaries[self.objective].count > 0
        active.objective_series = [
            (p.step or i + 1, p.value)
            for i, p in enumerate(self.store.metric_series(trial.id, self.objective))
        ]
        self.active[trial.id] = active
        return True

    # -- following ------------------------------------------------------------------------------
    def tick(self, peers: Sequence[Progress] | None = None) -> list[Settled]:
        """Poll every active trial once; returns the trials that settled.

        `peers` are the other trials' objective series for early stopping (the caller loads them only when
        an early-stopping rule is set; see `needs_peers`).
        """
        settled: list[Settled] = []
        batch: list[Observation] = []
        for active in list(self.active.values()):
            status = self.backend.launcher.poll(active.handle)
            new = self._collect(active, status.phase.is_done)
            batch.extend(new)
            if not status.phase.is_done and new and self.early_stopper is not None and peers is not None:
                decision = self._early_stop_check(active, peers)
                if decision is not None:
                    self._record_decision(active, decision)
                    active.stopping = (TrialState.EARLY_STOPPED, decision.message)
                    self.backend.launcher.cancel(active.handle)
                    status = self.backend.launcher.poll(active.handle)
                    batch.extend(self._collect(active, True))
            if status.phase.is_done:
                if batch:
                    self.store.log_metrics(batch)
                    batch = []
                outcome = self._settle(active, status)
                if outcome is not None:
                    settled.append(outcome)
        if batch:
            self.store.log_metrics(batch)
        return settled

    @property
    def needs_peers(self) -> bool:
        return self.early_stopper is not None and bool(self.active)

    def running_progress(self) -> list[Progress]:
        """The objective's series of the running trials, as collected so far."""
        return [
            Progress(a.trial.name, list(a.objective_series), finished=False) for a in self.active.values()
        ]

    def wait(self, timeout: float) -> None:
        """Sleep until an active trial may have news (a process exited, a value arrived), at most `timeout`."""
        self.backend.launcher.wait([a.handle for a in self.active.values()], timeout)

    def stop_all(self, state: TrialState, message: str) -> list[Settled]:
        """Stop every active trial (experiment finished: Killed; interrupted: Killed) and settle it."""
        settled: list[Settled] = []
        for active in list(self.active.values()):
            active.stopping = (state, message)
            self.backend.launcher.cancel(active.handle)
            observations = self._collect(active, True)
            if observations:
                self.store.log_metrics(observations)
            outcome = self._settle(active, self.backend.launcher.poll(active.handle))
            if outcome is not None:
                settled.append(outcome)
        return settled

    def close(self) -> None:
        self.backend.launcher.close()

    # -- internals ------------------------------------------------------------------------------
    def _collect(self, active: ActiveTrial, final: bool) -> list[Observation]:
        if not self.collect_metrics:
            return []
        found = self.backend.collect(active.trial, active.collection, active.handle, final)
        kept: list[Observation] = []
        for obs in found:
            if active.skip.get(obs.metric, 0) > 0:
                active.skip[obs.metric] -= 1  # stored by an earlier controller process already
                continue
            if obs.metric == self.objective:
                active.objective_seen = True
                active.objective_series.append((obs.step, obs.value))
            kept.append(
                Observation(active.trial.id, obs.metric, obs.value, obs.step, obs.timestamp.timestamp())
            )
        return kept

    def _early_stop_check(self, active: ActiveTrial, peers: Sequence[Progress]) -> StopDecision | None:
        assert self.early_stopper is not None
        mine = Progress(active.trial.name, list(active.objective_series), finished=False)
        others = [p for p in peers if p.trial != active.trial.name]
        return self.early_stopper.should_stop(mine, others, self.maximize)

    def _record_decision(self, active: ActiveTrial, decision: StopDecision) -> None:
        self.store.record_early_stopping_decision(
            active.trial.id,
            decision.rule,
            self.objective,
            stop=True,
            step=decision.step,
            value=decision.value,
            threshold=decision.threshold,
            reason=decision.message,
        )

    def _settle(self, active: ActiveTrial, status: Status) -> Settled | None:
        trial = active.trial
        if active.stopping is not None:
            state, message = active.stopping
            return self._finish(active, state, message)
        if status.phase == Phase.SUCCEEDED:
            if active.objective_seen or not self.collect_metrics or self._objective_stored(trial):
                return self._finish(active, TrialState.SUCCEEDED, "Trial has succeeded")
            tail = "\n".join(self.backend.tail(trial)[-10:])
            message = f"the trial ended without reporting the objective metric {self.objective!r}"
            return self._finish(
                active, TrialState.METRICS_UNAVAILABLE, message + (f"; last output:\n{tail}" if tail else "")
            )
        if status.phase in (Phase.FAILED, Phase.LOST) and active.attempt <= self.retries:
            self._relaunch(active)
            return None
        if status.phase == Phase.CANCELLED:
            return self._finish(active, TrialState.KILLED, status.message or "Trial was stopped")
        tail = "\n".join(self.backend.tail(trial)[-10:])
        head = {
            Phase.TIMED_OUT: "the trial ran past its deadline",
            Phase.LOST: "the trial's process was lost",
        }.get(status.phase, "the trial failed")
        detail = f"{head}: {status.message}" if status.message else head
        return self._finish(active, TrialState.FAILED, detail + (f"; last output:\n{tail}" if tail else ""))

    def _objective_stored(self, trial: Trial) -> bool:
        """Whether the objective reached the store another way (pushed to the server by a cluster trial)."""
        summary = self.store.metric_summaries(trial.id).get(self.objective)
        return summary is not None and summary.count > 0

    def _relaunch(self, active: ActiveTrial) -> None:
        attempt = active.attempt + 1
        handle = self.backend.launcher.launch(self.backend.request(active.trial, attempt, active.grant))
        active.trial = self.store.set_trial_runtime(
            active.trial.id, self._runtime(handle, attempt), new_attempt=True
        )
        active.handle = handle
        active.attempt = attempt

    def _finish(self, active: ActiveTrial, state: TrialState, message: str) -> Settled:
        trial = self.store.transition_trial(active.trial.id, state, REASONS[state], message)
        if active.grant is not None:
            self.pool.release(active.grant)
        self.active.pop(active.trial.id, None)
        return Settled(trial, state, message)

    def _runtime(self, handle: Handle, attempt: int) -> RuntimeInfo:
        info = handle.info
        log = self.backend.launcher.log_path(handle)
        data: Mapping[str, Any] = info.data
        return RuntimeInfo(
            pid=data.get("pid"),
            host=self._host,
            log_path=str(log) if log else None,
            work_dir=None,
            extra={"run": info.to_dict(), "attempt": attempt, "at": datetime.now(timezone.utc).isoformat()},
        )
