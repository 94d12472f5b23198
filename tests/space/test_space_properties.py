"""Property tests of tuner.space: every map between assignments, the unit hypercube and text round-trips."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.space.space_strategies import space_specs
from tuner.space import CategoricalParameter, SearchSpace

unit_points = st.lists(st.floats(0.0, 1.0), min_size=8, max_size=8)


def _close(a: Any, b: Any, p: Any) -> bool:
    if p.cardinality is not None or isinstance(a, str):
        return bool(a == b and type(a) is type(b))
    scale = max(abs(p.high), abs(p.low), 1.0)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale)


@given(space_specs(), unit_points)
def test_from_unit_gives_points_inside_the_space(specs: list[dict[str, Any]], u: list[float]) -> None:
    space = SearchSpace.from_dict(specs)
    a = space.from_unit(u[: len(space)])
    assert space.contains(a), space.why_not(a)
    x = space.to_unit(a)
    assert np.all((x >= 0) & (x <= 1))


@given(space_specs(), unit_points)
def test_unit_round_trip_returns_the_same_values(specs: list[dict[str, Any]], u: list[float]) -> None:
    space = SearchSpace.from_dict(specs)
    a = space.from_unit(u[: len(space)])
    b = space.from_unit(space.to_unit(a))
    for p in space:
        assert _close(a[p.name], b[p.name], p), (p, a[p.name], b[p.name])


@given(space_specs(), unit_points)
def test_one_hot_round_trip(specs: list[dict[str, Any]], u: list[float]) -> None:
    space = SearchSpace.from_dict(specs)
    a = space.from_unit(u[: len(space)])
    x = space.to_one_hot(a)
    assert x.shape == (space.one_hot_width,)
    b = space.from_one_hot(x)
    for p in space:
        assert _close(a[p.name], b[p.name], p)


@given(space_specs(), st.integers(0, 2**32 - 1))
def test_samples_are_inside_and_render_parses_back_exactly(specs: list[dict[str, Any]], seed: int) -> None:
    space = SearchSpace.from_dict(specs)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        a = space.sample(rng)
        assert space.contains(a), space.why_not(a)
        text = a.rendered()
        assert text == space.render(a)
        back = space.parse(text)
        assert back == a
        assert [type(v) for v in back.values()] == [type(v) for v in a.values()]


@given(space_specs(), unit_points)
def test_prior_quantiles_are_inside(specs: list[dict[str, Any]], q: list[float]) -> None:
    space = SearchSpace.from_dict(specs)
    assert space.contains(space.from_quantiles(q[: len(space)]))


@given(space_specs())
def test_json_form_round_trips(specs: list[dict[str, Any]]) -> None:
    space = SearchSpace.from_dict(specs)
    again = SearchSpace.from_dict(space.to_dict())
    assert again == space and again.digest() == space.digest()
    assert [type(p) for p in again] == [type(p) for p in space]


@settings(max_examples=50)
@given(space_specs(max_size=3))
def test_small_grids_enumerate_every_point_once(specs: list[dict[str, Any]]) -> None:
    space = SearchSpace.from_dict(specs)
    size = space.size
    if size is None or size > 2000:
        return
    points = [space.point_at(i) for i in range(size)]
    assert len(set(points)) == size
    for i, a in enumerate(points):
        assert space.contains(a)
        assert space.index_of(a) == i


@given(space_specs(), unit_points)
def test_categorical_unit_cells_are_equal(specs: list[dict[str, Any]], u: list[float]) -> None:
    space = SearchSpace.from_dict(specs)
    for p in space:
        if isinstance(p, CategoricalParameter):
            n = p.cardinality
            assert [p.from_unit((i + 0.5) / n) for i in range(n)] == list(p.values)


@given(space_specs(), unit_points, st.floats(-0.2, 1.2))
def test_nearest_snaps_any_number_to_an_allowed_value(
    specs: list[dict[str, Any]], u: list[float], jitter: float
) -> None:
    from tuner.space import NumericRange

    space = SearchSpace.from_dict(specs)
    for p in space:
        if isinstance(p, NumericRange):
            raw = p.low + jitter * (p.high - p.low)
            assert p.contains(p.nearest(raw))
            v = p.from_unit(u[0])
            assert p.nearest(float(v)) == v
