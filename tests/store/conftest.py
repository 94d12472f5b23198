"""Stores for the conformance suite on both backends, cheap enough to give every test a clean one.

SQLite: the schema is migrated once into a template file, copied for each test. PostgreSQL: one database
per session, migrated once and emptied (TRUNCATE) before each test; tests that need a database of their
own (migrations, concurrency, CLI) use the `postgres_url` fixture from tests/conftest.py instead.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from tuner.store import open_store
from tuner.store.base import Store
from tuner.store.sql import SqlStore
from tuner.store.testing import reset_database


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tuner.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def shared_postgres_url(postgres_server_url: str) -> Iterator[str]:
    name = f"tuner_conformance_{uuid.uuid4().hex[:10]}"
    admin = _admin_dsn(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_server_url.rpartition('/')[0]}/{name}"
    open_store(url).close()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "tuner.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("shared_postgres_url")
    reset_database(url)
    return url


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []

    def make(clock: Callable[[], datetime] | None = None) -> Store:
        store = SqlStore(store_url, clock=clock) if clock is not None else SqlStore(store_url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
