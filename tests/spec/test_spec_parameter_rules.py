"""`check_parameters`, the rules `tuner.space` shares: one case per rule, exact path and message."""

from __future__ import annotations

from typing import Any

import pytest

from tuner.errors import Problem, SpecError
from tuner.space import SearchSpace
from tuner.spec import ParameterSpec, check_parameters


def params(*specs: dict[str, Any]) -> list[ParameterSpec]:
    return [ParameterSpec.model_validate(s) for s in specs]


def p(name: str, kind: str, **space: Any) -> dict[str, Any]:
    return {"name": name, "parameterType": kind, "feasibleSpace": space}


CASES: list[tuple[str, list[dict[str, Any]], list[str]]] = [
    (
        "name-required",
        [p("", "double", min="0", max="1")],
        ["spec.parameters[0].name: required: the parameter's name"],
    ),
    (
        "name-unique",
        [p("lr", "double", min="0", max="1"), p("lr", "int", min="0", max="1")],
        ["spec.parameters[1].name: duplicate parameter name 'lr' (also spec.parameters[0])"],
    ),
    (
        "type-supported",
        [p("x", "unknown", min="0", max="1")],
        [
            "spec.parameters[0].parameterType: 'unknown' is not supported; use double, int, discrete or categorical"
        ],
    ),
    (
        "double-needs-min",
        [p("x", "double", max="1")],
        ["spec.parameters[0].feasibleSpace.min: required for parameterType double: the lower bound"],
    ),
    (
        "int-needs-max",
        [p("x", "int", min="1")],
        ["spec.parameters[0].feasibleSpace.max: required for parameterType int: the upper bound"],
    ),
    (
        "range-forbids-list",
        [p("x", "double", min="0", max="1", list=["0.5"])],
        [
            "spec.parameters[0].feasibleSpace.list: not allowed for parameterType double; give min and max, "
            "or use parameterType discrete or categorical for a list of values"
        ],
    ),
    (
        "number-parses",
        [p("x", "double", min="zero", max="1")],
        ["spec.parameters[0].feasibleSpace.min: 'zero' is not a number"],
    ),
    (
        "number-is-finite",
        [p("x", "double", min="0", max="inf")],
        ["spec.parameters[0].feasibleSpace.max: 'inf' is not a number"],
    ),
    (
        "number-fits-a-double",
        [p("x", "double", min="0", max="1e999")],
        [
            "spec.parameters[0].feasibleSpace.max: '1e999' is too large to be represented as a number (a double)"
        ],
    ),
    (
        "range-fits-a-double",
        [p("x", "double", min="-1e308", max="1e308")],
        ["spec.parameters[0].feasibleSpace: the range is too wide to be represented as a number (a double)"],
    ),
    (
        "double-min-less-than-max",
        [p("x", "double", min="5", max="1")],
        ["spec.parameters[0].feasibleSpace: min (5) must be less than max (1)"],
    ),
    (
        "double-min-equal-max",
        [p("x", "double", min="0.5", max="0.5")],
        ["spec.parameters[0].feasibleSpace: min (0.5) must be less than max (0.5)"],
    ),
    (
        "int-min-not-above-max",
        [p("x", "int", min="5", max="1")],
        ["spec.parameters[0].feasibleSpace: min (5) must not be greater than max (1)"],
    ),
    (
        "int-bounds-whole",
        [p("x", "int", min="1", max="2.0")],
        [
            "spec.parameters[0].feasibleSpace.max: '2.0' is not a whole number (parameterType int needs integer bounds)"
        ],
    ),
    (
        "step-positive",
        [p("x", "double", min="0", max="1", step="-0.1")],
        ["spec.parameters[0].feasibleSpace.step: must be greater than 0, got -0.1"],
    ),
    (
        "step-number",
        [p("x", "double", min="0", max="1", step="tiny")],
        ["spec.parameters[0].feasibleSpace.step: 'tiny' is not a number"],
    ),
    (
        "int-step-whole",
        [p("x", "int", min="0", max="10", step="2.5")],
        [
            "spec.parameters[0].feasibleSpace.step: '2.5' is not a whole number (parameterType int needs an integer step)"
        ],
    ),
    (
        "log-uniform-positive",
        [p("x", "double", min="0", max="1", distribution="logUniform")],
        [
            "spec.parameters[0].feasibleSpace.min: must be greater than 0 for distribution logUniform "
            "(a log scale has no 0 or negative values), got 0"
        ],
    ),
    (
        "log-normal-positive",
        [p("x", "int", min="-3", max="3", distribution="logNormal")],
        [
            "spec.parameters[0].feasibleSpace.min: must be greater than 0 for distribution logNormal "
            "(a log scale has no 0 or negative values), got -3"
        ],
    ),
    (
        "list-needed",
        [p("x", "categorical")],
        [
            "spec.parameters[0].feasibleSpace.list: required for parameterType categorical: a non-empty list of values"
        ],
    ),
    (
        "list-not-empty",
        [p("x", "discrete", list=[])],
        [
            "spec.parameters[0].feasibleSpace.list: required for parameterType discrete: a non-empty list of values"
        ],
    ),
    (
        "list-forbids-range",
        [p("x", "categorical", list=["a"], max="3", step="1")],
        [
            "spec.parameters[0].feasibleSpace.max: not allowed for parameterType categorical; list the values in feasibleSpace.list",
            "spec.parameters[0].feasibleSpace.step: not allowed for parameterType categorical; list the values in feasibleSpace.list",
        ],
    ),
    (
        "list-unique",
        [p("x", "categorical", list=["a", "b", "a"])],
        ["spec.parameters[0].feasibleSpace.list[2]: duplicate value 'a' (also list[0])"],
    ),
    (
        "discrete-unique-numerically",
        [p("x", "discrete", list=["1", "2", "1.0"])],
        ["spec.parameters[0].feasibleSpace.list[2]: duplicate value '1.0' (also list[0])"],
    ),
    (
        "discrete-numeric",
        [p("x", "discrete", list=["1", "two"])],
        [
            "spec.parameters[0].feasibleSpace.list[1]: 'two' is not a number; discrete values must be numbers "
            "(use parameterType categorical for text values)"
        ],
    ),
]


