"""Running one experiment to its end in this process: create or resume it, hold its lease, loop.

Used by `tuner run` and `tuner.tune`. The experiment's identity in the store is (namespace, name):

    not in the store                  -> created, then run
    unfinished (e.g. after `kill -9`) -> resumed where it was: trials left running are followed again
                                         (or, if their process is gone, settled from its exit status or
                                         retried), trials recorded but never started are started
    finished                          -> not run again (the caller prints the result), unless
                                         `maxTrialCount` was raised and resumePolicy is LongRunning or
                                         FromVolume and it had ended by reaching maxTrialCount: then it
                                         restarts as Katib would
    the spec differs beyond the three counts -> refused, naming the differing fields

One process at a time drives an experiment: a lease in the store with a heartbeat (`controllers.lease`)
refuses a second `tuner run` or `tuner.tune(name=...)` at once (LeaseHeldError names the process and host
that drive it); a driver that was `kill -9`ed on this host is taken over at once, one on another host once
its lease expired. The driver stops, leaving the experiment resumable, on Ctrl-C or a signal (state
Interrupted; KeyboardInterrupt is raised again once the trials are stopped, as `study.optimize` does) and on
`tuner experiments stop` from any host (a stop request in the store: state Stopped). A driver that lost its
lease stops at once without writing anything more (LeaseLostError). Orphans are handled by this policy: a trial whose
process still runs on this host is followed again; one whose process ended is settled from its exit
status and log; one that cannot be found (another host, or a function trial whose worker died with the old
controller) is marked Killed and does not count towards maxTrialCount, so a new trial takes its place.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from controllers.earlystopping import ALGORITHMS as EARLY_STOPPING
from controllers.lease import LeaseKeeper
from controllers.reconciler import ExperimentReconciler, Result, SuggestFn
from controllers.resources import ResourcePool
from controllers.status import conditions_for, no_optimal_trial, now_rfc3339
from controllers.supervisor import Settled, Supervisor, TrialBackend
from tuner.errors import AlreadyExistsError, NotFoundError, Problem, SpecError
from tuner.spec import Experiment
from tuner.spec.experiment import ResumePolicy
from tuner.states import ExperimentReason, ExperimentState
from tuner.store import Store
from tuner.store.records import Experiment as StoredExperiment

COUNT_FIELDS = ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount")
"""The only fields of a stored experiment's spec that may change between runs (as in Katib)."""


@dataclass(frozen=True)
class Prepared:
    record: StoredExperiment
    action: str  # "created" | "resumed" | "restarted" | "finished"


@dataclass(frozen=True)
class Outcome:
    """How a run ended. `interrupted`: it stopped before the experiment finished (the record's state says
    how: Interrupted by a signal, Stopped by `tuner experiments stop`)."""

    record: StoredExperiment
    action: str
    interrupted: bool = False

    @property
    def state(self) -> ExperimentState:
        return self.record.state

    @property
    def succeeded(self) -> bool:
        return self.record.state == ExperimentState.SUCCEEDED


def spec_digest(document: Mapping[str, Any]) -> str:
    """A digest of the spec without the three editable counts."""
    spec = {k: v for k, v in dict(document.get("spec") or {}).items() if k not in COUNT_FIELDS}
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def differing_fields(stored: Any, new: Any, path: str = "spec") -> list[tuple[str, Any, Any]]:
    """(path, stored value, new value) for every leaf that differs, counts excluded."""
    if isinstance(stored, Mapping) and isinstance(new, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(stored) | set(new)):
            if path == "spec" and key in COUNT_FIELDS:
                continue
            out += differing_fields(stored.get(key), new.get(key), f"{path}.{key}")
        return out
    if isinstance(stored, list) and isinstance(new, list) and len(stored) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(stored, new, strict=True))
            for d in differing_fields(a, b, f"{path}[{i}]")
        ]
    return [] if stored == new else [(path, stored, new)]


