"""The `tuner` command as a user runs it: a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

from tuner._version import __version__

ROOT = Path(__file__).resolve().parents[2]


def run_tuner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_version() -> None:
    result = run_tuner("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tuner {__version__}"


def test_unknown_option_is_a_usage_error() -> None:
    result = run_tuner("--no-such-flag")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "╭" not in result.stderr  # plain output off-terminal


def test_the_root_help_offers_debug() -> None:
    result = run_tuner("--help")
    assert result.returncode == 0
    assert "--debug" in result.stdout and "TUNER_DEBUG=1" in result.stdout


def test_a_bare_word_store_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    """`--store notaurl` used to become ./notaurl, a SQLite file, and the command ran into it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(tmp_path / "home")}
    env.pop("TUNER_STORE", None)
    for args, extra in ((["--store", "notaurl"], {}), ([], {"TUNER_STORE": "notaurl"})):
        result = subprocess.run(
            [sys.executable, "-m", "tuner.cli", "experiments", "list", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**env, **extra},
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        source = "--store" if args else "TUNER_STORE"
        assert result.stderr.splitlines() == [
            f"error: {source} 'notaurl' is not a store URL; use sqlite:///PATH (a file), "
            "postgresql+psycopg://USER@HOST:PORT/DB, or a file path ending in .db, .sqlite, .sqlite3"
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
