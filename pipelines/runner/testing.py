"""Test helpers shipped with the runner: a `Harness` (a local runner whose recorder and observer a test
can inspect) and `overlapping` for checking that tasks ran at the same time from their own timestamps.

Used by tests/pipelines and by any recorder implementation's tests.
"""

from __future__ import annotations

from typing import Any

from pipelines.compiler.ir import PipelineSpec
from pipelines.runner.console import SilentObserver
from pipelines.runner.local import LocalRunner, RunOptions
from pipelines.runner.recorder import InMemoryRecorder, RunRecorder
from pipelines.runner.results import RunResult
from tuner.config import Settings


class Harness:
    """A local runner with an in-memory recorder (or the one given) and a silent, inspectable observer."""

    def __init__(self, recorder: RunRecorder | None = None, settings: Settings | None = None) -> None:
        self.recorder: Any = recorder if recorder is not None else InMemoryRecorder()
        self.observer = SilentObserver()
        self.settings = settings or Settings.from_env()
        self.runner = LocalRunner(self.settings, self.recorder, observer=self.observer)

    def run(self, spec: PipelineSpec, arguments: dict[str, Any] | None = None, **options: Any) -> RunResult:
        """Run `spec`; keyword arguments are `RunOptions` fields."""
        return self.runner.run(spec, arguments, RunOptions(**options))


def overlapping(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two [start, end] time windows overlap."""
    return a[0] < b[1] and b[0] < a[1]
