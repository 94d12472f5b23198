"""What every part of the SQL store shares: the engine, transactions, the clock and existence checks.

`tuner.store.sql.SqlStore` is assembled from one class per area (`_sql_tuning`, `_sql_metrics`,
`_sql_pipelines`, `_sql_registry`, `_sql_lineage`); each derives from `SqlBase` for these helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Select, Table, bindparam, select
from sqlalchemy.exc import IntegrityError

from tuner.errors import AlreadyExistsError, NotFoundError
from tuner.store._engine import (
    ThreadConnections,
    TrialExperimentCache,
    is_foreign_key_violation,
    is_unique_violation,
    read_transaction,
    sqlite_path,
    utc_now,
    write_transaction,
)


class SqlBase:
    """Engine, clock and transaction helpers for the SQL store's parts."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._trial_experiments = TrialExperimentCache()
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        self._metric_connections = ThreadConnections(path) if path is not None else None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    def _now(self) -> datetime:
        return self._clock()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with read_transaction(self._engine) as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with write_transaction(self._engine) as connection:
            yield connection

    def _upsert(self, table: Table) -> Any:
        """The dialect's INSERT with ON CONFLICT support (both backends speak the same clause).

        Each dialect is imported when used: a SQLite user's read-only command never loads PostgreSQL's.
        """
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    @contextmanager
    def _creating(self, what: str, *, missing: str = "") -> Iterator[None]:
        """Turn a unique violation into AlreadyExistsError(`what`) and a FK violation into NotFoundError."""
        try:
            yield
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise AlreadyExistsError(f"{what} already exists") from None
            if is_foreign_key_violation(exc):
                raise NotFoundError(missing or f"a record {what} refers to does not exist") from None
            raise


def require(connection: Connection, table: Table, record_id: int, what: str, *, lock: bool = False) -> Any:
    """Return the row of `table` with this id or raise NotFoundError("`what` <id> does not exist").

    `lock` takes a row lock on PostgreSQL (SELECT ... FOR NO KEY UPDATE: it serialises writers of the row
    but, unlike FOR UPDATE, does not block inserts of children that reference it, such as metric points
    of a trial being transitioned); on SQLite the write transaction's database lock serialises writers.
    """
    query = _row_by_id(table, lock and connection.dialect.name == "postgresql")
    row = connection.execute(query, {"record_id": record_id}).first()
    if row is None:
        raise NotFoundError(f"{what} {record_id} does not exist")
    return row


@cache
def _row_by_id(table: Table, lock: bool) -> Select[Any]:
    """The statement of `require`, built once: building it per call cost more than running it on SQLite."""
    query = select(table).where(table.c.id == bindparam("record_id"))
    return query.with_for_update(key_share=True) if lock else query


def new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None, "not an INSERT of one row"
    return int(key[0])


def stored_float(value: float | None) -> float | None:
    """NaN becomes NULL on every backend (SQLite cannot store NaN, and min/max must skip it)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def loaded_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def raw_rows(connection: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` as the driver returns them: no SQLAlchemy row objects, no type processing.

    For reads of tens of thousands of rows (the figures' trial outlines and series), where SQLAlchemy's
    per-row work cost more than the database. The caller converts what needs it (`utc_from_driver`).
    """
    result = connection.execute(query)
    try:
        cursor = result.cursor
        while batch := cursor.fetchmany(5000):
            yield from batch
    finally:
        result.close()


def utc_from_driver(value: Any) -> datetime | None:
    """A `UTCDateTime` column's raw driver value (SQLite: naive ISO text; PostgreSQL: a datetime) as UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value if value.utcoffset() == _ZERO else value.astimezone(timezone.utc)


_ZERO = timedelta(0)
