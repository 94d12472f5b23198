"""Checkpoint folders of local trials: one per trial, seeded with a copy of its parent's (pbt).

Every local trial gets `<runs dir>/<trial>/checkpoint/` and finds its path in `TUNER_CHECKPOINT_DIR`
(`tuner.checkpoint_dir()` in Python). A trial whose algorithm named a parent (pbt's label
`pbt.suggestion.katib.kubeflow.org/parent`) starts with a copy of the parent's folder, as Katib's pbt
service copies the parent's folder on its volume before the trial starts, so a trial simply resumes from
whatever its own folder holds; the parent's folder is named in `TUNER_PARENT_CHECKPOINT_DIR`
(`tuner.parent_checkpoint_dir()`) too, to be read, not written. The copy is made once, before the first
attempt (a retry resumes from what the failed attempt left), and atomically (into a temporary folder, then
renamed), so a controller killed mid-copy leaves no half-seeded folder behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from suggestions.pbt import PARENT_LABEL

CHECKPOINT_ENV = "TUNER_CHECKPOINT_DIR"
PARENT_CHECKPOINT_ENV = "TUNER_PARENT_CHECKPOINT_DIR"
FOLDER = "checkpoint"


def checkpoint_folder(runs_dir: Path, trial: str) -> Path:
    """The checkpoint folder of `trial` in an experiment whose trials live in `runs_dir`."""
    return runs_dir / trial / FOLDER


def prepare_checkpoint(runs_dir: Path, trial: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Create the trial's checkpoint folder (a copy of its parent's, if any); returns the variables to set."""
    own = checkpoint_folder(runs_dir, trial)
    parent = (labels or {}).get(PARENT_LABEL)
    parent_folder = checkpoint_folder(runs_dir, parent) if parent else None
    if not own.exists():
        staging = own.with_name(f".{FOLDER}-staging")
        shutil.rmtree(staging, ignore_errors=True)
        if parent_folder is not None and parent_folder.is_dir():
            shutil.copytree(parent_folder, staging)
        else:
            staging.mkdir(parents=True)
        staging.rename(own)
    env = {CHECKPOINT_ENV: str(own)}
    if parent_folder is not None:
        env[PARENT_CHECKPOINT_ENV] = str(parent_folder)
    return env


def rewrite_mount_path(text: str, mount_path: str | None, folder: str) -> str:
    """Katib mounts a pbt trial's folder at `suggestion_trial_dir`; locally that path means `folder`."""
    if not mount_path:
        return text
    return text.replace(mount_path.rstrip("/") or "/", folder)
