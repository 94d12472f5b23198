"""`tuner db current` and `tuner db upgrade` as an operator runs them: real subprocesses, both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuner.store.migrate import HEAD_REVISION

ROOT = Path(__file__).resolve().parents[2]


def run_tuner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'tuner.db'}"
    postgres_url: str = request.getfixturevalue("postgres_url")
    return postgres_url


def test_current_then_upgrade_then_current(url: str, tmp_path: Path) -> None:
    before = run_tuner("db", "current", "--store", url)
    assert before.returncode == 0, before.stderr
    assert before.stdout.startswith("none")
    assert not (tmp_path / "db" / "tuner.db").exists()  # `current` never creates a database

    upgraded = run_tuner("db", "upgrade", "--store", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"{HEAD_REVISION} (head)"
    assert f"upgraded from empty to {HEAD_REVISION}" in upgraded.stderr

    again = run_tuner("db", "upgrade", "--store", url)
    assert again.returncode == 0 and f"already at {HEAD_REVISION}" in again.stderr

    after = run_tuner("db", "current", "--store", url)
    assert after.stdout.strip() == f"{HEAD_REVISION} (head)"


def test_store_comes_from_the_environment(tmp_path: Path) -> None:
    result = run_tuner("db", "upgrade", env={"TUNER_STORE": str(tmp_path / "env.db")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()


def test_unsupported_url_is_invalid_input() -> None:
    result = run_tuner("db", "current", "--store", "mysql://host/db")
    assert result.returncode == 2
    assert "backend 'mysql' is not supported" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_password_is_not_printed(postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:s3cret@", 1)
    result = run_tuner("db", "upgrade", "--store", with_password)
    assert result.returncode == 0, result.stderr  # trust auth ignores the password
    assert "s3cret" not in result.stderr + result.stdout
