"""Engines and transactions for SQLite and PostgreSQL, and the translation of database errors.

Used by every part of `tuner.store.sql` and by `tuner.store.migrate`. It knows the two backends' quirks
so the query code does not have to:

* SQLite runs in WAL mode with `synchronous=NORMAL`, foreign keys on and a busy timeout. The driver's own
  transaction handling is switched off and every transaction starts with an explicit BEGIN: write
  transactions use BEGIN IMMEDIATE, which takes the write lock up front, so two processes never both
  read under a shared lock and then deadlock upgrading it (the classic SQLITE_BUSY that no timeout
  cures). Writers queue on the busy timeout instead; readers never block (WAL). Metric writes, the hot
  path, run on a per-thread connection configured the same way (`ThreadConnections`).
* PostgreSQL runs at READ COMMITTED through psycopg 3; claims use FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.pool import StaticPool

from tuner.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 60_000
SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other backends and for in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An engine for a store URL, with the pragmas and begin behaviour described in the module docstring.

    Raises:
        ConfigError: the URL is malformed or names a backend tuner does not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"store URL {url!r} is not a database URL; use {SUPPORTED}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigError(
                f"store URL {parsed.render_as_string(hide_password=True)!r} uses driver "
                f"{parsed.get_driver_name()!r}; use postgresql+psycopg://..."
            )
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise ConfigError(f"store URL {url!r}: backend {backend!r} is not supported; use {SUPPORTED}")


def _sqlite_engine(url: str) -> Engine:
    path = sqlite_path(url)
    if path is None:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite(dbapi_connection, file_backed=path is not None)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def configure_sqlite(dbapi_connection: Any, *, file_backed: bool) -> None:
    """The pragmas every SQLite connection of the store runs with (see the module docstring)."""
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if file_backed:
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class ThreadConnections:
    """One SQLite connection per thread (and per process, after a fork) kept open for the metric hot path.

    Checking a connection out of SQLAlchemy's pool and resetting it on return costs about as much as a
    one-point transaction itself; a thread that reports metrics keeps its own connection instead.
    The connections are configured exactly like the pool's and closed by `close()`.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._opened: list[tuple[int, sqlite3.Connection]] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        pid = os.getpid()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != pid:  # a forked child never reuses the parent's
            connection = sqlite3.connect(
                str(self._path), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            configure_sqlite(connection, file_backed=True)
            self._local.connection, self._local.pid = connection, pid
            with self._lock:
                self._opened.append((pid, connection))
        return connection

    def close(self) -> None:
        pid = os.getpid()
        with self._lock:
            for owner, connection in self._opened:
                if owner == pid:
                    connection.close()
            self._opened.clear()
        self._local = threading.local()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE on SQLite, plain BEGIN on PostgreSQL; commits or rolls back."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for the queries inside it."""
    with engine.connect() as connection, connection.begin():
        yield connection


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a failed statement broke a unique or primary key constraint (as opposed to e.g. a FK)."""
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return bool(code == "23505")
    return bool(re.search(r"UNIQUE constraint failed|PRIMARY KEY", str(exc.orig)))


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return bool(code == "23503")
    return "FOREIGN KEY constraint failed" in str(exc.orig)


class TrialExperimentCache:
    """trial id -> experiment id, which never changes; saves a query on every metric write."""

    def __init__(self, limit: int = 100_000) -> None:
        self._map: dict[int, int] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, trial_id: int) -> int | None:
        return self._map.get(trial_id)

    def put(self, trial_id: int, experiment_id: int) -> None:
        with self._lock:
            if len(self._map) >= self._limit:
                self._map.clear()
            self._map[trial_id] = experiment_id

    def forget(self, trial_ids: list[int]) -> None:
        with self._lock:
            for trial_id in trial_ids:
                self._map.pop(trial_id, None)
