"""Process-wide caches for the algorithms: small, thread-safe, keyed by digests of their inputs.

They only save work: every value can be recomputed from the request, so a cold replica answers exactly
as a warm one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from tuner.space import Assignment, SearchSpace


class LruCache:
    """A thread-safe LRU map of bounded size."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value stored under `key`, or None."""
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: Any, value: Any) -> None:
        """Store `value`, evicting the least recently used entry when full."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self._size:
                self._data.popitem(last=False)


_UNIT = LruCache(100_000)


def unit_vector(space: SearchSpace, assignment: Assignment) -> np.ndarray:
    """`space.to_unit(assignment)`, cached (read-only array: do not modify)."""
    key = (space.digest(), assignment)
    hit = _UNIT.get(key)
    if hit is None:
        hit = space.to_unit(assignment)
        hit.setflags(write=False)
        _UNIT.put(key, hit)
    return hit
