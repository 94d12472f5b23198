"""`cmaes`: CMA-ES on the `cmaes` library, its state rebuilt from the history on every call.

optuna's CmaEsSampler keeps the optimizer pickled in trial attributes, which a stateless service does not
have; so the optimizer is replayed instead. CMA-ES's update is a deterministic function of the evaluated
points: observed trials, in history order, are told to a fresh optimizer one generation (population)
at a time, with IPOP or BIPOP restarts when it stops. The trials after the last full generation and the
pending ones are the current generation; new points are drawn from the current distribution with the
call's seed. Replayed states are cached by a digest of the generations told so far, so a long
experiment replays only its new generations, and a cold process rebuilds exactly the same state.

Numeric parameters live in the unit cube (log scale for log distributions; ints, steps and discrete
values snapped afterwards); categorical parameters are drawn from their prior, as optuna does. Katib
requires at least two numeric parameters.
"""

from __future__ import annotations

import copy
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
from cmaes import CMA

from suggestions import _cache
from suggestions.base import Suggester, SuggestRequest
from suggestions.settings import Setting, SettingsSchema, choice, number, random_state_setting
from tuner.errors import Problem
from tuner.space import Assignment, SearchSpace, Value

_DEFAULT_SIGMA = 1.0 / 6.0  # of the unit cube, as optuna's CmaEsSampler
_STATES = _cache.LruCache(256)  # experiment key -> recent (cursor, digest, run) entries
_ENTRIES_PER_RUN = 4


class CmaEsSuggester(Suggester):
    """CMA-ES with Katib's settings: ``random_state``, ``sigma`` (initial step size in the unit cube,
    default 1/6), ``restart_strategy`` none | ipop | bipop (default none)."""

    name = "cmaes"
    settings_schema = SettingsSchema(
        random_state_setting(),
        Setting(
            "sigma", number(0, 1, low_open=True), _DEFAULT_SIGMA, "initial step size, share of each range"
        ),
        Setting(
            "restart_strategy", choice("none", "ipop", "bipop"), "none", "what to do when CMA-ES converges"
        ),
    )

    def check(
        self,
        settings: Mapping[str, Any],
        space: SearchSpace,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> list[Problem]:
        if sum(1 for p in space if p.is_numeric) < 2:
            return [
                Problem(
                    "parameters", "cmaes needs at least two numeric (non-categorical) parameters; use tpe"
                )
            ]
        return []

    def propose(self, request: SuggestRequest) -> list[Assignment]:
        space = request.space
        numeric = [p for p in space if p.is_numeric]
        optimizer = _replay(request, [p.name for p in numeric])
        optimizer.reseed_rng(request.seed % 2**32)
        rng = request.rng
        out = []
        for _ in range(request.k):
            x = optimizer.ask()
            values: dict[str, Value] = {
                p.name: p.from_unit(float(u)) for p, u in zip(numeric, x, strict=True)
            }
            out.append(Assignment((p.name, values[p.name] if p.is_numeric else p.sample(rng)) for p in space))
        return out


class _Run:
    """One CMA-ES run with its restart bookkeeping (IPOP/BIPOP)."""

    def __init__(self, dim: int, sigma: float, strategy: str, seed: int) -> None:
        self.dim, self.sigma0, self.strategy, self.seed = dim, sigma, strategy, seed
        self.restarts = 0
        self.base_popsize = 4 + math.floor(3 * math.log(dim))
        self.large_evals = self.small_evals = 0
        self.large_popsize = self.base_popsize
        self.optimizer = self._new(self.base_popsize, sigma)

    def _new(self, popsize: int, sigma: float) -> CMA:
        bounds = np.tile([0.0, 1.0], (self.dim, 1))
        return CMA(
            np.full(self.dim, 0.5),
            sigma,
            bounds=bounds,
            seed=self.seed + self.restarts,
            population_size=popsize,
        )

    def tell(self, generation: list[tuple[np.ndarray, float]]) -> None:
        popsize = self.optimizer.population_size
        self.optimizer.tell(generation)
        if self.optimizer.population_size == self.large_popsize:
            self.large_evals += popsize
        else:
            self.small_evals += popsize
        if self.strategy != "none" and self.optimizer.should_stop():
            self._restart()

    def _restart(self) -> None:
        self.restarts += 1
        if self.strategy == "ipop" or self.small_evals >= self.large_evals:
            self.large_popsize *= 2
            self.optimizer = self._new(self.large_popsize, self.sigma0)
            return
        u = np.random.default_rng([self.seed, self.restarts]).random()
        popsize = math.floor(self.base_popsize * (0.5 * self.large_popsize / self.base_popsize) ** (u**2))
        self.optimizer = self._new(max(popsize, self.base_popsize), self.sigma0 * 10 ** (-2 * u))


def _replay(request: SuggestRequest, names: list[str]) -> CMA:
    """The optimizer after every full generation of the history (from the cache when possible)."""
    space, history, settings = request.space, request.history, request.settings
    points = [(_unit(space, names, t.assignment), history.loss(t)) for t in history.observed]
    seed = request.random_state if request.random_state is not None else 0
    key = (space.digest(), settings["sigma"], settings["restart_strategy"], seed)
    run, cursor = None, 0
    for entry_cursor, entry_digest, entry_run in reversed(_STATES.get(key) or []):
        if entry_cursor <= len(points) and _digest(points[:entry_cursor]) == entry_digest:
            run, cursor = copy.deepcopy(entry_run), entry_cursor
            break
    if run is None:
        run = _Run(len(names), settings["sigma"], settings["restart_strategy"], seed)
    start = cursor
    while cursor + run.optimizer.population_size <= len(points):
        generation = [(x.copy(), y) for x, y in points[cursor : cursor + run.optimizer.population_size]]
        cursor += len(generation)
        run.tell(generation)
    if cursor > start:
        entries = [e for e in (_STATES.get(key) or []) if e[0] != cursor][-(_ENTRIES_PER_RUN - 1) :]
        _STATES.put(key, [*entries, (cursor, _digest(points[:cursor]), copy.deepcopy(run))])
    return run.optimizer


def _digest(points: list[tuple[np.ndarray, float]]) -> bytes:
    h = hashlib.sha1()
    for x, y in points:
        h.update(x.tobytes())
        h.update(struct.pack("d", y))
    return h.digest()


def _unit(space: SearchSpace, names: list[str], a: Assignment) -> np.ndarray:
    return _cache.unit_vector(space, a)[[space.names.index(n) for n in names]]
