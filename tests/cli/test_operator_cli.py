"""`tuner operator`'s option checks: a bad value is one line naming the option, exit 2 (the operator at
work is tested against a real API server in tests/k8s/test_operator_cli_on_apiserver.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--namespace", "Team_A"], "--namespace"),
        (["--suggestion-service", "suggest:6789"], "--suggestion-service"),
        (["--kubeconfig", "/nonexistent/kubeconfig"], "--kubeconfig"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], named: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNER_HOME": str(tmp_path)}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    done = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "operator", *args, "--store", f"sqlite:///{tmp_path / 't.db'}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0]
