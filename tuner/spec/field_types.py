"""Field types shared by the Katib-shaped models: the small coercions Katib files need.

Katib's Go structs decide how YAML values are read; these annotated types reproduce that in pydantic:
counts are whole numbers (a YAML `true` is not 1), Katib's string-typed numbers accept unquoted YAML
numbers, empty strings mean "not set" for enumerations (Go's zero value), timestamps print as RFC 3339 in
UTC like `metav1.Time`, and condition statuses are the strings "True"/"False"/"Unknown".
Used by every model module of `tuner.spec`; holds no model itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, PlainSerializer

from tuner.spec.parameters import KatibModel, number_text

__all__ = [
    "ConditionStatus",
    "Count",
    "KatibModel",
    "NumberText",
    "ServerModel",
    "Timestamp",
    "empty_as_none",
    "number_text",
]


class ServerModel(KatibModel):
    """Base for what a server writes (status, conditions): unknown fields are kept, not refused.

    A newer Katib may add status fields; refusing them would make `kubectl get -o yaml` output unreadable.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {str(value).lower()}")
    return value


def empty_as_none(value: Any) -> Any:
    """Go reads a missing enumeration as "", so Katib treats `""` as unset; so do we."""
    return None if value == "" else value


def _setting_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f'expected text, got {str(value).lower()}; quote it: "{str(value).lower()}"')
    return number_text(value)


def _condition_status(value: Any) -> Any:
    if isinstance(value, bool):
        return "True" if value else "False"
    return value


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")


Count = Annotated[int, BeforeValidator(_whole_number)]
"""An int32 of Katib's API (trial counts, layer sizes): a whole number, never a boolean."""

NumberText = Annotated[str, BeforeValidator(_setting_text)]
"""Katib's string-typed values (settings, assignments, metric values): unquoted YAML numbers are accepted."""

Timestamp = Annotated[datetime, PlainSerializer(_rfc3339, return_type=str, when_used="json")]
"""A `metav1.Time`: parsed from RFC 3339, written back in UTC with a trailing Z."""

ConditionStatus = Annotated[str, BeforeValidator(_condition_status)]
"""A condition's status, "True", "False" or "Unknown" (an unquoted YAML true/false is accepted)."""
