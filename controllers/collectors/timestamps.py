"""RFC 3339 timestamps as Katib reads them (Go's time.RFC3339Nano: up to nine fractional digits).

`datetime.fromisoformat` stops at microseconds and, before Python 3.11, at the `Z` suffix, so lines written
by Go or by `date --rfc-3339=ns` need this small parser.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> datetime | None:
    """An aware datetime for an RFC 3339 timestamp, or None when `text` is not one."""
    match = _RFC3339.match(text)
    if not match:
        return None
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    tz_text = match["tz"]
    if tz_text in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if tz_text[0] == "+" else -1
        hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        naive = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}")
    except ValueError:
        return None
    return naive.replace(tzinfo=tz)


def from_unix(seconds: float) -> datetime:
    """A UTC datetime from Unix seconds (Katib's JSON `timestamp` as a number)."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