@pytest.mark.parametrize(("specs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(specs: list[dict[str, Any]], expected: list[str]) -> None:
    assert [str(problem) for problem in check_parameters(params(*specs))] == expected


@pytest.mark.parametrize(("specs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_search_space_refuses_the_same_with_the_same_words(
    specs: list[dict[str, Any]], expected: list[str]
) -> None:
    """One source of truth: `tuner.space` (also the HTTP suggestion API's entry) applies these rules.
    Before, it had its own copy, which let `"2.0"` through as an int bound and worded every rule apart."""
    for form in (specs, params(*specs)):
        with pytest.raises(SpecError) as info:
            SearchSpace.from_parameters(form)
        assert [str(problem) for problem in info.value.problems] == expected


@pytest.mark.parametrize(
    "spec",
    [
        p("lr", "double", min="1e-4", max="0.1", distribution="logUniform"),
        p("lr", "double", min="-1", max=".5", step="0.25"),
        p("n", "int", min="1", max="1"),  # a fixed value, as Katib's hyperband example uses
        p("n", "int", min="-4", max="+8", step="2", distribution="normal"),
        p("d", "discrete", list=["0.1", "1e-2", "3"]),
        p("c", "categorical", list=["relu", "", "1"]),
    ],
    ids=["log-double", "stepped-double", "fixed-int", "signed-int", "discrete", "categorical"],
)
def test_valid_parameters_have_no_problems(spec: dict[str, Any]) -> None:
    assert check_parameters(params(spec)) == []
    assert SearchSpace.from_parameters([spec]).names == [spec["name"]]


def test_the_path_prefix_is_the_callers() -> None:
    found = check_parameters(
        params(p("x", "double", min="2", max="1")), path="spec.nasConfig.operations[3].parameters"
    )
    assert found == [
        Problem(
            "spec.nasConfig.operations[3].parameters[0].feasibleSpace", "min (2) must be less than max (1)"
        )
    ]


def test_problems_of_several_parameters_come_in_order() -> None:
    found = check_parameters(
        params(p("a", "double", min="2", max="1"), p("b", "categorical"), p("a", "int", min="1", max="2"))
    )
    assert [problem.path for problem in found] == [
        "spec.parameters[0].feasibleSpace",
        "spec.parameters[1].feasibleSpace.list",
        "spec.parameters[2].name",
    ]


def test_the_module_imports_only_errors_and_parameters() -> None:
    """tuner.space imports these rules; they must not drag in the rest of tuner.spec."""
    import ast
    from pathlib import Path

    import tuner.spec.parameter_rules as rules

    tree = ast.parse(Path(rules.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    project = {
        name
        for name in imported
        if name and name.split(".")[0] in ("tuner", "controllers", "suggestions", "pipelines")
    }
    assert project == {"tuner.errors", "tuner.spec.parameters"}
