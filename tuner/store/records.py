"""The plain records the store hands out and takes in: frozen dataclasses, no SQLAlchemy.

Callers (controller, pipelines runner, registry, server, dashboard) see only these types, so they never
depend on the ORM and never hold a live database row. Records are snapshots: changing the database
afterwards does not change a record already returned.

Conventions:
    * ids are integers chosen by the store; names are unique within their parent (or namespace).
    * times are timezone-aware UTC `datetime`s, except metric timestamps, which are float seconds since
      the epoch (`time.time()`), because metric writes are the hot path and floats cost nothing to convert.
    * JSON-able documents (specs, statuses, arguments, outputs) are plain dicts and lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from tuner.states import ExperimentState, TrialState

JSONDict = dict[str, Any]

DEFAULT_NAMESPACE = "default"


class Goal(str, Enum):
    """Katib's objective type: which direction of a metric is better."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class MetricStrategy(str, Enum):
    """Katib's metric strategy: which value of a trial's series stands for the trial."""

    MIN = "min"
    MAX = "max"
    LATEST = "latest"


class RunState(str, Enum):
    """The life of a pipeline run."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def is_finished(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


class TaskState(str, Enum):
    """The life of one pipeline task (a node of a run's graph)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    CACHED = "Cached"
    CANCELLED = "Cancelled"

    @property
    def is_finished(self) -> bool:
        return self not in (TaskState.PENDING, TaskState.RUNNING)


class Direction(str, Enum):
    """Whether an artifact went into or came out of a trial or task (an edge of the lineage graph)."""

    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class NodeKind(str, Enum):
    """Kinds of records the lineage graph connects."""

    EXPERIMENT = "experiment"
    TRIAL = "trial"
    PIPELINE_RUN = "pipeline_run"
    TASK = "task"
    ARTIFACT = "artifact"
    MODEL_VERSION = "model_version"
    REVISION = "revision"
    DEPLOYMENT = "deployment"


class LineageDirection(str, Enum):
    """UPSTREAM walks towards what a record was made from; DOWNSTREAM towards what was made from it."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


# --- tuning -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """An experiment as submitted (`spec`) and as it stands (`state`, `status`, the Katib-shaped document)."""

    id: int
    namespace: str
    name: str
    spec: JSONDict
    spec_digest: str
    state: ExperimentState
    status: JSONDict
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class Lease:
    """Who drives an experiment, until when. A lease past `expires_at` may be taken over; a lease whose
    holder is provably dead may be taken over at once (`acquire_lease(..., replacing=holder)`)."""

    experiment_id: int
    holder: str
    acquired_at: datetime
    expires_at: datetime
    stop_requested_at: datetime | None = None  # `tuner experiments stop` asked this holder to stop


@dataclass(frozen=True)
class RunLease:
    """Who drives a pipeline run, until when (the same rules as an experiment's `Lease`)."""

    run_id: int
    holder: str
    acquired_at: datetime
    expires_at: datetime
    stop_requested_at: datetime | None = None  # never set: runs are cancelled through their driver


@dataclass(frozen=True)
class Assignment:
    """One parameter value of a trial: the text exactly as rendered, plus a number for sorting (or None)."""

    name: str
    value: str
    numeric: float | None = None


@dataclass(frozen=True)
class RuntimeInfo:
    """Where a trial's process lives, so a resumed controller can find orphans and logs."""

    pid: int | None = None
    host: str | None = None
    log_path: str | None = None
    work_dir: str | None = None
    extra: JSONDict = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        return {
            "pid": self.pid,
            "host": self.host,
            "log_path": self.log_path,
            "work_dir": self.work_dir,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, doc: JSONDict | None) -> RuntimeInfo | None:
        if not doc:
            return None
        return cls(
            pid=doc.get("pid"),
            host=doc.get("host"),
            log_path=doc.get("log_path"),
            work_dir=doc.get("work_dir"),
            extra=dict(doc.get("extra") or {}),
        )


@dataclass(frozen=True)
class Trial:
    """A trial: its sequence number in the experiment, its assignments and where it is in its life."""

    id: int
    experiment_id: int
    number: int
    name: str
    state: TrialState
    reason: str
    message: str
    assignments: tuple[Assignment, ...]
    labels: dict[str, str]
    run_spec: JSONDict
    attempt: int
    runtime: RuntimeInfo | None
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    def assignment_values(self) -> dict[str, str]:
        """Assignments as `{name: value}` in their original order."""
        return {a.name: a.value for a in self.assignments}


@dataclass(frozen=True)
class Observation:
    """One metric value to append. `timestamp` defaults to the time of the write."""

    trial_id: int
    name: str
    value: float
    step: int | None = None
    timestamp: float | None = None


@dataclass(frozen=True)
class MetricPoint:
    """One stored metric value. NaN is stored as SQL NULL and read back as NaN."""

    trial_id: int
    name: str
    step: int | None
    value: float
    timestamp: float


@dataclass(frozen=True)
class MetricSummary:
    """Per (trial, metric): count, min and max (NaN ignored), and the latest value by (timestamp, step)."""

    trial_id: int
    name: str
    count: int
    min: float | None
    max: float | None
    latest: float | None
    latest_step: int | None
    latest_timestamp: float

    def value_for(self, strategy: MetricStrategy) -> float | None:
        """The value that stands for the trial under a Katib metric strategy."""
        if strategy == MetricStrategy.MIN:
            return self.min
        if strategy == MetricStrategy.MAX:
            return self.max
        return self.latest


@dataclass(frozen=True)
class BestTrial:
    """The best trial of an experiment for one metric, with the value that made it best."""

    trial: Trial
    value: float
    summary: MetricSummary


@dataclass(frozen=True)
class TrialOrder:
    """Sort trials by one metric, best first: the value `strategy` picks of each series, in `goal`'s direction."""

    metric: str
    goal: Goal = Goal.MINIMIZE
    strategy: MetricStrategy = MetricStrategy.LATEST


@dataclass(frozen=True)
class ComparisonRow:
    """One row of the trial comparison table: the trial, its assignments and its metric summaries."""

    trial: Trial
    metrics: dict[str, MetricSummary]


@dataclass(frozen=True)
class TrialOutline:
    """What figures and tables need of a trial (no run spec, labels or runtime): cheap to read for 10,000."""

    id: int
    number: int
    name: str
    state: TrialState
    assignments: tuple[Assignment, ...]
    metrics: dict[str, MetricSummary]
    started_at: datetime | None
    completed_at: datetime | None


SeriesPoint = tuple[int | None, float]
"""(step, value) of a metric point as `series_points` reads it; a NULL (NaN) value is NaN."""


@dataclass(frozen=True)
class EarlyStoppingDecision:
    """Why an early-stopping rule let a trial go on or stopped it, at one step (append-only)."""

    id: int
    trial_id: int
    rule: str
    metric: str
    step: int | None
    value: float | None
    threshold: float | None
    stop: bool
    reason: str
    decided_at: datetime


# --- pipelines ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    id: int
    namespace: str
    name: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class PipelineVersion:
    """A compiled pipeline spec. Name and digest are each unique within the pipeline; versions never change."""

    id: int
    pipeline_id: int
    name: str
    spec: JSONDict
    spec_digest: str
    created_at: datetime


@dataclass(frozen=True)
class PipelineRun:
    id: int
    namespace: str
    name: str
    pipeline_version_id: int | None
    trial_id: int | None
    state: RunState
    arguments: JSONDict
    message: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class Task:
    """One node of a run. `name` is unique within the run; `attempts` counts launches."""

    id: int
    run_id: int
    name: str
    component: str
    state: TaskState
    inputs: JSONDict
    outputs: JSONDict
    cache_key: str | None
    cached_from_task_id: int | None
    attempts: int
    logs_uri: str | None
    message: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    process: JSONDict | None = None  # the running attempt's {"pid", "started", "host"} (set_task_process)


@dataclass(frozen=True)
class Artifact:
    """Immutable content at a URI: what it is (`type`), its sha256 `digest` and `size` in bytes."""

    id: int
    uri: str
    type: str
    name: str
    digest: str
    size: int
    metadata: JSONDict
    created_at: datetime


@dataclass(frozen=True)
class Event:
    """An edge of the lineage graph: an artifact went INTO or came OUT of a task or a trial."""

    id: int
    artifact_id: int
    direction: Direction
    task_id: int | None
    trial_id: int | None
    port: str
    created_at: datetime


@dataclass(frozen=True)
class CacheEntry:
    """A finished task's outputs under its cache key, to be reused instead of running it again."""

    key: str
    outputs: JSONDict
    task_id: int | None
    created_at: datetime


# --- models and serving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredModel:
    id: int
    namespace: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ModelVersion:
    """Version `version` (1, 2, ... never reused) of a registered model, with where it came from."""

    id: int
    model_id: int
    version: int
    artifact_id: int | None
    source_trial_id: int | None
    source_task_id: int | None
    metrics: dict[str, float]
    signature: JSONDict
    description: str
    created_at: datetime


@dataclass(frozen=True)
class RegistryEvent:
    """One line of a model's append-only history: a version created, an alias set, moved or deleted."""

    id: int
    model_id: int
    kind: str
    alias: str | None
    version: int | None
    previous_version: int | None
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Deployment:
    id: int
    namespace: str
    name: str
    model_id: int | None
    description: str
    last_good_revision_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Revision:
    """An immutable deployable unit: one model version plus its runtime configuration."""

    id: int
    deployment_id: int
    number: int
    model_version_id: int
    config: JSONDict
    config_digest: str
    created_at: datetime


@dataclass(frozen=True)
class TrafficAssignment:
    """A share of a deployment's traffic for one revision; current while `valid_to` is None."""

    id: int
    deployment_id: int
    revision_id: int
    percent: int
    tag: str | None
    reason: str
    valid_from: datetime
    valid_to: datetime | None


# --- lineage ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeRef:
    """A record in the lineage graph, by kind and id."""

    kind: NodeKind
    id: int


@dataclass(frozen=True)
class LineageNode:
    """A record reached by a lineage walk, with a readable label and its distance from the start."""

    kind: NodeKind
    id: int
    label: str
    depth: int


@dataclass(frozen=True)
class LineageEdge:
    """`source` was used to make `target` (edges always point downstream, whichever way the walk went)."""

    source: NodeRef
    target: NodeRef
    relation: str


@dataclass(frozen=True)
class LineageGraph:
    """The part of the lineage graph reachable from `start` in one direction."""

    start: NodeRef
    direction: LineageDirection
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]

    def of_kind(self, kind: NodeKind) -> list[LineageNode]:
        """The reached nodes of one kind, nearest first."""
        return sorted((n for n in self.nodes if n.kind == kind), key=lambda n: (n.depth, n.id))
