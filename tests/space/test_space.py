"""Examples of tuner.space behaviour that users rely on: rendering, steps, errors naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from tuner.errors import SpecError
from tuner.space import Assignment, DoubleParameter, IntParameter, SearchSpace, render_value
from tuner.spec.parameters import ParameterSpec


def _space(*params: dict) -> SearchSpace:
    return SearchSpace.from_dict(list(params))


def test_int_renders_without_a_decimal_point_and_floats_exactly() -> None:
    space = _space(
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "10"}},
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
    )
    a = space.coerce({"n": 5.0, "lr": 0.1 + 0.2})
    assert a.rendered() == {"n": "5", "lr": "0.30000000000000004"}
    assert float(a.rendered()["lr"]) == 0.1 + 0.2
    assert render_value(1e-300) == "1e-300"


def test_stepped_double_grid_is_exact_in_decimal() -> None:
    space = _space(
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.5", "step": "0.1"}}
    )
    p = space["x"]
    assert isinstance(p, DoubleParameter)
    assert [p.value_at(i) for i in range(p.cardinality or 0)] == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert space.contains({"x": 0.30000000000000004})  # read back from float arithmetic
    assert not space.contains({"x": 0.35})


def test_grid_includes_max_only_when_on_the_step() -> None:
    space = _space(
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "10", "step": "4"}}
    )
    assert [space.point_at(i)["n"] for i in range(space.size or 0)] == [1, 5, 9]


def test_int_without_step_has_step_one_and_bounds_inclusive() -> None:
    space = _space({"name": "n", "parameterType": "int", "feasibleSpace": {"min": "-2", "max": "2"}})
    p = space["n"]
    assert isinstance(p, IntParameter)
    assert p.cardinality == 5
    assert {p.from_unit(u) for u in np.linspace(0, 1, 101)} == {-2, -1, 0, 1, 2}
    assert not space.contains({"n": 1.0}), "an int parameter holds ints, never floats"


def test_log_uniform_samples_cover_decades_evenly() -> None:
    space = _space(
        {
            "name": "lr",
            "parameterType": "double",
            "feasibleSpace": {"min": "1e-5", "max": "1", "distribution": "logUniform"},
        }
    )
    rng = np.random.default_rng(0)
    logs = np.log10([space.sample(rng)["lr"] for _ in range(4000)])
    counts = np.histogram(logs, bins=5, range=(-5, 0))[0]
    assert counts.min() > 0.8 * 800 and counts.max() < 1.2 * 800


def test_normal_prior_concentrates_in_the_middle() -> None:
    space = _space(
        {
            "name": "x",
            "parameterType": "double",
            "feasibleSpace": {"min": "-3", "max": "3", "distribution": "normal"},
        }
    )
    rng = np.random.default_rng(0)
    xs = np.array([space.sample(rng)["x"] for _ in range(4000)])
    assert abs(xs.mean()) < 0.06 and 0.9 < xs.std() < 1.05
    assert xs.min() >= -3 and xs.max() <= 3


def test_discrete_values_keep_their_type_and_order_by_value() -> None:
    space = _space({"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["32", "0.5", "8"]}})
    p = space["d"]
    assert [p.from_unit(u) for u in (0.1, 0.5, 0.9)] == [0.5, 8, 32]
    assert space.parse({"d": "32"})["d"] == 32 and isinstance(space.parse({"d": "32"})["d"], int)
    assert space.parse({"d": "0.50"})["d"] == 0.5
    assert not space.contains({"d": 32.0})


def test_categorical_one_hot() -> None:
    space = _space(
        {
            "name": "opt",
            "parameterType": "categorical",
            "feasibleSpace": {"list": ["adam", "sgd", "rmsprop"]},
        },
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "2"}},
    )
    a = Assignment({"opt": "sgd", "x": 0.5})
    assert space.to_one_hot(a).tolist() == [0.0, 1.0, 0.0, 0.25]
    assert space.from_one_hot([0.1, 0.2, 0.9, 0.25]) == {"opt": "rmsprop", "x": 0.5}


def test_builds_from_pydantic_parameter_specs() -> None:
    spec = ParameterSpec.model_validate(
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": 0.01, "max": 0.1}}
    )
    space = SearchSpace.from_parameters([spec])
    assert space.to_dict() == [
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}
    ]


def test_unparseable_numbers_raise_spec_error_naming_each_field() -> None:
    with pytest.raises(SpecError) as info:
        _space(
            {"name": "a", "parameterType": "double", "feasibleSpace": {"min": "1e", "max": "2"}},
            {"name": "b", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "2.5"}},
            {"name": "c", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "two"]}},
        )
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "parameters[0].feasibleSpace.min",
        "parameters[1].feasibleSpace.max",
        "parameters[2].feasibleSpace.list[1]",
    ]
    assert "'1e' is not a number" in str(info.value)


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(SpecError) as info:
        SearchSpace.from_parameters(
            [
                {"name": "a", "parameterType": "double", "feasibleSpace": {"min": "5", "max": "1"}},
                {
                    "name": "b",
                    "parameterType": "double",
                    "feasibleSpace": {"min": "0", "max": "1", "distribution": "logUniform"},
                },
                {"name": "a", "parameterType": "categorical", "feasibleSpace": {"list": ["x", "x"]}},
                {"name": "d", "parameterType": "float", "feasibleSpace": {"min": "0", "max": "1"}},
            ]
        )
    text = str(info.value)
    assert "spec.parameters[0].feasibleSpace: min (5) must be less than max (1)" in text
    assert "spec.parameters[1].feasibleSpace.min: must be greater than 0 for distribution logUniform" in text
    assert "spec.parameters[2].name: duplicate parameter name 'a' (also spec.parameters[0])" in text
    assert "spec.parameters[2].feasibleSpace.list[1]: duplicate value 'x' (also list[0])" in text
    assert "spec.parameters[3].parameterType: 'float' is not valid; expected one of double, int," in text


def test_parse_names_unknown_missing_and_bad_values() -> None:
    space = _space(
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "10"}},
        {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a"]}},
    )
    with pytest.raises(SpecError) as info:
        space.parse({"n": "5.0", "zzz": "1"})
    text = str(info.value)
    assert "zzz: is not a parameter" in text
    assert "n: expected an integer like 5" in text
    assert "c: has no value" in text


def test_assignment_is_hashable_and_ordered() -> None:
    a = Assignment({"b": 1, "a": "x"})
    assert list(a) == ["b", "a"]
    assert a == Assignment([("a", "x"), ("b", 1)]) and hash(a) == hash(Assignment({"a": "x", "b": 1}))
    assert Assignment({"flag": True, "none": None})["flag"] is True  # categorical choices from Python
    with pytest.raises(TypeError):
        Assignment({"layers": [1, 2]})


def test_an_int_range_may_hold_one_value_as_the_spec_allows() -> None:
    """Katib's hyperband example fixes its resource with min == max; the spec accepts it, so the space must."""
    space = SearchSpace.from_parameters(
        [{"name": "n", "parameterType": "int", "feasibleSpace": {"min": "3", "max": "3"}}]
    )
    assert space.size == 1 and space.point_at(0)["n"] == 3
    with pytest.raises(SpecError, match="must not be greater than max"):
        SearchSpace.from_parameters(
            [{"name": "n", "parameterType": "int", "feasibleSpace": {"min": "4", "max": "3"}}]
        )
    with pytest.raises(SpecError, match="must be less than max"):
        SearchSpace.from_parameters(
            [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "3", "max": "3"}}]
        )
