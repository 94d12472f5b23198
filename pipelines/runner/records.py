"""What a pipeline run leaves behind: run, task, artifact, lineage and cache records, and their states.

Plain dataclasses, written by the runner and handed to a `RunRecorder`; the recorder decides where they go
(memory in tests, the metadata store in the service). Task states keep skipped, failed and succeeded apart,
and a cache hit is its own state (`Cached`) that counts as a success.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class TaskState(str, Enum):
    """The life of one task (one loop iteration of a task counts as a task)."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    CACHED = "Cached"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    CANCELLED = "Cancelled"  # stopped because the run was interrupted (a signal to the runner)

    @property
    def is_finished(self) -> bool:
        """True for the states a task never leaves."""
        return self in (
            TaskState.SUCCEEDED,
            TaskState.CACHED,
            TaskState.FAILED,
            TaskState.SKIPPED,
            TaskState.CANCELLED,
        )

    @property
    def has_outputs(self) -> bool:
        """True when the task's outputs exist (it ran to success or came from the cache)."""
        return self in (TaskState.SUCCEEDED, TaskState.CACHED)


class RunState(str, Enum):
    """The life of a run: Running, then Succeeded when no task failed, else Failed; Cancelled when the
    runner was interrupted (Ctrl-C, SIGTERM, SIGHUP) before the end."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass(frozen=True)
class ArtifactRef:
    """A stored file or folder: where it is and what it holds (sha256 of its bytes)."""

    uri: str
    digest: str
    size: int
    artifact_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "uri": self.uri,
            "digest": self.digest,
            "size": self.size,
            "type": self.artifact_type,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactRef:
        """Inverse of `to_dict`."""
        return cls(
            data["uri"], data["digest"], int(data["size"]), data.get("type"), dict(data.get("metadata") or {})
        )


@dataclass
class TaskRecord:
    """One task of one run, as it stands now. `name` is unique in the run (`inc-op[2]` for loop items)."""

    run_id: str
    name: str
    task: str
    component: str
    component_digest: str
    display_name: str | None = None
    iteration: tuple[int, ...] = ()
    state: TaskState = TaskState.PENDING
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    input_artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    output_artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    cache_key: str | None = None
    cached_from: str | None = None  # "run_id/task" that produced the cached outputs
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    log_path: str | None = None
    message: str = ""
    image: str | None = None
    pid: int | None = None  # the running attempt's process (its process group), while it runs

    @property
    def duration(self) -> float | None:
        """Seconds from the first start to the end, when both are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


@dataclass
class RunRecord:
    """One run of a pipeline."""

    run_id: str
    pipeline_name: str
    pipeline_digest: str
    arguments: dict[str, Any]
    state: RunState = RunState.RUNNING
    run_name: str | None = None
    experiment_name: str | None = None
    pipeline_version_id: str | None = None
    trial_id: int | None = None  # set when the run is a trial's (pipeline runs as trials)
    started_at: float = 0.0
    finished_at: float | None = None
    message: str = ""
    run_dir: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    # KFP's spellings (`run.id`, `run.status`, `run.name`), for code that reads KFP run objects.
    @property
    def id(self) -> str:
        """KFP `run.id`."""
        return self.run_id

    @property
    def status(self) -> str:
        """KFP v1 `run.status`: "Running", "Succeeded", "Failed" or "Cancelled"."""
        return self.state.value

    @property
    def name(self) -> str:
        """KFP `run.name`: the run name given, else the pipeline's name."""
        return self.run_name or self.pipeline_name


@dataclass(frozen=True)
class LineageEvent:
    """A task read (`input`) or wrote (`output`) an artifact under an input/output name."""

    run_id: str
    task: str
    kind: str  # "input" | "output"
    name: str
    artifact: ArtifactRef


@dataclass(frozen=True)
class CacheEntry:
    """What a cache hit gives back: the output values and artifacts a task produced, and who produced them."""

    key: str
    outputs: dict[str, Any]
    output_artifacts: dict[str, ArtifactRef]
    run_id: str
    task: str
    created_at: float
