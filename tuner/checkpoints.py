"""`tuner.checkpoint_dir()` and `tuner.parent_checkpoint_dir()`: where a trial keeps and finds its state.

Every local trial (of `tuner run` or `tuner.tune`) has a checkpoint folder of its own. With `pbt` a trial
continues a member of the population: its folder starts as a copy of its parent's (the trial whose model it
continues), so the usual pattern is "load from `checkpoint_dir()` if something is there, train, save to
`checkpoint_dir()`". The parent's folder is also named, for code that wants to read it directly; it is None
in pbt's first generation and for other algorithms. Process trials find the same paths in the environment
variables TUNER_CHECKPOINT_DIR and TUNER_PARENT_CHECKPOINT_DIR (and a template may write
`$(TUNER_CHECKPOINT_DIR)` in its command or args, or pbt's `suggestion_trial_dir`, Katib's mount path).
"""

from __future__ import annotations

from pathlib import Path

from tuner.reporting import trial_environ

CHECKPOINT_ENV = "TUNER_CHECKPOINT_DIR"
PARENT_CHECKPOINT_ENV = "TUNER_PARENT_CHECKPOINT_DIR"


def checkpoint_dir() -> Path:
    """This trial's checkpoint folder (it exists; with pbt it holds a copy of the parent's checkpoint).

    Raises:
        RuntimeError: not called from inside a trial of `tuner run` or `tuner.tune`.
    """
    path = trial_environ().get(CHECKPOINT_ENV)
    if not path:
        raise RuntimeError(
            f"tuner.checkpoint_dir() was called outside a trial: run this code as a trial of `tuner run` or "
            f"`tuner.tune`, or set {CHECKPOINT_ENV} to a folder"
        )
    return Path(path)


def parent_checkpoint_dir() -> Path | None:
    """The checkpoint folder of the trial this one continues (pbt), None when there is none."""
    path = trial_environ().get(PARENT_CHECKPOINT_ENV)
    return Path(path) if path else None
