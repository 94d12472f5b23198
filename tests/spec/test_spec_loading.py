"""Loading from every kind of source, malformed input, multi-document files and the extra-checks hook."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuner.errors import Problem, SpecError
from tuner.spec import Experiment, load_experiment, load_experiments, validate_experiment
from tuner.spec.loading import read_documents


def test_sources_path_str_path_yaml_json_and_dict_agree(doc: dict[str, Any], tmp_path: Path) -> None:
    file = tmp_path / "exp.yaml"
    file.write_text(yaml.safe_dump(doc))
    loaded = [
        load_experiment(file),
        load_experiment(str(file)),
        load_experiment(yaml.safe_dump(doc)),
        load_experiment(json.dumps(doc)),
        load_experiment(json.dumps(doc, indent=2)),
        load_experiment(doc),
    ]
    assert all(e == loaded[0] for e in loaded)


def test_the_source_is_named_in_the_error(doc: dict[str, Any], tmp_path: Path) -> None:
    doc["spec"]["maxTrialCount"] = 0
    file = tmp_path / "exp.yaml"
    file.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as caught:
        load_experiment(file)
    assert caught.value.source == str(file)
    assert str(caught.value).startswith(f"{file}: ")
    with pytest.raises(SpecError) as caught:
        load_experiment(doc, source_name="submitted.yaml")
    assert caught.value.source == "submitted.yaml"


def test_the_input_dict_is_not_changed(doc: dict[str, Any]) -> None:
    snapshot = json.dumps(doc, sort_keys=True)
    load_experiment(doc)
    assert json.dumps(doc, sort_keys=True) == snapshot


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing.yaml", "cannot read: no such file"),
        ("folder", "cannot read: it is a directory, not an experiment file"),
        ("latin1.yaml", "cannot read: not UTF-8 text (invalid byte at offset 9)"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.yaml").write_bytes(b"kind: Exp\xe9riment\n")
    with pytest.raises(SpecError) as caught:
        load_experiment(tmp_path / name)
    assert [str(p) for p in caught.value.problems] == [expected]


def test_malformed_yaml_names_line_and_column() -> None:
    text = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nspec:\n  objective: [a, b\n  algorithm: {}\n"
    with pytest.raises(SpecError) as caught:
        load_experiment(text)
    (problem,) = caught.value.problems
    assert problem.path == ""
    assert problem.message.startswith("invalid YAML at line 5, column 12:")


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(SpecError) as caught:
        load_experiment('{\n  "kind": "Experiment",\n  "spec": {,}\n}')
    assert [str(p) for p in caught.value.problems] == [
        "invalid JSON at line 3, column 12: Expecting property name enclosed in double quotes"
    ]


def test_a_key_given_twice_is_an_error_with_its_line() -> None:
    text = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: a\n  name: b\n"
    with pytest.raises(SpecError) as caught:
        load_experiment(text)
    assert [str(p) for p in caught.value.problems] == [
        "line 5, column 3: key 'name' is given twice in the same mapping"
    ]


def test_yaml_merge_keys_are_not_duplicates(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc).replace(
        "  algorithm:\n    algorithmName: random\n",
        "  algorithm:\n    <<: {algorithmName: grid}\n    algorithmName: random\n",
    )
    assert load_experiment(text).spec.algorithm_name == "random"


def test_one_experiment_expected_but_several_given(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc) + "---\n" + yaml.safe_dump(doc)
    with pytest.raises(SpecError) as caught:
        load_experiment(text)
    assert [str(p) for p in caught.value.problems] == ["expected one Experiment document, found 2 documents"]
    assert len(load_experiments(text)) == 2


def test_multi_document_problems_name_their_document(doc: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(doc))
    bad["spec"]["maxTrialCount"] = 0
    text = "---\n" + yaml.safe_dump(doc) + "---\n" + yaml.safe_dump(bad) + "---\n"
    with pytest.raises(SpecError) as caught:
        load_experiments(text)
    assert [str(p) for p in caught.value.problems] == [
        "[document 2] spec.maxTrialCount: must be greater than 0, got 0"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "expected one Experiment document, found no document"),
        (
            "- a\n- b\n",
            "expected an Experiment document (a mapping with apiVersion, kind, metadata and spec), got a list",
        ),
        (
            "just text\n",
            "expected an Experiment document (a mapping with apiVersion, kind, metadata and spec), got the value 'just text'",
        ),
    ],
)
def test_documents_that_are_not_experiments(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_experiment(text + "\n")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_extra_checks_run_on_the_defaulted_experiment(doc: dict[str, Any]) -> None:
    seen: list[Experiment] = []

    def grid_size(experiment: Experiment) -> Iterable[Problem]:
        seen.append(experiment)
        if experiment.spec.algorithm_name == "random":
            yield Problem("spec.algorithm.algorithmName", "pretend the registry does not know 'random'")

    with pytest.raises(SpecError) as caught:
        load_experiment(doc, extra_checks=[grid_size])
    assert [str(p) for p in caught.value.problems] == [
        "spec.algorithm.algorithmName: pretend the registry does not know 'random'"
    ]
    assert seen[0].spec.parallel_trial_count == 2 and seen[0].spec.resume_policy is not None

    experiment = load_experiment(doc)
    assert validate_experiment(experiment) == []
    assert [p.path for p in validate_experiment(experiment, extra_checks=[grid_size])] == [
        "spec.algorithm.algorithmName"
    ]


def test_read_documents_skips_empty_documents() -> None:
    documents, name = read_documents("---\n---\na: 1\n---\n")
    assert (documents, name) == ([{"a": 1}], "<text>")


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["double", "int", "categorical", "Job", "File", "${trialParameters.x}", "/abs", "-1"]),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_broken_document_gives_problems_not_crashes(doc: dict[str, Any], data: st.DataObject) -> None:
    """Replace a few values anywhere with anything: the loader reports problems, it never raises otherwise."""
    broken = json.loads(json.dumps(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(broken)))
        parent = broken
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(_value)
    try:
        experiment = load_experiment(broken)
    except SpecError as exc:
        assert exc.problems
        assert all(isinstance(p.message, str) and p.message for p in exc.problems)
    else:  # compared as text: a NaN inside the workload is not equal to itself
        document = json.dumps(experiment.to_dict())
        assert json.dumps(load_experiment(json.loads(document)).to_dict()) == document


def test_yaml_keys_are_text_as_kubernetes_sees_them(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc).replace(
        "  name: base\n", "  name: base\n  labels:\n    1: one\n    true: yes-label\n"
    )
    assert load_experiment(text).metadata.labels == {"1": "one", "true": "yes-label"}
    assert load_experiment({**doc, "metadata": {"name": "base", "labels": {2: "two"}}}).metadata.labels == {
        "2": "two"
    }


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (
            "trialSpec",
            ["not", "a", "mapping"],
            "spec.trialTemplate.trialSpec: expected a mapping (key: value pairs), got a list",
        ),
        (
            "trialParameters",
            "learningRate",
            "spec.trialTemplate.trialParameters: expected a list, got 'learningRate'",
        ),
        (
            "primaryContainerName",
            ["main"],
            "spec.trialTemplate.primaryContainerName: expected text, got a list",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_one_problem_not_many(
    doc: dict[str, Any], where: str, value: Any, expected: str
) -> None:
    """The shape problem is reported; rules that would fire only because the value is unusable stay quiet."""
    doc["spec"]["trialTemplate"][where] = value
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    assert [str(p) for p in caught.value.problems] == [expected]


def test_many_shape_problems_still_leave_the_rules_running(doc: dict[str, Any]) -> None:
    """Twelve wrong-typed values and one rule violation: all thirteen are reported in one pass."""
    for parameter in range(3):
        doc["spec"]["parameters"].append(
            {
                "name": f"p{parameter}",
                "parameterType": "double",
                "feasibleSpace": {"min": [1], "max": {"a": 1}},
            }
        )
    for key in ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"):
        doc["spec"][key] = "many"
    doc["spec"]["objective"]["goal"] = "high"
    doc["spec"]["objective"]["additionalMetricNames"] = [1, ["x"]]
    doc["spec"]["parameters"][0]["feasibleSpace"] = {"min": "5", "max": "1"}
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 13
    assert "spec.parameters[0].feasibleSpace: min (5) must be less than max (1)" in lines


def test_snake_case_keys_are_unknown_fields_with_the_camel_case_name_suggested(
    doc: dict[str, Any],
) -> None:
    """Katib's API server reads camelCase only: `max_trial_count: 5` must not quietly mean maxTrialCount."""
    spec = doc["spec"]
    spec["max_trial_count"] = spec.pop("maxTrialCount")
    spec["objective"]["objective_metric_name"] = spec["objective"].pop("objectiveMetricName")
    spec["algorithm"]["algorithm_name"] = spec["algorithm"].pop("algorithmName")
    spec["parameters"][0]["parameter_type"] = spec["parameters"][0].pop("parameterType")
    spec["parameters"][1]["feasible_space"] = spec["parameters"][1].pop("feasibleSpace")
    spec["parameters"][2]["feasibleSpace"]["list_"] = spec["parameters"][2]["feasibleSpace"].pop("list")
    spec["trialTemplate"]["trial_parameters"] = spec["trialTemplate"].pop("trialParameters")
    spec["early_stopping"] = {"algorithmName": "medianstop"}
    with pytest.raises(SpecError) as caught:
        load_experiment(doc)
    lines = [str(p) for p in caught.value.problems]
    for path, name in [
        ("spec.max_trial_count", "maxTrialCount"),
        ("spec.objective.objective_metric_name", "objectiveMetricName"),
        ("spec.algorithm.algorithm_name", "algorithmName"),
        ("spec.parameters[0].parameter_type", "parameterType"),
        ("spec.parameters[1].feasible_space", "feasibleSpace"),
        ("spec.parameters[2].feasibleSpace.list_", "list"),
        ("spec.trialTemplate.trial_parameters", "trialParameters"),
        ("spec.early_stopping", "earlyStopping"),
    ]:
        assert f"{path}: unknown field; did you mean {name}?" in lines, (path, lines)


def test_models_built_in_python_keep_their_snake_case_names() -> None:
    """The Python side (tuner.tune, tests) may build models by attribute name; only documents are camelCase."""
    from tuner.spec import ObjectiveSpec

    objective = ObjectiveSpec(objective_metric_name="loss", type="minimize")  # type: ignore[arg-type]
    assert objective.objective_metric_name == "loss"
