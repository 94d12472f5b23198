"""Parsing the durations pipeline authors write ("30s", "1m", "PT5M", "P0D") for timeouts, retries and
cache staleness.

CPU and memory quantities are `tuner.quantities`' (one parser for the controllers and the pipelines).
Errors are `ValueError`s whose message names the value and the accepted forms.
"""

from __future__ import annotations

import re

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIMPLE_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: str | float | int) -> float:
    """Seconds from a number, "1.5s"/"2m"/"1h"/"100ms", or an ISO 8601 duration ("PT30S", "P0D")."""
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number of seconds or a string like '30s', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    text = value.strip()
    match = _SIMPLE_DURATION.match(text)
    if match:
        return float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"]
    iso = _ISO_DURATION.match(text.upper())
    if iso and text.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        return (
            parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
        )
    raise ValueError(
        f"cannot read {value!r} as a duration; write seconds (30), '30s', '5m', '1h', '100ms' or ISO 8601 'PT5M'"
    )
