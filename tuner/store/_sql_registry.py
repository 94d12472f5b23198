"""SQL for the model registry (models, versions, aliases, history) and serving state (deployments,
revisions, traffic, last good revision).

Part of `tuner.store.sql.SqlStore`; see `tuner.store.base` for the contract. Version and revision numbers
come from a counter on the parent row, bumped inside the write transaction that holds the parent's lock,
so numbers are monotonic and never reused even after deletions. Every registry change appends a
`registry_events` row in the same transaction; traffic changes close the rows in force (`valid_to`) and
open new ones, so the full history stays queryable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from tuner.errors import NotFoundError, StoreValueError
from tuner.store._sql_pipelines import AR, TK
from tuner.store._sql_tuning import T
from tuner.store._sqlbase import SqlBase, new_id, require
from tuner.store._validate import check_alias, check_name
from tuner.store.models import (
    DeploymentRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
    RegistryEventRow,
    RevisionRow,
    TrafficAssignmentRow,
    table,
)
from tuner.store.records import (
    DEFAULT_NAMESPACE,
    Deployment,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Revision,
    TrafficAssignment,
)

RM = table(RegisteredModelRow)
MV = table(ModelVersionRow)
AL = table(ModelAliasRow)
RE = table(RegistryEventRow)
DP = table(DeploymentRow)
RV = table(RevisionRow)
TA = table(TrafficAssignmentRow)


def _model(row: Row[Any]) -> RegisteredModel:
    return RegisteredModel(row.id, row.namespace, row.name, row.description, row.created_at, row.updated_at)


def _version(row: Row[Any]) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        model_id=row.model_id,
        version=row.version,
        artifact_id=row.artifact_id,
        source_trial_id=row.source_trial_id,
        source_task_id=row.source_task_id,
        metrics=dict(row.metrics),
        signature=dict(row.signature),
        description=row.description,
        created_at=row.created_at,
    )


def _event(row: Row[Any]) -> RegistryEvent:
    return RegistryEvent(
        row.id,
        row.model_id,
        row.kind,
        row.alias,
        row.version,
        row.previous_version,
        row.actor,
        row.reason,
        row.at,
    )


def _deployment(row: Row[Any]) -> Deployment:
    return Deployment(
        id=row.id,
        namespace=row.namespace,
        name=row.name,
        model_id=row.model_id,
        description=row.description,
        last_good_revision_id=row.last_good_revision_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _revision(row: Row[Any]) -> Revision:
    return Revision(
        row.id,
        row.deployment_id,
        row.number,
        row.model_version_id,
        dict(row.config),
        row.config_digest,
        row.created_at,
    )


def _traffic(row: Row[Any]) -> TrafficAssignment:
    return TrafficAssignment(
        row.id,
        row.deployment_id,
        row.revision_id,
        row.percent,
        row.tag,
        row.reason,
        row.valid_from,
        row.valid_to,
    )


def config_digest(model_version_id: int, config: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of what a revision runs, to tell identical revisions apart quickly."""
    canonical = json.dumps(
        {"model_version_id": model_version_id, "config": config}, sort_keys=True, default=str
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class RegistrySql(SqlBase):
    """Registered models, versions, aliases, history; deployments, revisions and traffic."""

    # --- models -----------------------------------------------------------------------------------------

    def create_registered_model(
        self, name: str, namespace: str = DEFAULT_NAMESPACE, description: str = ""
    ) -> RegisteredModel:
        check_name("model name", name)
        check_name("namespace", namespace)
        now = self._now()
        values = {
            "namespace": namespace,
            "name": name,
            "description": description,
            "next_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        with self._creating(f"registered model {namespace}/{name}"), self._write() as connection:
            model_id = new_id(connection.execute(insert(RM).values(values)))
            return _model(require(connection, RM, model_id, "registered model"))

    def get_registered_model(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> RegisteredModel:
        with self._read() as connection:
            row = connection.execute(select(RM).where(RM.c.namespace == namespace, RM.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"registered model {namespace}/{name} does not exist")
        return _model(row)

    def list_registered_models(self, namespace: str | None = None) -> list[RegisteredModel]:
        query = select(RM).order_by(RM.c.id)
        if namespace is not None:
            query = query.where(RM.c.namespace == namespace)
        with self._read() as connection:
            return [_model(row) for row in connection.execute(query)]

    def create_model_version(
        self,
        model_id: int,
        *,
        artifact_id: int | None = None,
        source_trial_id: int | None = None,
        source_task_id: int | None = None,
        metrics: Mapping[str, float] | None = None,
        signature: Mapping[str, Any] | None = None,
        description: str = "",
        actor: str = "",
    ) -> ModelVersion:
        now = self._now()
        with self._write() as connection:
            model = require(connection, RM, model_id, "registered model", lock=True)
            for record_id, source, what in (
                (artifact_id, AR, "artifact"),
                (source_trial_id, T, "trial"),
                (source_task_id, TK, "task"),
            ):
                if record_id is not None:
                    require(connection, source, record_id, what)
            number = model.next_version
            connection.execute(
                update(RM).where(RM.c.id == model_id).values(next_version=number + 1, updated_at=now)
            )
            version_id = new_id(
                connection.execute(
                    insert(MV).values(
                        model_id=model_id,
                        version=number,
                        artifact_id=artifact_id,
                        source_trial_id=source_trial_id,
                        source_task_id=source_task_id,
                        metrics={k: float(v) for k, v in (metrics or {}).items()},
                        signature=dict(signature or {}),
                        description=description,
                        created_at=now,
                    )
                )
            )
            self._log(connection, model_id, "version_created", version=number, actor=actor)
            return _version(require(connection, MV, version_id, "model version"))

    def get_model_version(self, model_id: int, version: int) -> ModelVersion:
        with self._read() as connection:
            require(connection, RM, model_id, "registered model")
            row = self._version_row(connection, model_id, version)
        return _version(row)

    def get_model_version_by_id(self, model_version_id: int) -> ModelVersion:
        with self._read() as connection:
            return _version(require(connection, MV, model_version_id, "model version"))

    def list_model_versions(self, model_id: int) -> list[ModelVersion]:
        with self._read() as connection:
            require(connection, RM, model_id, "registered model")
            rows = connection.execute(select(MV).where(MV.c.model_id == model_id).order_by(MV.c.version))
            return [_version(row) for row in rows]

    def _version_row(self, connection: Connection, model_id: int, version: int) -> Row[Any]:
        row = connection.execute(select(MV).where(MV.c.model_id == model_id, MV.c.version == version)).first()
        if row is None:
            raise NotFoundError(f"registered model {model_id} has no version {version}")
        return row

    # --- aliases and history ----------------------------------------------------------------------------

    def set_alias(
        self, model_id: int, alias: str, version: int, *, actor: str = "", reason: str = ""
    ) -> RegistryEvent:
        check_alias(alias)
        now = self._now()
        with self._write() as connection:
            require(connection, RM, model_id, "registered model", lock=True)
            target = self._version_row(connection, model_id, version)
            previous = self._alias_version(connection, model_id, alias)
            statement = self._upsert(AL).values(
                model_id=model_id, alias=alias, version_id=target.id, updated_at=now
            )
            statement = statement.on_conflict_do_update(
                index_elements=[AL.c.model_id, AL.c.alias],
                set_={
                    "version_id": statement.excluded.version_id,
                    "updated_at": statement.excluded.updated_at,
                },
            )
            connection.execute(statement)
            return self._log(
                connection,
                model_id,
                "alias_set",
                alias=alias,
                version=version,
                previous=previous,
                actor=actor,
                reason=reason,
            )

    def delete_alias(self, model_id: int, alias: str, *, actor: str = "", reason: str = "") -> RegistryEvent:
        with self._write() as connection:
            require(connection, RM, model_id, "registered model", lock=True)
            previous = self._alias_version(connection, model_id, alias)
            if previous is None:
                raise NotFoundError(f"registered model {model_id} has no alias {alias!r}")
            connection.execute(AL.delete().where(AL.c.model_id == model_id, AL.c.alias == alias))
            return self._log(
                connection,
                model_id,
                "alias_deleted",
                alias=alias,
                previous=previous,
                actor=actor,
                reason=reason,
            )

    def get_alias(self, model_id: int, alias: str) -> ModelVersion:
        with self._read() as connection:
            require(connection, RM, model_id, "registered model")
            row = connection.execute(
                select(MV)
                .join(AL, AL.c.version_id == MV.c.id)
                .where(AL.c.model_id == model_id, AL.c.alias == alias)
            ).first()
        if row is None:
            raise NotFoundError(f"registered model {model_id} has no alias {alias!r}")
        return _version(row)

    def list_aliases(self, model_id: int) -> dict[str, int]:
        with self._read() as connection:
            require(connection, RM, model_id, "registered model")
            rows = connection.execute(
                select(AL.c.alias, MV.c.version)
                .join(MV, AL.c.version_id == MV.c.id)
                .where(AL.c.model_id == model_id)
                .order_by(AL.c.alias)
            )
            return {alias: version for alias, version in rows}

    def registry_history(self, model_id: int) -> list[RegistryEvent]:
        with self._read() as connection:
            require(connection, RM, model_id, "registered model")
            rows = connection.execute(select(RE).where(RE.c.model_id == model_id).order_by(RE.c.id))
            return [_event(row) for row in rows]

    def record_registry_event(
        self,
        model_id: int,
        kind: str,
        *,
        alias: str | None = None,
        version: int | None = None,
        previous_version: int | None = None,
        actor: str = "",
        reason: str = "",
    ) -> RegistryEvent:
        check_name("registry event kind", kind)
        with self._write() as connection:
            require(connection, RM, model_id, "registered model", lock=True)
            return self._log(
                connection,
                model_id,
                kind,
                alias=alias,
                version=version,
                previous=previous_version,
                actor=actor,
                reason=reason,
            )

    def delete_registered_model(self, model_id: int) -> None:
        with self._write() as connection:
            require(connection, RM, model_id, "registered model", lock=True)
            versions = select(MV.c.id).where(MV.c.model_id == model_id)
            serving = select(RV.c.deployment_id).where(RV.c.model_version_id.in_(versions))
            deployments = set(connection.execute(serving).scalars()) | set(
                connection.execute(select(DP.c.id).where(DP.c.model_id == model_id)).scalars()
            )
            if deployments:
                connection.execute(
                    update(DP).where(DP.c.id.in_(deployments)).values(last_good_revision_id=None)
                )
                connection.execute(TA.delete().where(TA.c.deployment_id.in_(deployments)))
                connection.execute(RV.delete().where(RV.c.deployment_id.in_(deployments)))
                connection.execute(DP.delete().where(DP.c.id.in_(deployments)))
            connection.execute(AL.delete().where(AL.c.model_id == model_id))
            connection.execute(RE.delete().where(RE.c.model_id == model_id))
            connection.execute(MV.delete().where(MV.c.model_id == model_id))
            connection.execute(RM.delete().where(RM.c.id == model_id))

    def _alias_version(self, connection: Connection, model_id: int, alias: str) -> int | None:
        return connection.execute(
            select(MV.c.version)
            .join(AL, AL.c.version_id == MV.c.id)
            .where(AL.c.model_id == model_id, AL.c.alias == alias)
        ).scalar()

    def _log(
        self,
        connection: Connection,
        model_id: int,
        kind: str,
        *,
        alias: str | None = None,
        version: int | None = None,
        previous: int | None = None,
        actor: str = "",
        reason: str = "",
    ) -> RegistryEvent:
        event_id = new_id(
            connection.execute(
                insert(RE).values(
                    model_id=model_id,
                    kind=kind,
                    alias=alias,
                    version=version,
                    previous_version=previous,
                    actor=actor,
                    reason=reason,
                    at=self._now(),
                )
            )
        )
        return _event(require(connection, RE, event_id, "registry event"))

    # --- deployments and revisions ----------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        model_id: int | None = None,
        description: str = "",
    ) -> Deployment:
        check_name("deployment name", name)
        check_name("namespace", namespace)
        now = self._now()
        values = {
            "namespace": namespace,
            "name": name,
            "model_id": model_id,
            "description": description,
            "next_revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        with self._creating(f"deployment {namespace}/{name}"), self._write() as connection:
            if model_id is not None:
                require(connection, RM, model_id, "registered model")
            deployment_id = new_id(connection.execute(insert(DP).values(values)))
            return _deployment(require(connection, DP, deployment_id, "deployment"))

    def get_deployment(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Deployment:
        with self._read() as connection:
            row = connection.execute(select(DP).where(DP.c.namespace == namespace, DP.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"deployment {namespace}/{name} does not exist")
        return _deployment(row)

    def get_deployment_by_id(self, deployment_id: int) -> Deployment:
        with self._read() as connection:
            return _deployment(require(connection, DP, deployment_id, "deployment"))

    def list_deployments(self, namespace: str | None = None) -> list[Deployment]:
        query = select(DP).order_by(DP.c.id)
        if namespace is not None:
            query = query.where(DP.c.namespace == namespace)
        with self._read() as connection:
            return [_deployment(row) for row in connection.execute(query)]

    def create_revision(
        self, deployment_id: int, model_version_id: int, config: Mapping[str, Any] | None = None
    ) -> Revision:
        config = dict(config or {})
        now = self._now()
        with self._write() as connection:
            deployment = require(connection, DP, deployment_id, "deployment", lock=True)
            require(connection, MV, model_version_id, "model version")
            number = deployment.next_revision
            connection.execute(
                update(DP).where(DP.c.id == deployment_id).values(next_revision=number + 1, updated_at=now)
            )
            revision_id = new_id(
                connection.execute(
                    insert(RV).values(
                        deployment_id=deployment_id,
                        number=number,
                        model_version_id=model_version_id,
                        config=config,
                        config_digest=config_digest(model_version_id, config),
                        created_at=now,
                    )
                )
            )
            return _revision(require(connection, RV, revision_id, "revision"))

    def get_revision(self, revision_id: int) -> Revision:
        with self._read() as connection:
            return _revision(require(connection, RV, revision_id, "revision"))

    def list_revisions(self, deployment_id: int) -> list[Revision]:
        with self._read() as connection:
            require(connection, DP, deployment_id, "deployment")
            rows = connection.execute(
                select(RV).where(RV.c.deployment_id == deployment_id).order_by(RV.c.number)
            )
            return [_revision(row) for row in rows]

    def _own_revisions(self, connection: Connection, deployment_id: int, revision_ids: set[int]) -> None:
        owned = set(
            connection.execute(
                select(RV.c.id).where(RV.c.deployment_id == deployment_id, RV.c.id.in_(revision_ids))
            ).scalars()
        )
        foreign = sorted(revision_ids - owned)
        if foreign:
            raise NotFoundError(
                f"revision {', '.join(map(str, foreign))} does not exist or is not a revision of deployment "
                f"{deployment_id}"
            )

    # --- traffic ----------------------------------------------------------------------------------------

    def set_traffic(
        self,
        deployment_id: int,
        percents: Mapping[int, int],
        *,
        tags: Mapping[int, str] | None = None,
        reason: str = "",
    ) -> list[TrafficAssignment]:
        _check_percents(percents)
        tags = dict(tags or {})
        now = self._now()
        with self._write() as connection:
            require(connection, DP, deployment_id, "deployment", lock=True)
            self._own_revisions(connection, deployment_id, set(percents))
            connection.execute(
                update(TA)
                .where(TA.c.deployment_id == deployment_id, TA.c.valid_to.is_(None))
                .values(valid_to=now)
            )
            connection.execute(
                insert(TA),
                [
                    {
                        "deployment_id": deployment_id,
                        "revision_id": revision_id,
                        "percent": percent,
                        "tag": tags.get(revision_id),
                        "reason": reason,
                        "valid_from": now,
                        "valid_to": None,
                    }
                    for revision_id, percent in sorted(percents.items())
                ],
            )
            connection.execute(update(DP).where(DP.c.id == deployment_id).values(updated_at=now))
            return self._traffic_rows(connection, deployment_id, current=True)

    def current_traffic(self, deployment_id: int) -> list[TrafficAssignment]:
        with self._read() as connection:
            require(connection, DP, deployment_id, "deployment")
            return self._traffic_rows(connection, deployment_id, current=True)

    def traffic_history(self, deployment_id: int) -> list[TrafficAssignment]:
        with self._read() as connection:
            require(connection, DP, deployment_id, "deployment")
            return self._traffic_rows(connection, deployment_id, current=False)

    def _traffic_rows(
        self, connection: Connection, deployment_id: int, *, current: bool
    ) -> list[TrafficAssignment]:
        query = select(TA).where(TA.c.deployment_id == deployment_id)
        if current:
            query = query.where(TA.c.valid_to.is_(None)).order_by(TA.c.revision_id)
        else:
            query = query.order_by(TA.c.id)
        return [_traffic(row) for row in connection.execute(query)]

    def set_last_good_revision(self, deployment_id: int, revision_id: int) -> Deployment:
        with self._write() as connection:
            require(connection, DP, deployment_id, "deployment", lock=True)
            self._own_revisions(connection, deployment_id, {revision_id})
            connection.execute(
                update(DP)
                .where(DP.c.id == deployment_id)
                .values(last_good_revision_id=revision_id, updated_at=self._now())
            )
            return _deployment(require(connection, DP, deployment_id, "deployment"))


def _check_percents(percents: Mapping[int, int]) -> None:
    if not percents:
        raise StoreValueError("traffic needs at least one revision with a percent")
    for revision_id, percent in percents.items():
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            raise StoreValueError(
                f"traffic percent for revision {revision_id} must be an integer 0..100, got {percent!r}"
            )
    total = sum(percents.values())
    if total != 100:
        raise StoreValueError(f"traffic percents must add up to 100, got {total} ({dict(percents)})")
