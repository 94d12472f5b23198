"""TUNER_REQUIRE_POSTGRES: where it is set (`.ci/run` sets it), no test that needs PostgreSQL goes unrun.

A test needs PostgreSQL when it carries the `postgres` mark or uses the `postgres_url` fixture (which then
marks it, so `-m "not postgres"` leaves out every such test and only those). With the variable set:

- an unreachable server stops the run before any test, with the URL and what to do (exit status 3);
- a test that needs PostgreSQL and skips (a `skip` mark, `pytest.skip(...)`) fails instead;
- `-m` expressions that would leave such tests out are refused.

Without the variable, tests that need the server still fail when it is down (the `postgres_server_url`
fixture fails them); this plugin only closes the ways around that.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

REQUIRE_VARIABLE = "TUNER_REQUIRE_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_FIXTURES = {"postgres_url", "postgres_server_url"}


def required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def server_url() -> str:
    return os.environ.get("TUNER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def plain_dsn(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy wants postgresql+psycopg://."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def unreachable(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None when it answers."""
    import psycopg

    try:
        with psycopg.connect(plain_dsn(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    if not required():
        return
    why = unreachable(server_url())
    if why is not None:
        pytest.exit(
            f"{REQUIRE_VARIABLE} is set and PostgreSQL is not reachable at {server_url()} ({why}); "
            "start it (`.ci/run` does) or point TUNER_TEST_POSTGRES_URL at one",
            returncode=pytest.ExitCode.INTERNAL_ERROR,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not required():
        return
    left_out = [item for item in items if item.get_closest_marker("postgres")]
    markexpr = items[0].config.getoption("markexpr", "") if items else ""
    if left_out and "postgres" in (markexpr or ""):
        raise pytest.UsageError(
            f"{REQUIRE_VARIABLE} is set: -m {markexpr!r} would leave out {len(left_out)} tests that need "
            f"PostgreSQL (e.g. {left_out[0].nodeid}); unset {REQUIRE_VARIABLE} to run without them"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if (
        required()
        and report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("postgres")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_VARIABLE} is set: a test that needs PostgreSQL may not skip ({reason})"
    return report
