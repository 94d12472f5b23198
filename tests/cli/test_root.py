"""The `tuner` command as a user runs it: a real subprocess."""

import subprocess
import sys

from tuner._version import __version__


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
