"""The golden corpus (tests/golden/experiments) and the shipped examples.

valid/: Katib Experiments written independently of this code, in the shapes users have (Kubeflow
training jobs, kubectl exports with status, unquoted numbers, NAS, configMap templates, other kinds).
Each must load, and its dump must load back to the same experiment.

invalid/: each `NAME.yaml` (or .json) sits next to `NAME.expected`, the exact problem lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tuner.errors import SpecError
from tuner.spec import dump_experiment, load_experiment, load_experiments

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "experiments"
VALID = sorted(p for p in (GOLDEN / "valid").iterdir() if p.suffix in (".yaml", ".json"))
INVALID = sorted(p for p in (GOLDEN / "invalid").iterdir() if p.suffix in (".yaml", ".json"))
EXAMPLES = sorted((ROOT / "examples").rglob("*.yaml"))


def test_the_corpus_is_not_empty() -> None:
    assert len(VALID) >= 20 and len(INVALID) >= 40 and len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid(path: Path) -> None:
    for experiment in load_experiments(path):
        for fmt in ("yaml", "json"):
            assert load_experiment(dump_experiment(experiment, fmt)) == experiment  # type: ignore[arg-type]


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text().splitlines()
    with pytest.raises(SpecError) as caught:
        load_experiments(path)
    assert [str(p) for p in caught.value.problems] == expected


def test_every_invalid_file_has_its_expectation() -> None:
    expectations = {p.stem for p in (GOLDEN / "invalid").glob("*.expected")}
    assert expectations == {p.stem for p in INVALID}


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_examples_are_valid(path: Path) -> None:
    assert load_experiments(path)


def test_kubectl_export_keeps_its_server_fields() -> None:
    experiment = load_experiment(GOLDEN / "valid" / "kubectl-export.yaml")
    document = experiment.to_dict()
    assert document["metadata"]["uid"] == "4b1c3c0e-9a54-4f7d-8d1e-1f2a9b0c6d11"
    assert document["metadata"]["managedFields"][1]["subresource"] == "status"
    assert document["status"]["currentOptimalTrial"]["bestTrialName"] == "random-6ztzcgqs"
    assert document["status"]["trialsSucceeded"] == 12


def test_quickstart_is_what_the_readme_says() -> None:
    experiment = load_experiment(ROOT / "examples" / "quickstart" / "experiment.yaml")
    spec = experiment.spec
    assert experiment.api_version == "kubeflow.org/v1beta1"
    assert spec.max_trial_count == 12 and spec.parallel_trial_count == 2
    assert {p.parameter_type.value for p in spec.parameters or []} == {"double", "int", "categorical"}
    container = spec.trial_template.primary_container()
    assert container is not None and container["command"][1] == "$(TUNER_EXPERIMENT_DIR)/train.py"
