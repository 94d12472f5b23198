"""Fixtures of the pipeline tests: pipelines written to files (components need their source on disk) and
a runner harness with an in-memory recorder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.loader import load_pipeline
from pipelines.runner.testing import Harness


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Callable[..., PipelineSpec]:
    """Write pipeline source to a file and compile the pipeline in it (by `name` when several)."""
    counter = iter(range(1000))

    def make(source: str, name: str | None = None) -> PipelineSpec:
        path = tmp_path / f"pipeline_{next(counter)}.py"
        path.write_text(textwrap.dedent(source))
        return load_pipeline(path, name)

    return make


@pytest.fixture
def harness() -> Harness:
    return Harness()
