"""Pareto fronts of several objectives: which trials no other trial beats on every objective.

Pure functions over loss vectors (lower is better on every component; maximized objectives negated by
the caller). The controller keeps the front of an experiment up to date one settled trial at a time
(`add_to_front`: O(front) per trial), so a long experiment never pays O(trials^2).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when `a` is no worse than `b` on every objective and better on at least one (losses)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def add_to_front(front: dict[Key, tuple[float, ...]], key: Key, losses: tuple[float, ...]) -> bool:
    """Add a point to a front in place, dropping the members it dominates; False (and no change) when a
    member dominates it. Equal points all stay: none beats the other (as Optuna's `best_trials`)."""
    for other in front.values():
        if dominates(other, losses):
            return False
    for beaten in [k for k, other in front.items() if dominates(losses, other)]:
        del front[beaten]
    front[key] = losses
    return True


def pareto_front(points: Mapping[Key, tuple[float, ...]]) -> list[Key]:
    """The keys of the non-dominated points, in the mapping's order (equal points all kept)."""
    front: dict[Key, tuple[float, ...]] = {}
    for key, losses in points.items():
        add_to_front(front, key, losses)
    return [k for k in points if k in front]
