"""crds/ is generated from the tuner.spec models: the committed files equal the generator's output, and the
schemas keep the structural rules the API server enforces (checked here without a server; tests/k8s applies
them to a real one)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tuner.spec import experiment_from_document
from tuner.spec.crd import (
    EXPERIMENT_DEFAULTS,
    EXPERIMENT_MINIMUMS,
    RESOURCES,
    main,
    rendered,
    schema_of,
    stale,
)
from tuner.spec.openapi import SchemaShapeError, structural

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"


def test_the_committed_crds_equal_the_generators_output() -> None:
    assert stale(CRDS) == [], "crds/ is stale: run `python -m tuner.spec.crd write`"
    assert sorted(p.name for p in CRDS.iterdir()) == sorted(rendered())


def test_check_names_a_stale_file_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["write", str(tmp_path)]) == 0
    assert main(["check", str(tmp_path)]) == 0
    trial = tmp_path / "trial.yaml"
    trial.write_text(trial.read_text().replace("format: int32", "format: int64", 1))
    assert main(["check", str(tmp_path)]) == 1
    assert "trial.yaml differ from the tuner.spec models" in capsys.readouterr().err
    assert main(["write", str(tmp_path)]) == 0
    assert main(["check", str(tmp_path)]) == 0
    assert main(["publish"]) == 2


def walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    found = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        found += walk(sub, f"{path}.{name}")
    if "items" in node:
        found += walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        found += walk(node["additionalProperties"], f"{path}{{}}")
    return found


@pytest.mark.parametrize("resource", RESOURCES, ids=[r.kind for r in RESOURCES])
def test_every_schema_node_is_structural(resource: Any) -> None:
    for path, node in walk(schema_of(resource)):
        assert not {"$ref", "anyOf", "oneOf", "allOf", "$defs", "title"} & set(node), path
        typed = (
            "type" in node
            or node.get("x-kubernetes-int-or-string")
            or node.get("x-kubernetes-preserve-unknown-fields")
        )
        assert typed, f"{path} has no type"
        assert isinstance(node.get("additionalProperties", {}), dict), path  # never true/false
        if (
            path != ".metadata"
            and node.get("type") == "object"
            and "properties" not in node
            and "additionalProperties" not in node
        ):
            assert node.get("x-kubernetes-preserve-unknown-fields"), (
                f"{path}: an empty object would prune everything"
            )
    # the API server owns metadata: a CRD may only say it is an object
    assert schema_of(resource)["properties"]["metadata"] == {"type": "object"}


def test_free_form_parts_are_preserved_and_enums_come_from_the_models() -> None:
    experiment = dict(walk(schema_of(RESOURCES[0])))
    assert experiment[".spec.trialTemplate.trialSpec"] == {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert experiment[".spec.parameters[].parameterType"]["enum"] == [
        "double",
        "int",
        "discrete",
        "categorical",
        "unknown",
    ]
    assert experiment[".spec.parameters[]"]["required"] == ["name", "parameterType"]
    assert experiment[".spec.parameters[].feasibleSpace.list[]"] == {"type": "string"}
    assert experiment[".spec.metricsCollectorSpec.source.httpGet.port"] == {
        "x-kubernetes-int-or-string": True
    }


def test_the_schema_defaults_are_what_apply_defaults_gives() -> None:
    bare = {
        "apiVersion": "tuner.dev/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "d"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
            ],
            "trialTemplate": {"trialSpec": {"apiVersion": "v1", "kind": "Pod"}},
        },
    }
    experiment, _ = experiment_from_document(bare)
    assert experiment is not None
    defaulted = experiment.to_dict()
    for path, value in EXPERIMENT_DEFAULTS.items():
        node: Any = defaulted
        for key in path:
            node = node[0] if key == "[]" else node[key]
        assert node == value, path


@pytest.mark.parametrize("path", list(EXPERIMENT_MINIMUMS), ids=lambda p: ".".join(p))
def test_the_schema_minimums_are_validations_count_rules(path: tuple[str, ...]) -> None:
    minimum = EXPERIMENT_MINIMUMS[path]
    base = yaml.safe_load((ROOT / "examples" / "katib" / "random.yaml").read_text())
    for value, refused in ((minimum - 1, True), (minimum, False)):
        document = copy.deepcopy(base)
        document["spec"]["maxTrialCount"] = 12
        document["spec"][path[-1]] = value
        _, problems = experiment_from_document(document)
        assert any(p.path == ".".join(path) for p in problems) is refused, (value, problems)


def test_a_union_without_a_structural_form_is_an_error_naming_the_field() -> None:
    schema = {"type": "object", "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "number"}]}}}
    with pytest.raises(SchemaShapeError, match=r"^v: a union of \['number', 'string'\]"):
        structural(schema)
    assert structural(schema, overrides={("v",): {"type": "string"}})["properties"]["v"] == {"type": "string"}
    with pytest.raises(SchemaShapeError, match="no such field in the model: w"):
        structural(schema, overrides={("v",): {"type": "string"}}, extra={("w",): {"default": 1}})
