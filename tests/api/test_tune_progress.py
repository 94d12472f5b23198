"""What `tuner.tune` shows while it runs: a line per trial with its value and the best so far when verbose,
a compact live line by default in a terminal (a real subprocess with a terminal-capable stderr), nothing
when stderr is not a terminal."""

from __future__ import annotations

import builtins
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tuner.api import _TuneProgress
from tuner.progress import duration_text, failure_lines

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import tuner

def objective(params):
    if params["x"] == 3:
        raise ValueError("three is bad")
    return params["x"]

tuner.tune(objective, {{"x": tuner.search.int(0, 3)}}, name="shown", algorithm_name="grid",
           max_trial_count=4, threads=True, store={store!r}{verbose})
"""


def run_script(tmp_path: Path, verbose: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = SCRIPT.format(store=f"sqlite:///{tmp_path / 's.db'}", verbose=verbose)
    base = {k: v for k, v in os.environ.items() if k not in ("TTY_COMPATIBLE", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**base, "TUNER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **env},
    )


def test_verbose_lines_show_value_best_elapsed_and_eta(tmp_path: Path) -> None:
    done = run_script(tmp_path, ", verbose=True")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 4, done.stderr
    succeeded = [line for line in lines if " Succeeded " in line]
    assert len(succeeded) == 3
    for line in succeeded:
        value, best = re.search(r"objective=(\S+) \(best (\S+)\)", line).groups()  # type: ignore[union-attr]
        assert float(best) >= float(value)
    assert "(best 2)" in succeeded[-1] and "elapsed" in lines[0] and "ETA" in lines[0]
    assert lines[-1].endswith("done")
    assert "ValueError: three is bad" in done.stderr  # why the failed trial failed


def test_default_is_a_compact_display_in_a_terminal(tmp_path: Path) -> None:
    done = run_script(tmp_path, "", TTY_COMPATIBLE="1")
    assert done.returncode == 0, done.stderr
    shown = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", done.stderr)  # the terminal's colours and cursor moves
    assert "tune shown: 4/4 trials, best objective=2" in shown, shown
    assert "ValueError: three is bad" in shown  # failures are shown, successes only counted
    assert " Succeeded " not in shown


def test_default_is_silent_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    done = run_script(tmp_path, "", TTY_COMPATIBLE="0")
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""
    quiet = run_script(tmp_path / "q", ", verbose=False", TTY_COMPATIBLE="1")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_a_jupyter_notebook_counts_as_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich recognises a notebook by IPython's kernel shell; this stands in for that shell."""

    class ZMQInteractiveShell:  # the class name rich checks
        pass

    monkeypatch.setattr(builtins, "get_ipython", lambda: ZMQInteractiveShell(), raising=False)
    shown = _TuneProgress(None, "nb", "objective", 3)
    assert shown.show and not shown.every_trial
    assert not _TuneProgress(False, "nb", "objective", 3).show


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            'the trial failed: Traceback (most recent call last):\n  File "/x/train.py", line 12, in fit\n'
            "    raise ValueError('bad lr')\nValueError: bad lr; last output:\nepoch 1",
            ["ValueError: bad lr  (train.py, line 12, in fit)"],
        ),
        (
            "the trial failed: exit code 3; last output:\na\nb\nc\nd",
            ["the trial failed: exit code 3", "b", "c", "d"],
        ),
    ],
)
def test_failure_lines(message: str, expected: list[str]) -> None:
    assert failure_lines(message) == expected


def test_durations_read_as_time() -> None:
    assert [duration_text(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]


def test_parameter_values_are_shortened_for_lines_and_tables() -> None:
    """Long decimals read as 4 significant digits on progress lines and 6 in tables; words stay whole."""
    from tuner.progress import short_value

    assert short_value("0.1433697357757219") == "0.1434"
    assert short_value("0.1433697357757219", 6) == "0.14337"
    assert short_value("3.1354094362990456e-05", 6) == "3.13541e-05"
    assert short_value("modified_huber", 6) == "modified_huber"
    assert short_value("22", 6) == "22"
