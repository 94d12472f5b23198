"""Opaque cursors for list endpoints: the position after the last item of a page, base64-encoded."""

from __future__ import annotations

import base64
import binascii

from tuner.errors import Problem
from tuner.server.problems import ApiProblem


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor stands for (0 without one).

    Raises:
        ApiProblem: 422 naming the `cursor` parameter when it was not given by this server.
    """
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("p") and text[1:].isdigit():
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiProblem(
        422,
        "Invalid request",
        "cursor is not one this server gave",
        [Problem("query.cursor", f"{cursor!r} is not a cursor; pass metadata.continue of the previous page")],
    )
