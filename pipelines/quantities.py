"""Parsing the quantities pipeline authors write: durations ("30s", "1m", "PT5M", "P0D"), CPU ("500m", "2")
and memory ("1G", "512Mi").

Shared by the DSL (to check values early, with the field named) and the runner (to budget CPU and memory).
Errors are `ValueError`s whose message names the value and the accepted forms.
"""

from __future__ import annotations

import re

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIMPLE_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d*)?(?:[eE]\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?\s*$")


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


def parse_cpu(value: str | float | int) -> float:
    """Cores from a Kubernetes CPU quantity: 2, "2", "0.5", "500m"."""
    text = str(value).strip()
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ValueError(
            f"cannot read {value!r} as a CPU quantity; write cores ('2', '0.5') or millicores ('500m')"
        ) from None
    if cores <= 0:
        raise ValueError(f"a CPU quantity must be positive, got {value!r}")
    return cores


def parse_memory(value: str | float | int) -> int:
    """Bytes from a Kubernetes memory quantity: "1G", "512Mi", "1e9", 1000000."""
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(
            f"cannot read {value!r} as a memory quantity; write bytes or a suffix: '512Mi', '1Gi', '1G', '500M'"
        )
    unit = match.group(2) or ""
    unit = "k" if unit == "K" else unit
    amount = int(float(match.group(1)) * _MEMORY_UNITS[unit])
    if amount <= 0:
        raise ValueError(f"a memory quantity must be positive, got {value!r}")
    return amount
