"""The quickstart trial as the controller will run it: a real process printing Katib-style metric lines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tuner.spec.collector import DEFAULT_METRICS_FORMAT

TRAIN = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "train.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TRAIN), *args], capture_output=True, text=True, timeout=120)


def test_prints_name_value_lines_katibs_default_filter_reads() -> None:
    result = run("--lr=0.05", "--alpha=0.0001", "--loss=log_loss", "--epochs=3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch=1 accuracy=")
    found = [dict((m[0], m[1]) for m in re.findall(DEFAULT_METRICS_FORMAT, line)) for line in lines]
    accuracies = [float(metrics["accuracy"]) for metrics in found]
    assert len(accuracies) == 4  # three epochs and the final line
    assert all(0.5 < a <= 1.0 for a in accuracies)  # a linear model on digits does far better than chance
    assert accuracies[-1] == accuracies[-2]


def test_writes_katibs_json_lines_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "metrics.json"
    result = run("--lr=0.05", "--epochs=2", f"--metrics-file={out}", "--metrics-format=json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["epoch"] for r in records] == ["1", "2"]
    assert all(isinstance(r["accuracy"], str) and 0 < float(r["accuracy"]) <= 1 for r in records)


def test_rejects_an_unknown_loss() -> None:
    result = run("--lr=0.05", "--loss=squared")
    assert result.returncode == 2
    assert "invalid choice: 'squared'" in result.stderr
