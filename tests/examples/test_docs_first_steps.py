"""The README's first steps as a new user meets them: the Python example runs as written, commands that run
Python use the project's virtual environment, example files say which namespace they need, and the
documented rules match the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from controllers.earlystopping.medianstop import MedianStop

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    (block,) = [b for b in code_blocks(ROOT / "README.md", "python") if "tuner.tune(" in b]
    script = block.replace("max_trial_count=30", "max_trial_count=4")  # the same code, a shorter run
    env = {**os.environ, "TUNER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("TUNER_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "bestTrialName" in done.stdout and "batch_norm=" in done.stdout


def test_shell_commands_that_run_python_use_the_virtual_environment() -> None:
    """A fresh shell's `python3` has none of the project's dependencies (`make demo` installs into .venv)."""
    bare = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in DOCS
        for language in ("sh", "bash")
        for block in code_blocks(path, language)
        for line in block.splitlines()
        if re.match(r"\s*python3?\s", line)
    ]
    assert not bare


def test_example_files_outside_the_default_namespace_say_how_to_reach_them() -> None:
    for path in sorted((ROOT / "examples").glob("*/*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not isinstance(document, dict) or document.get("kind") != "Experiment":
                continue
            namespace = (document.get("metadata") or {}).get("namespace", "default")
            if namespace != "default":
                readme = (path.parent / "README.md").read_text()
                assert f"-n {namespace}" in readme, f"{path.name} runs in namespace {namespace!r}"


def test_the_readme_states_medianstops_rule_and_defaults_as_the_code_has_them() -> None:
    text = " ".join((ROOT / "README.md").read_text().split())
    rule = MedianStop()
    assert f"`min_trials_required`, default {rule.min_trials_required}" in text
    assert f"`start_step`, default {rule.start_step}" in text
    assert "median of the best values that finished trials" in text


def test_comments_do_not_promise_what_already_exists() -> None:
    stale = ["runs once `tuner.report` exists", "planned with the controller", "share `/tmp`", "same /tmp"]
    for path in [*DOCS, *sorted((ROOT / "examples").rglob("*.yaml")), ROOT / "examples/quickstart/train.py"]:
        text = " ".join(path.read_text().split())
        assert not [s for s in stale if s in text], path
