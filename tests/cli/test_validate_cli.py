"""`tuner validate` as a user runs it: a real subprocess, output captured off-terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tuner.spec import load_experiment, load_experiments

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = "examples/quickstart/experiment.yaml"
INVALID = ROOT / "tests" / "golden" / "experiments" / "invalid"
VALID = ROOT / "tests" / "golden" / "experiments" / "valid"


def tuner(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "tuner.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_valid_file_prints_one_ok_line_and_exits_0() -> None:
    result = tuner("validate", QUICKSTART)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{QUICKSTART}: ok (experiment quickstart-digits: 4 parameters, algorithm tpe, maximize accuracy, "
        "up to 12 trials, 2 in parallel)"
    ]
    assert result.stderr == ""


def test_several_files_one_line_per_experiment() -> None:
    multi = "tests/golden/experiments/valid/multi-document.yaml"
    result = tuner("validate", QUICKSTART, multi, "examples/katib/grid.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(": ok (experiment ")[0] for line in lines] == [
        QUICKSTART,
        multi,
        multi,
        "examples/katib/grid.yaml",
    ]
    assert "experiment first:" in lines[1] and "experiment second:" in lines[2]


def test_an_invalid_file_prints_one_line_per_problem_and_exits_2() -> None:
    path = "tests/golden/experiments/invalid/numeric-ranges.yaml"
    result = tuner("validate", path)
    assert result.returncode == 2
    expected = (INVALID / "numeric-ranges.expected").read_text().splitlines()
    assert result.stdout.splitlines() == [f"{path}: {line}" for line in expected]
    assert len(expected) == 10


def test_valid_and_invalid_files_together_exit_2_and_report_both() -> None:
    bad = "tests/golden/experiments/invalid/unknown-spec-fields.yaml"
    result = tuner("validate", bad, QUICKSTART)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{bad}: spec.paralelTrialCount: unknown field; did you mean parallelTrialCount?",
        f"{bad}: spec.maxTrials: unknown field; did you mean maxTrialCount?",
        f"{QUICKSTART}: ok (experiment quickstart-digits: 4 parameters, algorithm tpe, maximize accuracy, "
        "up to 12 trials, 2 in parallel)",
    ]


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec:\n  objective: {type: maximize\n")
    result = tuner("validate", str(missing), str(broken), str(tmp_path))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == f"{missing}: cannot read: no such file"
    assert lines[1].startswith(
        f"{broken}: invalid YAML at line 3, column 1: "
    )  # wording: libyaml's or PyYAML's
    assert lines[1].endswith("(while parsing a flow mapping at line 2, column 14)")
    assert lines[2] == f"{tmp_path}: cannot read: it is a directory, not an experiment file"


def test_show_prints_the_defaulted_document_on_stdout_only() -> None:
    result = tuner("validate", QUICKSTART, "--show")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == load_experiment(ROOT / QUICKSTART).to_dict()
    assert "resumePolicy: Never" in result.stdout  # a default made visible
    assert result.stderr.startswith(f"{QUICKSTART}: ok (")


def test_output_json_and_several_documents() -> None:
    multi = "tests/golden/experiments/valid/multi-document.yaml"
    result = tuner("validate", "-o", "json", QUICKSTART)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == load_experiment(ROOT / QUICKSTART).to_dict()
    result = tuner("validate", "--output", "yaml", multi)
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout)] == ["first", "second"]
    assert list(yaml.safe_load_all(result.stdout)) == [
        e.to_dict() for e in load_experiments(VALID / "multi-document.yaml")
    ]


def test_nothing_is_printed_on_stdout_when_a_file_is_invalid_with_show() -> None:
    result = tuner("validate", "--show", QUICKSTART, "tests/golden/experiments/invalid/counts.yaml")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "counts.yaml: spec.parallelTrialCount: 8 must not exceed spec.maxTrialCount (4)" in result.stderr


def test_output_is_plain_and_unwrapped_off_terminal() -> None:
    result = tuner("validate", "tests/golden/experiments/invalid/trial-parameter-references.yaml")
    assert "\x1b[" not in result.stdout
    longest = max(result.stdout.splitlines(), key=len)
    assert len(longest) > 200 and longest.endswith(
        "${trialSpec.Labels[key]} or ${trialSpec.Annotations[key]}"
    )


def test_usage_errors_and_help() -> None:
    assert tuner("validate").returncode == 2
    bad_format = tuner("validate", "-o", "toml", QUICKSTART)
    assert bad_format.returncode == 2 and "toml" in bad_format.stderr
    help_text = tuner("validate", "--help")
    assert help_text.returncode == 0
    for word in ("FILE", "--show", "--output", "unreadable"):
        assert word in help_text.stdout
    root = tuner("--help")
    assert root.returncode == 0 and "validate" in root.stdout
