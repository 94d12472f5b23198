"""Katib's TEXT metrics format, used by the StdOut collector and by the File collector with format TEXT.

Semantics follow Katib's file-metricscollector:
- a line is considered only if it contains the name of a declared metric (a cheap pre-filter);
- a leading RFC 3339 timestamp, separated by a space, is the observation's time;
- every match of every filter regex gives (name = group 1, value = group 2); only declared metrics are kept;
- the default filter is Katib's `name=value` rule.
Unlike Katib, a line without a timestamp gets the time it was read (Katib uses year 1), so `latest` still
follows the order the trial printed in, and a value that is not a number is skipped instead of failing the
collection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from controllers.collectors.base import LineSplitter, Observation, StepCounter, parse_number
from controllers.collectors.timestamps import parse_rfc3339

DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TextCollector:
    """Parses `name=value` style text as it streams in.

    Args:
        metrics: the declared metric names (objective first).
        filters: Katib `metricsFormat` regexes, each with two groups (name, value); default Katib's rule.
        clock: the time given to lines without a timestamp.
    """

    def __init__(
        self,
        metrics: Sequence[str],
        filters: Sequence[str] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.metrics = tuple(metrics)
        self._wanted = frozenset(self.metrics)
        self._filters = [re.compile(f) for f in (filters or [DEFAULT_FILTER])]
        self._clock = clock
        self._lines = LineSplitter()
        self._steps = StepCounter()

    def feed(self, chunk: str) -> list[Observation]:
        """Observations in the complete lines of `chunk` (a partial last line waits for the next chunk)."""
        return self._parse(self._lines.feed(chunk))

    def finish(self) -> list[Observation]:
        """Observations in a last line that had no newline."""
        return self._parse(self._lines.flush())

    def parse_line(self, line: str) -> list[Observation]:
        return self._parse([line])

    def _parse(self, lines: list[str]) -> list[Observation]:
        found: list[Observation] = []
        for line in lines:
            if not any(name in line for name in self.metrics):
                continue
            timestamp = _leading_timestamp(line) or self._clock()
            for pattern in self._filters:
                for match in pattern.finditer(line):
                    if pattern.groups < 2:
                        continue
                    name, raw = (match.group(1) or "").strip(), match.group(2) or ""
                    value = parse_number(raw)
                    if name not in self._wanted or value is None:
                        continue
                    found.append(Observation(name, value, self._steps.next(name), timestamp))
        return found


def _leading_timestamp(line: str) -> datetime | None:
    head, sep, _ = line.partition(" ")
    return parse_rfc3339(head) if sep else None
