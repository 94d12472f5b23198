"""Checks on values handed to the store, with messages that name the field, the value and the fix."""

from __future__ import annotations

import re

from tuner.errors import StoreValueError

MAX_NAME = 255
_ALIAS = re.compile(r"^[\w\-]+$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def check_name(field: str, value: str) -> None:
    """A name must be a non-blank string of at most 255 characters."""
    if not isinstance(value, str) or not value.strip():
        raise StoreValueError(f"{field} must be a non-empty string, got {value!r}")
    if len(value) > MAX_NAME:
        raise StoreValueError(
            f"{field} {value[:40]!r}... is {len(value)} characters long; the limit is {MAX_NAME}"
        )


def check_alias(alias: str) -> None:
    """MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<digits>` are reserved."""
    check_name("alias", alias)
    if not _ALIAS.match(alias):
        raise StoreValueError(f"alias {alias!r} may contain only letters, digits, '_' and '-'")
    if _RESERVED_ALIAS.match(alias):
        raise StoreValueError(
            f"alias {alias!r} is reserved ('latest' and 'v<number>' name versions already); pick another"
        )
