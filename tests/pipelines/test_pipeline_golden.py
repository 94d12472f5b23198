"""Golden tests in the style of kfp's test_data: each valid example compiles to exactly its .yaml next to
it (and to a valid Argo Workflow); each invalid example fails with the message its first line names.

Set TUNER_UPDATE_GOLDEN=1 to rewrite the expected files after an intended change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hera.workflows.models import Workflow

from pipelines.compiler.argo import to_workflow
from pipelines.compiler.loader import load_pipeline
from pipelines.compiler.package import spec_to_yaml
from tuner.errors import SpecError

ROOT_DIR = Path(__file__).resolve().parents[2]
GOLDEN = ROOT_DIR / "tests" / "golden" / "pipelines"
SEED = ROOT_DIR / "examples" / "pipelines" / "seed"


VALID = sorted((GOLDEN / "valid").glob("*.py"))
INVALID = sorted((GOLDEN / "invalid").glob("*.py"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_compiles_to_its_golden_yaml(path: Path) -> None:
    compiled = spec_to_yaml(load_pipeline(path))
    expected = path.with_suffix(".yaml")
    if os.environ.get("TUNER_UPDATE_GOLDEN") == "1":
        expected.write_text(compiled)
    assert expected.exists(), f"no golden file {expected.name}; run with TUNER_UPDATE_GOLDEN=1"
    assert compiled == expected.read_text()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_is_refused_with_its_message(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# error: ")
    with pytest.raises(SpecError) as caught:
        load_pipeline(path)
    assert first.removeprefix("# error: ") in str(caught.value)


def argo_round_trip(document: dict) -> dict:
    """Validate against hera's typed Argo models (generated from Argo's OpenAPI schema) and dump back;
    a field the models do not know is dropped by the round trip, so equality also catches unknown keys."""
    return Workflow.model_validate(document).model_dump(by_alias=True, exclude_none=True, mode="json")


SEED_PIPELINES = [
    ("hello_world.py", None),
    ("add_numbers.py", None),
    ("parallel.py", None),
    ("control.py", "flipcoin_pipeline"),
    ("control.py", "flipcoin_exit_pipeline"),
    ("pipeline_example.py", None),
    ("settings.py", None),
]


@pytest.mark.parametrize(
    ("path", "name"),
    [(p, None) for p in VALID] + [(SEED / f, n) for f, n in SEED_PIPELINES],
    ids=lambda v: v.stem if isinstance(v, Path) else str(v),
)
def test_argo_target_is_a_valid_workflow(path: Path, name: str | None) -> None:
    document = to_workflow(load_pipeline(path, name))
    assert document["kind"] == "Workflow"
    assert argo_round_trip(document) == document
