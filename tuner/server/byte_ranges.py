"""HTTP range requests (RFC 9110 section 14) for artifact downloads: one byte range per request.

`Range: bytes=0-99`, `bytes=100-` and `bytes=-100` (the last 100) are served as 206 with Content-Range; a
range that starts past the end is 416 with `Content-Range: bytes */SIZE`. Several ranges in one header, or a
header this cannot read, are answered with the whole file (200), which RFC 9110 allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")
CHUNK = 64 * 1024


class RangeNotSatisfiable(Exception):
    """The range lies outside the file (answered 416)."""

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"range {header!r} is outside the artifact's {size} bytes")
        self.size = size


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte the header asks for, or None for the whole file.

    Raises:
        RangeNotSatisfiable: the range starts at or past the end, or asks for the last 0 bytes.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None  # several ranges or another unit: the whole file
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header, size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or (last_text and last < first):
        raise RangeNotSatisfiable(header, size)
    return first, min(last, size - 1)


def read_span(handle: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    """`length` bytes from `first`, in chunks; closes the handle at the end."""
    try:
        handle.seek(first)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
