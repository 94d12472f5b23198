"""The metadata store contract: what the rest of tuner may ask of the store, and nothing about SQL.

Who calls it: the experiment controller (experiments, leases, trials, metrics, early stopping), trial
processes pushing metrics, the pipelines runner (pipelines, runs, tasks, artifacts, events, cache), the
model registry and serving (models, versions, aliases, deployments, revisions, traffic) and the server and
dashboard (reads and lineage). `tuner.store.sql.SqlStore` implements it on SQLite and PostgreSQL;
`tuner.store.testing` is the conformance suite any implementation must pass.

The contract is split in two: `StoreReader` (everything that only reads, for the dashboard and other
read-only callers) and `Store` (reads plus writes). It does not cover how records are stored, migrated or
cached.

Guarantees every implementation gives:
    * Thread and process safety: one instance may be shared by threads, and any number of processes may
      open the same database at once. Each method is one transaction: it commits whole or not at all, so
      a failure (or a crash) in the middle of a multi-row write leaves nothing of it behind.
    * Identity is enforced by the database, not by checks in Python: creating a record whose identity
      exists (same name, same trial number) fails with `AlreadyExistsError` even when two processes race.
    * Unknown ids and names raise `NotFoundError` naming what was looked for; forbidden state changes raise
      `InvalidTransitionError`; a lease held by someone else raises `LeaseHeldError` naming the holder;
      malformed values (blank or over-long names, percents not adding up to 100) raise `StoreValueError`
      before anything is written. All of them are `StoreError`s.
    * Records returned are immutable snapshots (see `tuner.store.records`); finished trials, revisions,
      pipeline versions, artifacts and history rows never change after they are written.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tuner.states import ExperimentState, TrialState
from tuner.store.records import (
    DEFAULT_NAMESPACE,
    Artifact,
    Assignment,
    BestTrial,
    CacheEntry,
    ComparisonRow,
    Deployment,
    Direction,
    EarlyStoppingDecision,
    Event,
    Experiment,
    Goal,
    Lease,
    LineageDirection,
    LineageGraph,
    MetricPoint,
    MetricStrategy,
    MetricSummary,
    ModelVersion,
    NodeRef,
    Observation,
    Pipeline,
    PipelineRun,
    PipelineVersion,
    RegisteredModel,
    RegistryEvent,
    Revision,
    RunLease,
    RunState,
    RuntimeInfo,
    SeriesPoint,
    Task,
    TaskState,
    TrafficAssignment,
    Trial,
    TrialOrder,
    TrialOutline,
)


class StoreReader(abc.ABC):
    """Read-only view of the store (the dashboard and the REST API's GET routes need nothing more)."""

    # --- experiments ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_experiment(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Experiment:
        """Return the experiment called `name` in `namespace`.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def get_experiment_by_id(self, experiment_id: int) -> Experiment:
        """Return the experiment with this id.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def list_experiments(
        self,
        namespace: str | None = None,
        states: Collection[ExperimentState] | None = None,
        name_prefix: str | None = None,
    ) -> list[Experiment]:
        """Return experiments, oldest first, filtered by namespace, state and name prefix when given."""

    @abc.abstractmethod
    def get_lease(self, experiment_id: int) -> Lease | None:
        """Return the lease on the experiment if one is held and not expired, else None.

        Raises:
            NotFoundError: no such experiment.
        """

    # --- trials -----------------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> Trial:
        """Return the trial with this id.

        Raises:
            NotFoundError: no such trial.
        """

    @abc.abstractmethod
    def get_trial_by_name(self, experiment_id: int, name: str) -> Trial:
        """Return the trial called `name` in the experiment.

        Raises:
            NotFoundError: no such trial (or experiment).
        """

    @abc.abstractmethod
    def list_trials(self, experiment_id: int, states: Collection[TrialState] | None = None) -> list[Trial]:
        """Return the experiment's trials by number, only those in `states` when given.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def count_trials(self, experiment_id: int) -> dict[TrialState, int]:
        """Return how many trials of the experiment are in each state (states with none are left out).

        Raises:
            NotFoundError: no such experiment.
        """

    # --- metrics ----------------------------------------------------------------------------------------

    @abc.abstractmethod
    def metric_series(self, trial_id: int, name: str) -> list[MetricPoint]:
        """Return one metric of one trial ordered by (step, timestamp); empty if never reported.

        Raises:
            NotFoundError: no such trial.
        """

    @abc.abstractmethod
    def experiment_metric_series(self, experiment_id: int, name: str) -> dict[int, list[MetricPoint]]:
        """Return one metric for every trial of the experiment that reported it, keyed by trial id.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def series_points(
        self,
        experiment_id: int,
        name: str,
        trial_ids: Collection[int] | None = None,
        *,
        max_points: int | None = None,
    ) -> dict[int, list[SeriesPoint]]:
        """Return one metric's (step, value) points per trial id, in `metric_series` order, in one query.

        The figures' read: two columns per point, streamed, no records built. Trials without a point are
        left out.

        Args:
            experiment_id: the experiment.
            name: the metric.
            trial_ids: only these trials (default: every trial of the experiment).
            max_points: thin each series in the database to at most this many points, evenly spread, always
                keeping its first and last point (default: every point).

        Raises:
            NotFoundError: no such experiment.
            StoreValueError: `max_points` below 2.
        """

    @abc.abstractmethod
    def metric_summaries(self, trial_id: int) -> dict[str, MetricSummary]:
        """Return the summary of every metric the trial reported, keyed by metric name.

        Raises:
            NotFoundError: no such trial.
        """

    @abc.abstractmethod
    def best_trial(
        self,
        experiment_id: int,
        metric: str,
        goal: Goal,
        strategy: MetricStrategy = MetricStrategy.LATEST,
        states: Collection[TrialState] | None = None,
    ) -> BestTrial | None:
        """Return the best trial by the summary of `metric` (never by scanning the series).

        Args:
            experiment_id: the experiment.
            metric: the objective metric's name.
            goal: whether smaller or larger is better.
            strategy: which value of each trial's series counts (Katib's min/max/latest).
            states: only trials in these states count (default: any state).

        Returns:
            The best trial, or None if no trial (in `states`) reported a non-NaN value. Ties go to the
            trial created first.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def compare_trials(
        self,
        experiment_id: int,
        metrics: Sequence[str] | None = None,
        states: Collection[TrialState] | None = None,
        *,
        sort_by: TrialOrder | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ComparisonRow]:
        """Return the comparison table: each trial (by number) with assignments and metric summaries.

        Sorting and paging happen in the database, so showing the best 20 of 10,000 trials reads 20.

        Args:
            experiment_id: the experiment.
            metrics: which metrics to include (default: all reported).
            states: only trials in these states (default: all).
            sort_by: order by one metric's summary value, best first (trials without a value come last,
                ties by trial number); default: by trial number.
            limit: at most this many rows (default: all).
            offset: skip this many rows of the order first (paging).

        Raises:
            NotFoundError: no such experiment.
            StoreValueError: a negative limit or offset.
        """

    @abc.abstractmethod
    def trial_outlines(self, experiment_id: int) -> list[TrialOutline]:
        """Return every trial of the experiment by number, with assignments and metric summaries only.

        Three streamed queries (trials, assignments, summaries) and small records: what a dashboard or a
        figure loads for 10,000 trials, where `compare_trials` would build full `Trial` records.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def find_trials(self, text: str, namespace: str | None = None, limit: int = 20) -> list[Trial]:
        """Return trials whose name is `text`, starts with it, or has a `-`-separated part starting with it
        (the short suffix of a trial name), in any experiment of `namespace` (default: every namespace).

        One query over the trials, not one per experiment: this is how `tuner trials logs ID` finds a trial.
        Exact matches come first, then by experiment and trial number; at most `limit` trials.
        """

    @abc.abstractmethod
    def list_early_stopping_decisions(self, trial_id: int) -> list[EarlyStoppingDecision]:
        """Return the trial's early-stopping decisions, oldest first.

        Raises:
            NotFoundError: no such trial.
        """

    # --- pipelines --------------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_pipeline(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Pipeline:
        """Return the pipeline called `name`.

        Raises:
            NotFoundError: no such pipeline.
        """

    @abc.abstractmethod
    def list_pipelines(self, namespace: str | None = None) -> list[Pipeline]:
        """Return pipelines, oldest first."""

    @abc.abstractmethod
    def get_pipeline_version(
        self, pipeline_id: int, *, name: str | None = None, spec_digest: str | None = None
    ) -> PipelineVersion:
        """Return a version of the pipeline by its name or by its spec digest (exactly one of them).

        Raises:
            NotFoundError: no such version (or pipeline).
            StoreValueError: neither or both of `name` and `spec_digest` given.
        """

    @abc.abstractmethod
    def list_pipeline_versions(self, pipeline_id: int) -> list[PipelineVersion]:
        """Return the pipeline's versions, oldest first.

        Raises:
            NotFoundError: no such pipeline.
        """

    @abc.abstractmethod
    def get_run(self, run_id: int) -> PipelineRun:
        """Return the pipeline run with this id.

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def list_runs(
        self,
        namespace: str | None = None,
        pipeline_version_id: int | None = None,
        trial_id: int | None = None,
        states: Collection[RunState] | None = None,
    ) -> list[PipelineRun]:
        """Return pipeline runs, oldest first, filtered when arguments are given."""

    @abc.abstractmethod
    def get_task(self, task_id: int) -> Task:
        """Return the task with this id.

        Raises:
            NotFoundError: no such task.
        """

    @abc.abstractmethod
    def list_tasks(self, run_id: int) -> list[Task]:
        """Return the run's tasks in creation order.

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def get_artifact(self, artifact_id: int) -> Artifact:
        """Return the artifact with this id.

        Raises:
            NotFoundError: no such artifact.
        """

    @abc.abstractmethod
    def get_artifact_by_uri(self, uri: str) -> Artifact:
        """Return the artifact stored at `uri`.

        Raises:
            NotFoundError: no artifact has this URI.
        """

    @abc.abstractmethod
    def list_events(
        self, *, artifact_id: int | None = None, task_id: int | None = None, trial_id: int | None = None
    ) -> list[Event]:
        """Return lineage events touching the given artifact, task or trial (any combination), oldest first."""

    @abc.abstractmethod
    def lookup_cache(self, key: str) -> CacheEntry | None:
        """Return the cache entry for `key`, or None on a miss."""

    # --- models and serving -----------------------------------------------------------------------------

    @abc.abstractmethod
    def get_registered_model(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> RegisteredModel:
        """Return the registered model called `name`.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def list_registered_models(self, namespace: str | None = None) -> list[RegisteredModel]:
        """Return registered models, oldest first."""

    @abc.abstractmethod
    def get_model_version(self, model_id: int, version: int) -> ModelVersion:
        """Return version number `version` of the model.

        Raises:
            NotFoundError: no such version (or model).
        """

    @abc.abstractmethod
    def get_model_version_by_id(self, model_version_id: int) -> ModelVersion:
        """Return the model version with this id.

        Raises:
            NotFoundError: no such model version.
        """

    @abc.abstractmethod
    def list_model_versions(self, model_id: int) -> list[ModelVersion]:
        """Return the model's versions by number.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def get_alias(self, model_id: int, alias: str) -> ModelVersion:
        """Return the version the alias points at.

        Raises:
            NotFoundError: the model has no such alias (or there is no such model).
        """

    @abc.abstractmethod
    def list_aliases(self, model_id: int) -> dict[str, int]:
        """Return the model's aliases as `{alias: version number}`.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def registry_history(self, model_id: int) -> list[RegistryEvent]:
        """Return the model's append-only history (versions created, aliases set/moved/deleted), oldest first.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def get_deployment(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Deployment:
        """Return the deployment called `name`.

        Raises:
            NotFoundError: no such deployment.
        """

    @abc.abstractmethod
    def get_deployment_by_id(self, deployment_id: int) -> Deployment:
        """Return the deployment with this id.

        Raises:
            NotFoundError: no such deployment.
        """

    @abc.abstractmethod
    def list_deployments(self, namespace: str | None = None) -> list[Deployment]:
        """Return deployments, oldest first."""

    @abc.abstractmethod
    def get_revision(self, revision_id: int) -> Revision:
        """Return the revision with this id.

        Raises:
            NotFoundError: no such revision.
        """

    @abc.abstractmethod
    def list_revisions(self, deployment_id: int) -> list[Revision]:
        """Return the deployment's revisions by number.

        Raises:
            NotFoundError: no such deployment.
        """

    @abc.abstractmethod
    def current_traffic(self, deployment_id: int) -> list[TrafficAssignment]:
        """Return the traffic rows in force (`valid_to` is None), by revision id.

        Raises:
            NotFoundError: no such deployment.
        """

    @abc.abstractmethod
    def traffic_history(self, deployment_id: int) -> list[TrafficAssignment]:
        """Return every traffic row the deployment ever had, oldest first.

        Raises:
            NotFoundError: no such deployment.
        """

    # --- lineage ----------------------------------------------------------------------------------------

    @abc.abstractmethod
    def lineage(self, start: NodeRef, direction: LineageDirection, max_depth: int = 100) -> LineageGraph:
        """Walk the lineage graph from `start`, upstream (what it was made from) or downstream.

        The graph links experiments to trials, trials to the pipeline runs they launched, runs to their
        tasks, artifacts to the trials and tasks that read (INPUT) or wrote (OUTPUT) them, artifacts and
        source trials or tasks to model versions, model versions to revisions and revisions to
        deployments. Upstream of a deployment therefore answers "which experiment, trial and pipeline run
        produced the model serving now, and on what data".

        Args:
            start: where to start; it is included in the result at depth 0.
            direction: which way to walk.
            max_depth: how many edges at most to follow from `start`.

        Raises:
            NotFoundError: `start` does not exist.
        """


class Store(StoreReader):
    """The whole store: every read of `StoreReader` plus the writes."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""

    # --- experiments ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_experiment(
        self,
        name: str,
        spec: Mapping[str, Any],
        spec_digest: str,
        namespace: str = DEFAULT_NAMESPACE,
        status: Mapping[str, Any] | None = None,
    ) -> Experiment:
        """Create an experiment in state Created.

        Args:
            name: unique within `namespace`.
            spec: the spec as submitted (JSON-able).
            spec_digest: a digest of the canonical spec, to tell a changed resubmission from the same one.
            namespace: the tenant or project.
            status: the initial Katib-shaped status document (default: empty).

        Raises:
            AlreadyExistsError: an experiment with this name exists in the namespace.
        """

    @abc.abstractmethod
    def update_experiment_status(
        self, experiment_id: int, state: ExperimentState, status: Mapping[str, Any]
    ) -> Experiment:
        """Set the experiment's state and status document.

        `started_at` is stamped the first time the state is Running, `completed_at` when it becomes
        Succeeded or Failed (and cleared when it restarts).

        Raises:
            NotFoundError: no such experiment.
            InvalidTransitionError: `ExperimentState.can_become` forbids the change.
        """

    @abc.abstractmethod
    def update_experiment_spec(
        self, experiment_id: int, spec: Mapping[str, Any], spec_digest: str
    ) -> Experiment:
        """Replace the stored spec, e.g. when a resubmission changed one of the counts Katib lets users edit
        (parallelTrialCount, maxTrialCount, maxFailedTrialCount). Which changes are allowed is the caller's
        rule; the store keeps what it is given.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: int) -> list[RuntimeInfo]:
        """Delete the experiment and everything below it (trials, assignments, metrics, decisions, events).

        Model versions and pipeline runs that came from its trials stay, with their link cleared.

        Returns:
            The runtime info of the deleted trials, so the caller can remove their logs and work dirs.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def acquire_lease(
        self, experiment_id: int, holder: str, ttl: float, *, replacing: str | None = None
    ) -> Lease:
        """Take the experiment's lease for `ttl` seconds, if it is free, expired or already `holder`'s.

        `replacing` takes it over from that holder even before it expires (the caller has proved that
        holder dead); if someone else holds it by then, the call fails as usual. Taking the lease from
        another holder drops a stop request addressed to that holder.

        Raises:
            NotFoundError: no such experiment.
            LeaseHeldError: another holder has a lease that has not expired (the message names it).
        """

    @abc.abstractmethod
    def renew_lease(self, experiment_id: int, holder: str, ttl: float) -> Lease:
        """Extend `holder`'s lease to `ttl` seconds from now. Only the holder named in the store may renew
        (an expired lease nobody took is still its holder's); the returned lease carries any stop request.

        Raises:
            NotFoundError: no such experiment.
            LeaseHeldError: the lease was released or another holder took it: `holder` lost it.
        """

    @abc.abstractmethod
    def release_lease(self, experiment_id: int, holder: str) -> None:
        """Give the lease up (and drop any stop request). Releasing a lease `holder` does not hold does nothing.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def request_stop(self, experiment_id: int) -> Lease | None:
        """Ask the experiment's current driver to stop (it polls `renew_lease`/`get_lease`).

        Returns:
            The lease the request was addressed to, or None when nobody drives the experiment.

        Raises:
            NotFoundError: no such experiment.
        """

    # --- trials -----------------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_trial(
        self,
        experiment_id: int,
        name: str,
        assignments: Sequence[Assignment],
        *,
        number: int | None = None,
        labels: Mapping[str, str] | None = None,
        run_spec: Mapping[str, Any] | None = None,
    ) -> Trial:
        """Create a trial in state Created with its parameter assignments.

        Args:
            experiment_id: the experiment.
            name: unique within the experiment.
            assignments: parameter values; names must be unique.
            number: the trial's sequence number in the experiment (0, 1, ...). None takes the next free
                one. Unique per experiment: creating number N twice fails, even from two processes.
            labels: free-form labels.
            run_spec: the rendered run spec (what will be launched).

        Raises:
            NotFoundError: no such experiment.
            AlreadyExistsError: the name or the number is taken.
            StoreValueError: two assignments share a name.
        """

    @abc.abstractmethod
    def transition_trial(
        self,
        trial_id: int,
        new_state: TrialState,
        reason: str = "",
        message: str = "",
        *,
        runtime: RuntimeInfo | None = None,
        new_attempt: bool = False,
    ) -> Trial:
        """Move the trial to `new_state`, stamping `started_at` (Running) and `completed_at` (finished).

        Staying in the same state is allowed and only updates reason and message. `runtime` and
        `new_attempt` do what `set_trial_runtime` does, in the same transaction (a launch is one write).

        Raises:
            NotFoundError: no such trial.
            InvalidTransitionError: `TrialState.can_become` forbids it (e.g. Succeeded -> Running).
        """

    @abc.abstractmethod
    def set_trial_runtime(self, trial_id: int, runtime: RuntimeInfo, *, new_attempt: bool = False) -> Trial:
        """Record where the trial's process runs; `new_attempt` also counts one more launch (`attempt`).

        Raises:
            NotFoundError: no such trial.
        """

    @abc.abstractmethod
    def claim_trial(self, experiment_id: int, worker: str) -> Trial | None:
        """Hand the lowest-numbered unclaimed Created trial to `worker`, or return None if there is none.

        No two calls, in any processes, ever receive the same trial.

        Raises:
            NotFoundError: no such experiment.
        """

    @abc.abstractmethod
    def release_trial_claim(self, trial_id: int) -> Trial:
        """Make a claimed trial claimable again (e.g. its worker died before launching it).

        Raises:
            NotFoundError: no such trial.
        """

    # --- metrics ----------------------------------------------------------------------------------------

    @abc.abstractmethod
    def log_metric(
        self, trial_id: int, name: str, value: float, step: int | None = None, timestamp: float | None = None
    ) -> None:
        """Append one observation and update the (trial, metric) summary in the same transaction.

        Raises:
            NotFoundError: no such trial.
            StoreValueError: `name` is empty.
        """

    @abc.abstractmethod
    def log_metrics(self, observations: Sequence[Observation]) -> None:
        """Append many observations (any trials and metrics) in one transaction: all are stored, or none.

        Raises:
            NotFoundError: one of the trials does not exist (nothing is stored).
            StoreValueError: an observation has an empty name (nothing is stored).
        """

    @abc.abstractmethod
    def record_early_stopping_decision(
        self,
        trial_id: int,
        rule: str,
        metric: str,
        *,
        stop: bool,
        step: int | None = None,
        value: float | None = None,
        threshold: float | None = None,
        reason: str = "",
    ) -> EarlyStoppingDecision:
        """Append an early-stopping decision for the trial.

        Raises:
            NotFoundError: no such trial.
        """

    # --- pipelines --------------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_pipeline(
        self, name: str, namespace: str = DEFAULT_NAMESPACE, description: str = ""
    ) -> Pipeline:
        """Create a pipeline.

        Raises:
            AlreadyExistsError: the name is taken in the namespace.
        """

    @abc.abstractmethod
    def create_pipeline_version(
        self, pipeline_id: int, name: str, spec: Mapping[str, Any], spec_digest: str
    ) -> PipelineVersion:
        """Store a compiled pipeline spec as a new version.

        Raises:
            NotFoundError: no such pipeline.
            AlreadyExistsError: the pipeline has a version with this name or this digest.
        """

    @abc.abstractmethod
    def create_run(
        self,
        name: str,
        *,
        pipeline_version_id: int | None = None,
        arguments: Mapping[str, Any] | None = None,
        trial_id: int | None = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> PipelineRun:
        """Create a pipeline run in state Pending, optionally as the run of a trial.

        Raises:
            NotFoundError: the pipeline version or the trial does not exist.
        """

    @abc.abstractmethod
    def update_run(self, run_id: int, state: RunState, message: str = "") -> PipelineRun:
        """Set the run's state, stamping `started_at` (Running) and `completed_at` (finished).

        Raises:
            NotFoundError: no such run.
            InvalidTransitionError: the run has already finished.
        """

    @abc.abstractmethod
    def get_run_lease(self, run_id: int) -> RunLease | None:
        """The run's lease, or None when nobody holds it (or it expired).

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def acquire_run_lease(
        self, run_id: int, holder: str, ttl: float, *, replacing: str | None = None
    ) -> RunLease:
        """Take the run's lease as `acquire_lease` takes an experiment's.

        Raises:
            NotFoundError: no such run.
            LeaseHeldError: another holder has a lease that has not expired.
        """

    @abc.abstractmethod
    def renew_run_lease(self, run_id: int, holder: str, ttl: float) -> RunLease:
        """Extend `holder`'s lease of the run.

        Raises:
            NotFoundError: no such run.
            LeaseHeldError: the lease was released or another holder took it.
        """

    @abc.abstractmethod
    def release_run_lease(self, run_id: int, holder: str) -> None:
        """Give the run's lease up (nothing happens when `holder` does not hold it).

        Raises:
            NotFoundError: no such run.
        """

    @abc.abstractmethod
    def create_task(
        self,
        run_id: int,
        name: str,
        *,
        component: str = "",
        inputs: Mapping[str, Any] | None = None,
        cache_key: str | None = None,
    ) -> Task:
        """Create a task of the run in state Pending.

        Raises:
            NotFoundError: no such run.
            AlreadyExistsError: the run has a task with this name.
        """

    @abc.abstractmethod
    def update_task(
        self,
        task_id: int,
        *,
        state: TaskState | None = None,
        outputs: Mapping[str, Any] | None = None,
        message: str | None = None,
        logs_uri: str | None = None,
        new_attempt: bool = False,
        cached_from_task_id: int | None = None,
    ) -> Task:
        """Change a task; arguments left None stay as they are.

        Running stamps `started_at`; a finished state stamps `completed_at`; `new_attempt` counts one more
        launch.

        Raises:
            NotFoundError: no such task (or no such `cached_from_task_id`).
            InvalidTransitionError: the task has already finished and `state` differs.
        """

    @abc.abstractmethod
    def set_task_process(self, task_id: int, process: Mapping[str, Any] | None) -> Task:
        """Record the process running the task's current attempt (`{"pid", "started", "host"}`: its
        process id, start time in seconds since the epoch and host name), or clear it, so that a driver
        resuming the run can find a process that outlived the previous driver.

        Raises:
            NotFoundError: no such task.
        """

    @abc.abstractmethod
    def register_artifact(
        self,
        uri: str,
        *,
        type: str,
        digest: str,
        size: int,
        name: str = "",
        metadata: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Record an artifact. Registering the same URI with the same digest again returns the first record.

        Raises:
            AlreadyExistsError: the URI is registered with a different digest (artifacts are immutable).
        """

    @abc.abstractmethod
    def record_event(
        self,
        artifact_id: int,
        direction: Direction,
        *,
        task_id: int | None = None,
        trial_id: int | None = None,
        port: str = "",
    ) -> Event:
        """Link an artifact to the task or trial (exactly one) that read (INPUT) or wrote (OUTPUT) it.

        Raises:
            NotFoundError: the artifact, task or trial does not exist.
            StoreValueError: not exactly one of `task_id` and `trial_id`.
        """

    @abc.abstractmethod
    def put_cache_entry(self, key: str, outputs: Mapping[str, Any], task_id: int | None = None) -> CacheEntry:
        """Store (or replace) the outputs cached under `key`.

        Raises:
            NotFoundError: `task_id` is given and does not exist.
        """

    # --- models and serving -----------------------------------------------------------------------------

    @abc.abstractmethod
    def create_registered_model(
        self, name: str, namespace: str = DEFAULT_NAMESPACE, description: str = ""
    ) -> RegisteredModel:
        """Create a registered model.

        Raises:
            AlreadyExistsError: the name is taken in the namespace.
        """

    @abc.abstractmethod
    def create_model_version(
        self,
        model_id: int,
        *,
        artifact_id: int | None = None,
        source_trial_id: int | None = None,
        source_task_id: int | None = None,
        metrics: Mapping[str, float] | None = None,
        signature: Mapping[str, Any] | None = None,
        description: str = "",
        actor: str = "",
    ) -> ModelVersion:
        """Create the model's next version (numbers are 1, 2, ... and never reused) and log it in the history.

        Raises:
            NotFoundError: the model, artifact, trial or task does not exist.
        """

    @abc.abstractmethod
    def set_alias(
        self, model_id: int, alias: str, version: int, *, actor: str = "", reason: str = ""
    ) -> RegistryEvent:
        """Point `alias` at `version` (moving it if it pointed elsewhere) and log the change.

        Aliases follow MLflow's rules: letters, digits, `_` and `-`; `latest` and `v<digits>` are reserved.

        Raises:
            NotFoundError: no such model or version.
            StoreValueError: the alias is malformed or reserved.
        """

    @abc.abstractmethod
    def delete_alias(self, model_id: int, alias: str, *, actor: str = "", reason: str = "") -> RegistryEvent:
        """Remove the alias and log the change.

        Raises:
            NotFoundError: no such model or alias.
        """

    @abc.abstractmethod
    def record_registry_event(
        self,
        model_id: int,
        kind: str,
        *,
        alias: str | None = None,
        version: int | None = None,
        previous_version: int | None = None,
        actor: str = "",
        reason: str = "",
    ) -> RegistryEvent:
        """Append an event the registry's rules decide on (e.g. `canary_started`, `rollback`) to the history.

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def delete_registered_model(self, model_id: int) -> None:
        """Delete a model with its versions, aliases and history, and the deployments that serve it.

        Artifacts stay (they are content-addressed and may be shared).

        Raises:
            NotFoundError: no such model.
        """

    @abc.abstractmethod
    def create_deployment(
        self,
        name: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        model_id: int | None = None,
        description: str = "",
    ) -> Deployment:
        """Create a deployment (no revisions, no traffic yet).

        Raises:
            AlreadyExistsError: the name is taken in the namespace.
            NotFoundError: `model_id` is given and does not exist.
        """

    @abc.abstractmethod
    def create_revision(
        self, deployment_id: int, model_version_id: int, config: Mapping[str, Any] | None = None
    ) -> Revision:
        """Create the deployment's next revision (numbered 1, 2, ...), immutable from then on.

        Raises:
            NotFoundError: no such deployment or model version.
        """

    @abc.abstractmethod
    def set_traffic(
        self,
        deployment_id: int,
        percents: Mapping[int, int],
        *,
        tags: Mapping[int, str] | None = None,
        reason: str = "",
    ) -> list[TrafficAssignment]:
        """Replace the current traffic split: close the rows in force and open one per revision.

        Args:
            deployment_id: the deployment.
            percents: `{revision id: percent}`; percents are 0..100 and add up to 100.
            tags: optional `{revision id: tag}` such as "stable" or "canary".
            reason: why, for the history.

        Raises:
            NotFoundError: no such deployment, or a revision that is not the deployment's.
            StoreValueError: percents out of range or not adding up to 100.
        """

    @abc.abstractmethod
    def set_last_good_revision(self, deployment_id: int, revision_id: int) -> Deployment:
        """Remember `revision_id` as the revision to roll back to.

        Raises:
            NotFoundError: no such deployment, or a revision that is not the deployment's.
        """
