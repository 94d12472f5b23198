"""Katib's JSON metrics format for the File collector: one JSON object per line.

Each object may carry `timestamp` (Unix seconds as a number, or an RFC 3339 string) and, as an extension,
`step` (an int); every declared metric present becomes an observation. Katib accepts only string values
(kubeflow/katib#2162); numbers are accepted here too. Lines that are not JSON objects are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from controllers.collectors.base import LineSplitter, Observation, StepCounter, parse_number
from controllers.collectors.text import utc_now
from controllers.collectors.timestamps import from_unix, parse_rfc3339


class JsonLinesCollector:
    """Parses JSON lines as they stream in; see the module docstring for the format."""

    def __init__(self, metrics: Sequence[str], clock: Callable[[], datetime] = utc_now) -> None:
        self.metrics = tuple(metrics)
        self._clock = clock
        self._lines = LineSplitter()
        self._steps = StepCounter()
        self.skipped_lines = 0

    def feed(self, chunk: str) -> list[Observation]:
        return self._parse(self._lines.feed(chunk))

    def finish(self) -> list[Observation]:
        return self._parse(self._lines.flush())

    def _parse(self, lines: list[str]) -> list[Observation]:
        found: list[Observation] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                self.skipped_lines += 1
                continue
            if not isinstance(record, dict):
                self.skipped_lines += 1
                continue
            timestamp = _timestamp(record.get("timestamp")) or self._clock()
            step = record.get("step")
            explicit = step if isinstance(step, int) and not isinstance(step, bool) else None
            for name in self.metrics:
                value = _value(record.get(name))
                if value is not None:
                    found.append(Observation(name, value, self._steps.next(name, explicit), timestamp))
        return found


def _timestamp(raw: Any) -> datetime | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return from_unix(float(raw))
    if isinstance(raw, str):
        return parse_rfc3339(raw)
    return None


def _value(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        return parse_number(raw)
    return None
