"""What the end-to-end tests share: running `tuner` as a user does (a real process, this checkout's code) in
an environment of its own (home folder and store under the test's tmp_path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 600
"""Seconds before a wait counts as a hang (a bound for failing, never a timing a test depends on)."""


def tuner(*args: str, env: dict[str, str], timeout: float = PATIENCE) -> subprocess.CompletedProcess[str]:
    """`tuner ARGS...` run to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh user: own home folder and SQLite store, wide terminal (whole trial names)."""
    return {
        **os.environ,
        "TUNER_HOME": str(tmp_path / "home"),
        "TUNER_STORE": f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    }