def prepare(store: Store, experiment: Experiment, *, apply_counts: bool = True) -> Prepared:
    """Create the experiment, or decide how to continue the stored one (see the module docstring).

    `apply_counts=False` decides without storing a resubmitted spec's new counts (before the lease is held).
    """
    document = experiment.to_dict()
    document.pop("status", None)
    try:
        record = store.get_experiment(experiment.name, experiment.namespace)
    except NotFoundError:
        now = now_rfc3339()
        status = {
            "startTime": now,
            "conditions": conditions_for([], ExperimentState.CREATED, ExperimentReason.CREATED, now),
            "currentOptimalTrial": no_optimal_trial(),
        }
        try:
            record = store.create_experiment(
                experiment.name, document, spec_digest(document), experiment.namespace, status=status
            )
            return Prepared(record, "created")
        except AlreadyExistsError:  # another process created it a moment ago: continue as for a stored one
            record = store.get_experiment(experiment.name, experiment.namespace)
    diffs = differing_fields(record.spec.get("spec") or {}, document.get("spec") or {})
    if diffs:
        problems = [
            Problem(
                path,
                f"differs from the stored experiment {experiment.name!r} (stored {_short(old)}, file {_short(new)})",
            )
            for path, old, new in diffs[:20]
        ]
        problems.append(
            Problem(
                "metadata.name",
                f"an experiment called {experiment.name!r} already exists with another spec: only "
                f"{', '.join(COUNT_FIELDS)} may change; rename it, or delete the old one with "
                f"`tuner experiments delete {experiment.name}`",
            )
        )
        raise SpecError(problems)
    if not record.state.is_finished:
        return Prepared(_with_counts(store, record, document) if apply_counts else record, "resumed")
    old_max = (record.spec.get("spec") or {}).get("maxTrialCount")
    new_max = experiment.spec.max_trial_count
    reason = _last_reason(record)
    restartable = experiment.spec.resume_policy in (ResumePolicy.LONG_RUNNING, ResumePolicy.FROM_VOLUME)
    if (
        restartable
        and reason == ExperimentReason.MAX_TRIALS_REACHED.value
        and new_max is not None
        and (old_max is None or new_max > old_max)
    ):
        return Prepared(_with_counts(store, record, document) if apply_counts else record, "restarted")
    return Prepared(record, "finished")


def _with_counts(store: Store, record: StoredExperiment, document: Mapping[str, Any]) -> StoredExperiment:
    """Store the counts of a resubmitted spec (the only fields that may change), if they changed."""
    stored = record.spec.get("spec") or {}
    new = document.get("spec") or {}
    if all(stored.get(k) == new.get(k) for k in COUNT_FIELDS):
        return record
    # what the controller recorded in the stored metadata (the algorithm's seed) outlives the resubmission
    kept = (record.spec.get("metadata") or {}).get("annotations") or {}
    if kept:
        metadata = dict(document.get("metadata") or {})
        metadata["annotations"] = {**kept, **(metadata.get("annotations") or {})}
        document = {**document, "metadata": metadata}
    return store.update_experiment_spec(record.id, document, spec_digest(document))


def _last_reason(record: StoredExperiment) -> str | None:
    for condition in reversed(record.status.get("conditions") or []):
        if condition.get("type") == record.state.value:
            return str(condition.get("reason"))
    return None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@contextmanager
def ctrl_c_between_passes() -> Iterator[threading.Event]:
    """Ctrl-C sets the event instead of raising wherever the main thread is (say between recording a trial
    and starting it); the loop stops at its next pass. A second Ctrl-C raises KeyboardInterrupt at once.

    Only in the main thread and when SIGINT has Python's default handler (the caller's own handler, such as
    `tuner run`'s, is left alone)."""
    pressed = threading.Event()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield pressed
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


