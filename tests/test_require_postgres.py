"""TUNER_REQUIRE_POSTGRES (set by `.ci/run`) is kept: tests that need PostgreSQL cannot skip or be left out.

Each case runs pytest for real in a subprocess on a small test folder with the `tests.require_postgres`
plugin, the way the suite loads it, against the real server (or a port where none listens).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import pytest

@pytest.fixture
def postgres_url():
    return "postgresql+psycopg://unused"

@pytest.mark.postgres
def test_marked_and_skips():
    pytest.skip("no database here")

def test_uses_the_fixture_and_skips(postgres_url):
    pytest.skip("no database here")

@pytest.mark.skip(reason="not today")
def test_needs_nothing_and_skips():
    pass

def test_plain():
    pass
"""


def run_pytest(
    folder: Path, require: bool, *args: str, url: str | None = None
) -> subprocess.CompletedProcess[str]:
    (folder / "test_sample.py").write_text(TESTS)
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    postgres: needs PostgreSQL\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TUNER_REQUIRE_POSTGRES", None)
    if require:
        env["TUNER_REQUIRE_POSTGRES"] = "1"
    if url is not None:
        env["TUNER_TEST_POSTGRES_URL"] = url
    command = [sys.executable, "-m", "pytest", "-p", "tests.require_postgres", "-p", "no:cacheprovider"]
    command += [
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:xdist",
        "-c",
        str(folder / "pytest.ini"),
        "--rootdir",
        str(folder),
        "-rA",
        *args,
        str(folder),
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder, timeout=120)


def test_without_the_variable_skips_stay_skips(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, require=False)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 3 skipped" in done.stdout


def test_with_it_a_test_that_needs_postgres_fails_instead_of_skipping(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, require=True)
    assert done.returncode == 1, done.stdout
    assert "2 failed, 1 passed, 1 skipped" in done.stdout
    assert "FAILED test_sample.py::test_marked_and_skips" in done.stdout
    assert "FAILED test_sample.py::test_uses_the_fixture_and_skips" in done.stdout  # marked by its fixture
    assert "TUNER_REQUIRE_POSTGRES is set: a test that needs PostgreSQL may not skip (no database here)" in (
        done.stdout
    )


def test_with_it_leaving_postgres_tests_out_is_refused(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, True, "-m", "not postgres")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "-m 'not postgres' would leave out 2 tests that need PostgreSQL" in done.stderr


def test_with_it_an_unreachable_server_stops_the_run_before_any_test(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, True, url="postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert done.returncode == pytest.ExitCode.INTERNAL_ERROR, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "TUNER_REQUIRE_POSTGRES is set and PostgreSQL is not reachable at" in output
    assert "127.0.0.1:1/test" in output and "passed" not in output
