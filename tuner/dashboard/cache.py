"""Loaded experiments and drawn figures kept between requests, dropped when the experiment changes.

Loading a 10,000-trial experiment takes seconds and the experiment page asks for ~9 figures at once, so
one load serves them all: a lock per experiment makes concurrent requests wait for the first load instead
of repeating it. An entry is valid while the experiment's *version* is unchanged: its `updated_at` and its
trial counts by state (one cheap query each), which move whenever a trial is added or ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from tuner.store import Store
from tuner.store.records import Experiment
from tuner.visualization import ExperimentData, load_experiment_data

Version = tuple[object, ...]
V = TypeVar("V")


def experiment_version(store: Store, record: Experiment) -> Version:
    """What changes when the experiment's figures would: its last update and its trial counts by state."""
    counts = store.count_trials(record.id)
    return (
        record.id,
        record.updated_at.isoformat(),
        record.state.value,
        tuple(sorted((state.value, n) for state, n in counts.items())),
    )


class Lru(Generic[V]):
    """A small thread-safe LRU map (the figures' JSON bodies by experiment version, kind and options)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class ExperimentCache:
    """ExperimentData per experiment (the last `size` used), reloaded when its version changes."""

    def __init__(self, size: int = 8, loader: Callable[..., ExperimentData] = load_experiment_data) -> None:
        self._loader = loader
        self._data: Lru[tuple[Version, ExperimentData]] = Lru(size)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.figures: Lru[bytes] = Lru(64)
        self.loads = 0  # how many times an experiment was read from the store (tests check the reuse)

    def _lock_of(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def latest(self, record: Experiment) -> tuple[Version, ExperimentData] | None:
        """The experiment's last loaded data, whatever its version, or None: no store query, never waits
        (a page shows a preview from it while a running experiment's newer data is being loaded)."""
        cached = self._data.get((record.namespace, record.name))
        if cached is None or cached[0][0] != record.id:  # a deleted and recreated experiment: not its data
            return None
        return cached

    def get(self, store: Store, record: Experiment) -> tuple[Version, ExperimentData]:
        """The experiment's data and version, loaded once per version however many ask at once."""
        key = (record.namespace, record.name)
        version = experiment_version(store, record)
        cached = self._data.get(key)
        if cached is not None and cached[0] == version:
            return cached
        with self._lock_of(key):
            cached = self._data.get(key)
            if cached is not None and cached[0] == version:
                return cached
            data = self._loader(store, record.name, record.namespace)
            self.loads += 1
            entry = (version, data)
            self._data.put(key, entry)
            return entry