class ExperimentRunner:
    """Runs one experiment to its end (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        experiment: Experiment,
        backend: TrialBackend,
        suggest: SuggestFn,
        *,
        retries: int = 0,
        collect_metrics: bool = True,
        poll_interval: float = 0.1,
        lease_ttl: float = 30.0,
        watch_interval: float = 0.5,
        on_settled: Callable[[Settled], None] | None = None,
        on_pass: Callable[[ExperimentRunner], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        pool: ResourcePool | None = None,
    ) -> None:
        self.pool = pool
        self.store = store
        self.experiment = experiment
        self.backend = backend
        self.suggest = suggest
        self.retries = retries
        self.collect_metrics = collect_metrics
        self.poll_interval = poll_interval
        self.lease_ttl = lease_ttl
        self.watch_interval = watch_interval
        self.on_settled = on_settled
        self.on_pass = on_pass
        self.should_stop = should_stop
        self.keeper: LeaseKeeper | None = None
        self.reconciler: ExperimentReconciler | None = None
        self.prepared: Prepared | None = None
        self.lost: list[str] = []

    def run(self) -> Outcome:
        """Run to the end, or until interrupted or stopped (see the module docstring).

        Raises:
            LeaseHeldError: another process drives the experiment.
            LeaseLostError: this process lost the lease while running and stopped driving.
            KeyboardInterrupt: Ctrl-C, after the trials were stopped and the experiment recorded Interrupted.
        """
        prepared = prepare(self.store, self.experiment, apply_counts=False)
        if prepared.action == "finished":
            self.prepared = prepared
            return Outcome(prepared.record, "finished")
        label = f"{self.experiment.namespace}/{self.experiment.name}"
        self.keeper = keeper = LeaseKeeper(
            self.store, prepared.record.id, label, ttl=self.lease_ttl, watch_interval=self.watch_interval
        )
        keeper.acquire()
        supervisor: Supervisor | None = None
        try:
            # decided again under the lease: another driver may have finished it or raised its counts
            self.prepared = prepared = (
                prepare(self.store, self.experiment) if prepared.action != "created" else prepared
            )
            record = prepared.record
            if prepared.action == "finished":
                return Outcome(record, "finished")
            supervisor = self._supervisor()
            self._begin(record, prepared.action)
            self.reconciler = reconciler = ExperimentReconciler(
                self.store,
                record.id,
                self.experiment,
                supervisor,
                self.suggest,
                on_settled=self.on_settled,
                poll_interval=self.poll_interval,
            )
            for trial in reconciler.adopt_running():
                reconciler.mark_lost(
                    trial,
                    "its process could not be found after the previous controller stopped; a new trial takes its place",
                )
                self.lost.append(trial.name)
            with ctrl_c_between_passes() as ctrl_c:
                return self._loop(reconciler, record, keeper, ctrl_c)
        finally:
            if supervisor is not None:
                supervisor.close()
            keeper.close()

    def _loop(
        self,
        reconciler: ExperimentReconciler,
        record: StoredExperiment,
        keeper: LeaseKeeper,
        ctrl_c: threading.Event,
    ) -> Outcome:
        try:
            while True:
                keeper.check()
                if ctrl_c.is_set():
                    raise KeyboardInterrupt
                if keeper.stop_requested.is_set():
                    return self._interrupt(
                        reconciler, record, ExperimentState.STOPPED, ExperimentReason.STOPPED
                    )
                if self.should_stop():
                    return self._interrupt(
                        reconciler, record, ExperimentState.INTERRUPTED, ExperimentReason.INTERRUPTED
                    )
                result: Result = reconciler.reconcile()
                if self.on_pass is not None:
                    self.on_pass(self)
                if result.finished:
                    return Outcome(self.store.get_experiment_by_id(record.id), self._action())
                if result.requeue_after > 0:
                    reconciler.supervisor.wait(result.requeue_after)
        except KeyboardInterrupt:
            if not keeper.lost.is_set():
                self._interrupt(reconciler, record, ExperimentState.INTERRUPTED, ExperimentReason.INTERRUPTED)
            raise

    def _interrupt(
        self,
        reconciler: ExperimentReconciler,
        record: StoredExperiment,
        state: ExperimentState,
        reason: ExperimentReason,
    ) -> Outcome:
        """Stop the running trials and record the experiment Interrupted or Stopped (resumable)."""
        reconciler.interrupt(state, reason)
        return Outcome(self.store.get_experiment_by_id(record.id), self._action(), interrupted=True)

    def _action(self) -> str:
        return self.prepared.action if self.prepared else "created"

    def _begin(self, record: StoredExperiment, action: str) -> None:
        now = now_rfc3339()
        status = dict(record.status or {})
        conditions = list(status.get("conditions") or [])
        if action == "restarted":
            conditions = conditions_for(
                conditions, ExperimentState.RESTARTING, ExperimentReason.RESTARTING, now
            )
            self.store.update_experiment_status(
                record.id, ExperimentState.RESTARTING, {**status, "conditions": conditions}
            )
            status.pop("completionTime", None)
        if record.state != ExperimentState.RUNNING or action == "restarted":
            conditions = conditions_for(conditions, ExperimentState.RUNNING, ExperimentReason.RUNNING, now)
            self.store.update_experiment_status(
                record.id, ExperimentState.RUNNING, {**status, "conditions": conditions}
            )

    def _supervisor(self) -> Supervisor:
        spec = self.experiment.spec
        stopper = None
        if spec.early_stopping is not None and spec.early_stopping.algorithm_name:
            cls = EARLY_STOPPING[spec.early_stopping.algorithm_name]
            stopper = cls.from_settings(spec.early_stopping.settings())
        objective = spec.objective
        return Supervisor(
            self.store,
            self.backend,
            objective=objective.objective_metric_name or "",
            maximize=objective.type is not None and objective.type.value == "maximize",
            retries=self.retries,
            collect_metrics=self.collect_metrics,
            early_stopper=stopper,
            pool=self.pool,
        )
