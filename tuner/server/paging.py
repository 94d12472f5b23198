"""Paging of list endpoints: opaque cursors (the position after the last item of a page, base64-encoded)
and whole-number query parameters."""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BeforeValidator

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
        if text.startswith("p") and text[1:].isdecimal():
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiProblem(
        422,
        "Invalid request",
        "cursor is not one this server gave",
        [Problem("query.cursor", f"{cursor!r} is not a cursor; pass metadata.continue of the previous page")],
    )


def _whole_number(value: object) -> object:
    """Digits only: pydantic alone also reads '1.0', ' 5' or '5_0' as integers, which is not what a client
    sending them can have meant, and not the integer the OpenAPI documents."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
        raise ValueError(f"{value!r} is not a whole number: write it in digits only, e.g. 100")
    return value


WHOLE_NUMBER = BeforeValidator(_whole_number)
"""For an integer query parameter, after its Query(...): `limit: Annotated[int, Query(ge=1), WHOLE_NUMBER]`
(in that order, or the OpenAPI shows `ge`/`le` instead of `minimum`/`maximum`)."""
