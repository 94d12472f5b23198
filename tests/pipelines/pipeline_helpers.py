"""Helpers for the pipeline tests: pipelines written to files (components need their source on disk),
a local runner with an in-memory recorder, and the golden examples' folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.loader import load_pipeline
from pipelines.runner.console import SilentObserver
from pipelines.runner.local import LocalRunner, RunOptions, RunResult
from pipelines.runner.recorder import InMemoryRecorder
from tuner.config import Settings

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pipelines"
SEED = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "seed"


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Callable[..., PipelineSpec]:
    """Write pipeline source to a file and compile the pipeline in it (by `name` when several)."""
    counter = iter(range(1000))

    def make(source: str, name: str | None = None) -> PipelineSpec:
        path = tmp_path / f"pipeline_{next(counter)}.py"
        path.write_text(textwrap.dedent(source))
        return load_pipeline(path, name)

    return make


class Harness:
    """A runner whose recorder and observer the test can inspect."""

    def __init__(self) -> None:
        self.recorder = InMemoryRecorder()
        self.observer = SilentObserver()
        self.settings = Settings.from_env()
        self.runner = LocalRunner(self.settings, self.recorder, observer=self.observer)

    def run(
        self, spec: PipelineSpec, arguments: dict[str, object] | None = None, **options: object
    ) -> RunResult:
        return self.runner.run(spec, arguments, RunOptions(**options))  # type: ignore[arg-type]


@pytest.fixture
def harness() -> Harness:
    return Harness()


def overlapping(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two [start, end] windows overlap."""
    return a[0] < b[1] and b[0] < a[1]
