"""Fixtures shared by the whole suite.

PostgreSQL is used for real: the server named by TUNER_TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432, database `test`). Tests that need it fail, never skip, when it cannot be reached; `.ci/run`
starts it first. Each test that asks for `postgres_url` gets a database of its own, dropped afterwards.
With TUNER_REQUIRE_POSTGRES set (`.ci/run` sets it), no such test can be skipped or left out either:
see `tests/require_postgres.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The machine running the suite is shared and loaded: a property test is about values, never about speed,
# so Hypothesis's per-example deadline (200 ms) and its too-slow health check are off for every test.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

pytest_plugins = ["tests.require_postgres", "tests.xdist_scheduling"]


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of a reachable PostgreSQL server; fails the test loudly if there is none."""
    from tests.require_postgres import server_url, unreachable

    url = server_url()
    why = unreachable(url)
    if why is not None:
        pytest.fail(
            f"PostgreSQL is required and not reachable at {url} ({why}). "
            "Start it (`.ci/run` does) or point TUNER_TEST_POSTGRES_URL at one."
        )
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (SQLAlchemy URL), dropped afterwards."""
    import psycopg

    from tests.require_postgres import plain_dsn

    name = f"tuner_test_{uuid.uuid4().hex[:12]}"
    admin = plain_dsn(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite store file private to one test."""
    return f"sqlite:///{tmp_path / 'tuner.db'}"


@pytest.fixture(autouse=True)
def _isolated_tuner_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real data folder: TUNER_HOME points into a temporary folder per test."""
    home = tmp_path_factory.mktemp("tuner-home")
    monkeypatch.setenv("TUNER_HOME", str(home))
    monkeypatch.delenv("TUNER_STORE", raising=False)
    monkeypatch.delenv("TUNER_ARTIFACTS", raising=False)
