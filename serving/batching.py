"""Adaptive micro-batching: requests for one model version that arrive together run as one `predict`.

Rows are counted, not requests, against `max_batch_size`. A batch is released when it is full, or at the
end of the event loop's current turn when the server is quiet (so one client alone never waits), or after
at most `max_wait` when the last batch held several requests (the server is busy, so waiting a little
fills batches). A batch that fails is re-run request by request, so one bad payload fails only itself.

Cheap models (a running average under `inline_below` seconds per batch) run on the event loop, which
costs less than handing them to a thread; slower ones run in a worker thread so they never stall the
loop (and the other models served by it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[np.ndarray], Any]


class MicroBatcher:
    """Collects (batch, future) pairs for one predict function and runs them in groups."""

    def __init__(
        self,
        predict: Predict,
        *,
        max_batch_size: int = 32,
        max_wait: float = 0.0,
        inline_below: float = 0.001,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._predict = predict
        self.max_batch_size = max(1, max_batch_size)
        self.max_wait = max(0.0, max_wait)
        self._inline_below = inline_below
        self._on_batch = on_batch
        self._pending: list[tuple[np.ndarray, asyncio.Future[Any]]] = []
        self._rows = 0
        self._scheduled: asyncio.Handle | asyncio.TimerHandle | None = None
        self._busy = False  # the last batch held more than one request
        self._cost = -1.0  # running average seconds per batch; < 0 until measured
        self._running = 0

    async def predict(self, batch: np.ndarray) -> Any:
        """The model's output for `batch`, computed alone or together with concurrent requests."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((batch, future))
        self._rows += len(batch)
        if self._rows >= self.max_batch_size:
            self._release()
        elif self._scheduled is None:
            if self._busy and self.max_wait > 0 and self.max_batch_size > 1:
                self._scheduled = loop.call_later(self.max_wait, self._release)
            else:
                self._scheduled = loop.call_soon(self._release)
        return await future

    def _release(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        while self._pending:
            group: list[tuple[np.ndarray, asyncio.Future[Any]]] = []
            rows = 0
            while self._pending and (not group or rows + len(self._pending[0][0]) <= self.max_batch_size):
                item = self._pending.pop(0)
                group.append(item)
                rows += len(item[0])
            self._rows -= rows
            self._busy = len(group) > 1
            if self._on_batch is not None:
                self._on_batch(rows)
            if 0 <= self._cost < self._inline_below and self._running == 0:
                self._run_inline(group)
            else:
                asyncio.get_running_loop().create_task(self._run_in_thread(group))

    def _run_inline(self, group: list[tuple[np.ndarray, asyncio.Future[Any]]]) -> None:
        started = time.perf_counter()
        try:
            _deliver(group, self._compute(group))
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], False, exc)
            else:
                _deliver_one_by_one(group, self._predict)
        self._measure(time.perf_counter() - started)

    async def _run_in_thread(self, group: list[tuple[np.ndarray, asyncio.Future[Any]]]) -> None:
        self._running += 1
        started = time.perf_counter()
        try:
            try:
                outputs = await asyncio.to_thread(self._compute, group)
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0][1], False, exc)
                    return
                results = await asyncio.to_thread(_one_by_one, group, self._predict)
                for (_, future), (ok, value) in zip(group, results, strict=False):
                    _settle(future, ok, value)
            else:
                _deliver(group, outputs)
        finally:
            self._running -= 1
            self._measure(time.perf_counter() - started)

    def _compute(self, group: list[tuple[np.ndarray, asyncio.Future[Any]]]) -> list[Any]:
        if len(group) == 1:
            return [self._predict(group[0][0])]
        joined = np.concatenate([batch for batch, _ in group])
        output = np.asarray(self._predict(joined))
        if len(output) != len(joined):
            raise ValueError(f"the model returned {len(output)} rows for {len(joined)}")
        parts, offset = [], 0
        for batch, _ in group:
            parts.append(output[offset : offset + len(batch)])
            offset += len(batch)
        return parts

    def _measure(self, seconds: float) -> None:
        self._cost = seconds if self._cost < 0 else 0.8 * self._cost + 0.2 * seconds


def _deliver(group: list[tuple[np.ndarray, asyncio.Future[Any]]], outputs: list[Any]) -> None:
    for (_, future), output in zip(group, outputs, strict=False):
        _settle(future, True, output)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _one_by_one(
    group: list[tuple[np.ndarray, asyncio.Future[Any]]], predict: Predict
) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    for batch, _ in group:
        try:
            results.append((True, predict(batch)))
        except Exception as exc:
            results.append((False, exc))
    return results


def _deliver_one_by_one(group: list[tuple[np.ndarray, asyncio.Future[Any]]], predict: Predict) -> None:
    for (_, future), (ok, value) in zip(group, _one_by_one(group, predict), strict=False):
        _settle(future, ok, value)
