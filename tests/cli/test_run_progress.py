"""`tuner run`'s progress lines (objective value, best so far, elapsed, ETA) and its answer for a finished
experiment, which must not load the suggestion algorithm (checked with the interpreter's import log)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.controllers.conftest import ARGS, experiment_document

ROOT = Path(__file__).resolve().parents[2]


def tuner(tmp_path: Path, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TUNER_HOME": str(tmp_path / "home"),
        "TUNER_STORE": f"sqlite:///{tmp_path / 's.db'}",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, *python, "-m", "tuner.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_progress_lines_then_a_finished_experiment_answers_without_the_algorithm(tmp_path: Path) -> None:
    script = "x = float(args['x']); print(f'loss={x * x}')"
    document = experiment_document("lines", ARGS + script, algorithm="tpe", max_trials=3, parallel=1)
    path = tmp_path / "lines.yaml"
    path.write_text(yaml.safe_dump(document))
    first = tuner(tmp_path, "run", str(path))
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if line.startswith("[")]
    assert [line[:5] for line in lines] == ["[1/3]", "[2/3]", "[3/3]"], first.stderr
    best_so_far = float("inf")
    for line in lines:
        value, best = (float(v) for v in re.search(r"loss=(\S+) \(best (\S+)\)", line).groups())  # type: ignore[union-attr]
        best_so_far = min(best_so_far, value)
        assert best == best_so_far
        assert "elapsed" in line
    assert "ETA" in lines[0] and lines[-1].endswith("done")

    again = tuner(tmp_path, "run", str(path), python=("-X", "importtime"))
    assert again.returncode == 0, again.stderr
    assert "already finished (Succeeded)" in again.stderr and "experiment lines: Succeeded" in again.stdout
    imported = {line.split("|")[-1].strip() for line in again.stderr.splitlines() if "|" in line}
    assert "tuner.store.sql" in imported
    assert not {
        m for m in imported if m.startswith(("suggestions", "optuna", "scipy.stats", "controllers.local"))
    }
