"""The Pareto front kept one trial at a time (controllers.pareto) equals the brute-force front."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from controllers.pareto import add_to_front, dominates, pareto_front

Point = tuple[float, ...]


def brute_force(points: list[Point]) -> set[int]:
    """Indices no other point dominates (equal points do not dominate each other: all stay)."""
    out = set()
    for i, p in enumerate(points):
        beaten = any(all(a <= b for a, b in zip(q, p, strict=True)) and q != p for q in points)
        if not beaten:
            out.add(i)
    return out


@given(
    st.integers(2, 4).flatmap(
        lambda d: st.lists(st.tuples(*[st.integers(0, 6).map(float)] * d), min_size=0, max_size=40)
    )
)
def test_incremental_front_is_the_brute_force_front(points: list[Point]) -> None:
    front: dict[int, Point] = {}
    for i, p in enumerate(points):
        add_to_front(front, i, p)
    assert set(front) == brute_force(points)
    assert set(pareto_front(dict(enumerate(points)))) == brute_force(points)


def test_domination_needs_one_strict_improvement() -> None:
    assert dominates((1.0, 2.0), (1.0, 3.0))
    assert not dominates((1.0, 2.0), (1.0, 2.0))
    assert not dominates((0.0, 3.0), (1.0, 2.0))
