"""Kubernetes ObjectMeta as it appears in Experiment and Trial documents.

Accepts anything kubectl exports (uid, resourceVersion, managedFields, ownerReferences, fields a newer
server adds) and keeps it for the round trip; only the fields tuner reads are typed. Name rules are
validation's job (`tuner.spec.validation`), so that a bad name is one of several reported problems.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from tuner.spec.field_types import Count, KatibModel


def _time_text(value: Any) -> Any:
    """Server timestamps stay text; a datetime handed in from Python becomes RFC 3339 text."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


TimeText = Annotated[str, BeforeValidator(_time_text)]


class ObjectMeta(KatibModel):
    """`metadata`: name, namespace, labels, annotations, and whatever else the server wrote."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    name: str | None = None
    generate_name: str | None = Field(default=None, alias="generateName")
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    uid: str | None = None
    resource_version: str | None = Field(default=None, alias="resourceVersion")
    generation: Count | None = None
    creation_timestamp: TimeText | None = Field(default=None, alias="creationTimestamp")
    deletion_timestamp: TimeText | None = Field(default=None, alias="deletionTimestamp")
    finalizers: list[str] | None = None
    owner_references: list[dict[str, Any]] | None = Field(default=None, alias="ownerReferences")
    managed_fields: list[dict[str, Any]] | None = Field(default=None, alias="managedFields")
