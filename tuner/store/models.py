"""The database schema as SQLAlchemy 2 declarative classes: one class per table, nothing else.

Used by `tuner.store.sql` to build queries and by the migration tests to check that the Alembic
migrations produce exactly this schema. The migrations, not `Base.metadata.create_all`, create real
databases. Nothing outside `tuner.store` imports this module.

Design notes:
    * Identity lives in unique constraints (experiment name per namespace, trial number and name per
      experiment, version number per model...), so concurrent writers cannot create duplicates.
    * `metric_points` is the append-only series; `metric_summaries` is one row per (trial, metric) kept up
      to date in the same transaction as each write, so best-trial and comparison queries never scan the
      series. It carries `experiment_id` so "best of the experiment" is one index seek.
    * Times are stored as UTC (`UTCDateTime`), metric timestamps as float epoch seconds (hot path).
    * Children reference parents with ON DELETE CASCADE; links between areas (run -> trial, model version
      -> trial or task) use ON DELETE SET NULL so deleting an experiment never deletes a model.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME = 255  # length of names, namespaces, holders
SHORT = 32  # length of state and kind strings
DIGEST = 128  # length of digests ("sha256:" + 64 hex, with room)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone, so it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        str: String(NAME),
    }


def _fk(target: str, ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete)


# --- tuning (revision 0001) ---------------------------------------------------------------------------


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str]
    name: Mapped[str]
    spec: Mapped[dict[str, Any]]
    spec_digest: Mapped[str] = mapped_column(String(DIGEST))
    state: Mapped[str] = mapped_column(String(SHORT))
    status: Mapped[dict[str, Any]]
    lease_holder: Mapped[str | None]
    lease_acquired_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class StopRequestRow(Base):
    """A request that the experiment's current driver stop (`tuner experiments stop`), polled by the driver.

    One row per experiment at most; it belongs to the lease it was addressed to: releasing the lease or
    its passing to another holder deletes it (revision 0003)."""

    __tablename__ = "experiment_stop_requests"

    experiment_id: Mapped[int] = mapped_column(_fk("experiments.id"), primary_key=True)
    holder: Mapped[str]
    requested_at: Mapped[datetime]


class TrialRow(Base):
    __tablename__ = "trials"
    __table_args__ = (
        UniqueConstraint("experiment_id", "number"),
        UniqueConstraint("experiment_id", "name"),
        Index(None, "experiment_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(_fk("experiments.id"))
    number: Mapped[int]
    name: Mapped[str]
    state: Mapped[str] = mapped_column(String(SHORT))
    reason: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    run_spec: Mapped[dict[str, Any]]
    attempt: Mapped[int]
    runtime: Mapped[dict[str, Any] | None]
    claimed_by: Mapped[str | None]
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class AssignmentRow(Base):
    __tablename__ = "parameter_assignments"

    trial_id: Mapped[int] = mapped_column(_fk("trials.id"), primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    position: Mapped[int]
    value: Mapped[str] = mapped_column(Text)
    numeric: Mapped[float | None] = mapped_column(Float)


class MetricPointRow(Base):
    __tablename__ = "metric_points"
    __table_args__ = (Index(None, "trial_id", "name", "step"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    trial_id: Mapped[int] = mapped_column(_fk("trials.id"))
    name: Mapped[str]
    step: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[float] = mapped_column(Float)


class MetricSummaryRow(Base):
    __tablename__ = "metric_summaries"
    __table_args__ = (
        Index(None, "experiment_id", "name", "min_value"),
        Index(None, "experiment_id", "name", "max_value"),
        Index(None, "experiment_id", "name", "latest_value"),
    )

    trial_id: Mapped[int] = mapped_column(_fk("trials.id"), primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(_fk("experiments.id"))
    count: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    latest_value: Mapped[float | None] = mapped_column(Float)
    latest_step: Mapped[int | None] = mapped_column(BigInteger)
    latest_timestamp: Mapped[float] = mapped_column(Float)


class EarlyStoppingDecisionRow(Base):
    __tablename__ = "early_stopping_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(_fk("trials.id"), index=True)
    rule: Mapped[str]
    metric: Mapped[str]
    step: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    stop: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime]


# --- pipelines and lineage (revision 0001) ------------------------------------------------------------


class PipelineRow(Base):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class PipelineVersionRow(Base):
    __tablename__ = "pipeline_versions"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "name"),
        UniqueConstraint("pipeline_id", "spec_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(_fk("pipelines.id"))
    name: Mapped[str]
    spec: Mapped[dict[str, Any]]
    spec_digest: Mapped[str] = mapped_column(String(DIGEST))
    created_at: Mapped[datetime]


class PipelineRunRow(Base):
    __tablename__ = "pipeline_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(NAME), index=True)
    name: Mapped[str]
    pipeline_version_id: Mapped[int | None] = mapped_column(
        _fk("pipeline_versions.id", "SET NULL"), index=True
    )
    trial_id: Mapped[int | None] = mapped_column(_fk("trials.id", "SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(SHORT))
    arguments: Mapped[dict[str, Any]]
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    lease_holder: Mapped[str | None]  # revision 0004: who drives the run (a server), until when
    lease_acquired_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(_fk("pipeline_runs.id"))
    name: Mapped[str]
    component: Mapped[str]
    state: Mapped[str] = mapped_column(String(SHORT))
    inputs: Mapped[dict[str, Any]]
    outputs: Mapped[dict[str, Any]]
    cache_key: Mapped[str | None] = mapped_column(String(NAME), index=True)
    cached_from_task_id: Mapped[int | None] = mapped_column(_fk("tasks.id", "SET NULL"))
    attempts: Mapped[int]
    logs_uri: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    process: Mapped[dict[str, Any] | None]  # revision 0004: the running attempt's pid, start time and host


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str]
    digest: Mapped[str] = mapped_column(String(DIGEST), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("(task_id IS NULL) <> (trial_id IS NULL)", name="one_execution"),
        CheckConstraint("direction IN ('INPUT', 'OUTPUT')", name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(_fk("artifacts.id"), index=True)
    direction: Mapped[str] = mapped_column(String(SHORT))
    task_id: Mapped[int | None] = mapped_column(_fk("tasks.id"), index=True)
    trial_id: Mapped[int | None] = mapped_column(_fk("trials.id"), index=True)
    port: Mapped[str]
    created_at: Mapped[datetime]


class CacheEntryRow(Base):
    __tablename__ = "cache_entries"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    outputs: Mapped[dict[str, Any]]
    task_id: Mapped[int | None] = mapped_column(_fk("tasks.id", "SET NULL"))
    created_at: Mapped[datetime]


# --- models and serving (revision 0002) ---------------------------------------------------------------


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    next_version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_fk("registered_models.id"))
    version: Mapped[int]
    artifact_id: Mapped[int | None] = mapped_column(_fk("artifacts.id", "SET NULL"), index=True)
    source_trial_id: Mapped[int | None] = mapped_column(_fk("trials.id", "SET NULL"), index=True)
    source_task_id: Mapped[int | None] = mapped_column(_fk("tasks.id", "SET NULL"), index=True)
    metrics: Mapped[dict[str, Any]]
    signature: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(_fk("registered_models.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(_fk("model_versions.id"), index=True)
    updated_at: Mapped[datetime]


class RegistryEventRow(Base):
    __tablename__ = "registry_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(_fk("registered_models.id"), index=True)
    kind: Mapped[str] = mapped_column(String(SHORT))
    alias: Mapped[str | None]
    version: Mapped[int | None]
    previous_version: Mapped[int | None]
    actor: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str]
    name: Mapped[str]
    model_id: Mapped[int | None] = mapped_column(_fk("registered_models.id", "SET NULL"))
    description: Mapped[str] = mapped_column(Text)
    next_revision: Mapped[int]
    last_good_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RevisionRow(Base):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("deployment_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(_fk("deployments.id"))
    number: Mapped[int]
    model_version_id: Mapped[int] = mapped_column(_fk("model_versions.id", "RESTRICT"), index=True)
    config: Mapped[dict[str, Any]]
    config_digest: Mapped[str] = mapped_column(String(DIGEST))
    created_at: Mapped[datetime]


class TrafficAssignmentRow(Base):
    __tablename__ = "traffic_assignments"
    __table_args__ = (
        Index(None, "deployment_id", "valid_to"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(_fk("deployments.id"))
    revision_id: Mapped[int] = mapped_column(_fk("revisions.id"), index=True)
    percent: Mapped[int]
    tag: Mapped[str | None]
    reason: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]


def table(row: type[Base]) -> Table:
    """The Core table behind a row class, for queries that want columns, not ORM objects."""
    return cast(Table, row.__table__)
