"""What a local run gives back: `RunResult` (the run, its tasks, its outputs and metrics) and `RunDetail`,
shaped like the run objects of KFP's client so that KFP code reading `.run_id`, `.run_info`, `.run.id`,
`.run.status` (v1) or `.state` (v2) works unchanged. Both print as one short line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.compiler.ir import PipelineSpec
from pipelines.runner.records import RunRecord, RunState, TaskRecord

_KFP_V2_STATES = {
    RunState.RUNNING: "RUNNING",
    RunState.SUCCEEDED: "SUCCEEDED",
    RunState.FAILED: "FAILED",
    RunState.CANCELLED: "CANCELED",
}


class RunDetail:
    """What KFP's `wait_for_run_completion(...)` and `get_run(...)` return, for a local run.

    KFP v1 code reads `detail.run.id`, `detail.run.status` ("Succeeded"); KFP v2 code reads
    `detail.run_id`, `detail.state` ("SUCCEEDED"), `detail.display_name`, `detail.error`.
    """

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.run = result.run

    @property
    def id(self) -> str:
        return self.run.run_id

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def status(self) -> str:
        """KFP v1 spelling: "Succeeded", "Failed", ..."""
        return self.run.state.value

    @property
    def state(self) -> str:
        """KFP v2 spelling: "SUCCEEDED", "FAILED", "RUNNING", "CANCELED"."""
        return _KFP_V2_STATES[self.run.state]

    @property
    def name(self) -> str:
        return self.run.name

    display_name = name

    @property
    def error(self) -> str | None:
        """Why the run failed (None when it succeeded)."""
        return self.run.message or None if self.run.state != RunState.SUCCEEDED else None

    @property
    def created_at(self) -> float:
        return self.run.started_at

    @property
    def finished_at(self) -> float | None:
        return self.run.finished_at

    def __repr__(self) -> str:
        return f"<RunDetail run_id={self.run_id} status={self.status}>"


@dataclass(repr=False)
class RunResult:
    """A finished run: its record, its tasks (by unique name) and its outputs.

    Shaped like KFP's `RunPipelineResult` too: `.run_id`, `.run_info`, `.run.id`, `.run.status`,
    `.wait_for_run_completion()`.
    """

    run: RunRecord
    tasks: dict[str, TaskRecord]
    spec: PipelineSpec

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for task in self.tasks.values():
            counts[task.state.value.lower()] = counts.get(task.state.value.lower(), 0) + 1
        took = (
            f" in {self.run.finished_at - self.run.started_at:.2f}s"
            if self.run.finished_at is not None
            else ""
        )
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no tasks"
        return f"<RunResult {self.spec.pipeline.name} run_id={self.run_id} {self.run.state.value}{took}: {summary}>"

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def run_info(self) -> RunDetail:
        """KFP `RunPipelineResult.run_info`: the run's id, name and status."""
        return RunDetail(self)

    @property
    def state(self) -> RunState:
        return self.run.state

    @property
    def outputs(self) -> dict[str, Any]:
        return self.run.outputs

    def success(self) -> bool:
        """KFP v1 `RunPipelineResult.success()`."""
        return self.run.state == RunState.SUCCEEDED

    def wait_for_run_completion(self, timeout: float | None = None) -> RunDetail:
        """KFP `RunPipelineResult.wait_for_run_completion`: a local run has already completed; returns the
        run's detail (`.run.status`, `.state`)."""
        return RunDetail(self)

    def task(self, name: str) -> TaskRecord:
        """A task by its unique name (`inc-op[2]` inside loops)."""
        return self.tasks[name]

    def metrics(self) -> dict[str, float]:
        """Numbers the run reported: its numeric pipeline outputs, then every `Output[Metrics]` artifact's
        logged metrics (`metrics.log_metric(name, value)`), the later task winning a name clash. This is
        what a trial reads when a pipeline runs as a trial."""
        found: dict[str, float] = {}
        for task in self.tasks.values():
            for ref in task.output_artifacts.values():
                if ref.artifact_type == "Metrics":
                    found.update(
                        {
                            k: float(v)
                            for k, v in ref.metadata.items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)
                        }
                    )
        for key, value in self.run.outputs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found[key] = float(value)
        return found
