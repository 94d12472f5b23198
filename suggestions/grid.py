"""`grid`: every combination of the parameters' values, each once, in a shuffled but fixed order.

Values per parameter are Katib's: ints from min to max by step (default 1), doubles from min to max by
their step (required), the lists of discrete and categorical parameters. The visiting order is a
permutation seeded by `random_state` (or by the space, when unset) and recomputed on every call, so a
cold replica walks the same order; points already in the history, in any state, are skipped. When every
point was proposed, `suggest` raises SearchExhaustedError.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from suggestions.base import Suggester, SuggestRequest
from suggestions.settings import SettingsSchema, random_state_setting
from tuner.errors import Problem
from tuner.space import Assignment, DoubleParameter, SearchSpace

# Grids up to this size are visited in a true random permutation; larger ones in an affine permutation
# of the indices (i -> a*i + b mod n), which needs no memory.
_SHUFFLE_LIMIT = 1 << 20


class GridSuggester(Suggester):
    """Grid search over the Cartesian product of the parameters' values."""

    name = "grid"
    multi_objective = True  # ignores the objective values: any number of objectives
    settings_schema = SettingsSchema(random_state_setting())

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        problems = [
            Problem(
                f"parameters[{i}].feasibleSpace.step",
                f"grid needs a step for double parameter {p.name!r}; add feasibleSpace.step "
                f"(e.g. {_example_step(p)})",
            )
            for i, p in enumerate(space)
            if isinstance(p, DoubleParameter) and p.step is None
        ]
        size = space.size
        if not problems and size is not None and max_trial_count is not None and max_trial_count > size:
            problems.append(
                Problem(
                    "maxTrialCount",
                    f"is {max_trial_count} but the grid has only {size} points; "
                    f"set maxTrialCount to at most {size} or add values to the grid",
                )
            )
        return problems

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        space = request.space
        size = space.size
        assert size is not None  # `check` refused continuous parameters
        out: list[Assignment] = []
        for index in _visit_order(space, size, request.random_state):
            a = space.point_at(index)
            if request.is_new(a):
                out.append(a)
                if len(out) == request.k:
                    break
        return out


def _example_step(p: DoubleParameter) -> str:
    return repr(float(f"{(p.high - p.low) / 10:.1g}"))


def _visit_order(space: SearchSpace, size: int, random_state: int | None) -> Iterator[int]:
    seed = random_state if random_state is not None else int(space.digest()[:8], 16)
    if size <= _SHUFFLE_LIMIT:
        yield from _permutation(space.digest(), size, seed)
        return
    a, b = _affine(size, seed)
    for i in range(size):
        yield (a * i + b) % size


@lru_cache(maxsize=32)
def _permutation(space_digest: str, size: int, seed: int) -> tuple[int, ...]:
    """The visiting order of a grid (cached: it is the same on every call of an experiment)."""
    return tuple(int(i) for i in np.random.default_rng(seed).permutation(size))


def _affine(size: int, seed: int) -> tuple[int, int]:
    digest = hashlib.sha256(f"{seed}:{size}".encode()).digest()
    a = int.from_bytes(digest[:8], "big") % size or 1
    while math.gcd(a, size) != 1:
        a = a % size + 1
    return a, int.from_bytes(digest[8:16], "big") % size
