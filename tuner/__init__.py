"""tuner: Katib-compatible hyperparameter tuning.

The public names load lazily (module-level `__getattr__`): `import tuner` stays cheap, and the core
modules (`tuner.spec`, `tuner.store`, ...) that the engines import never pull in the surfaces
(`tuner.api` imports the controller, which imports `tuner.spec`, which runs this file).
"""

from __future__ import annotations

import importlib
from typing import Any

from tuner._version import __version__

_LAZY = {
    "tune": ("tuner.api", "tune"),
    "TuneResult": ("tuner.api", "TuneResult"),
    "TrialResult": ("tuner.api", "TrialResult"),
    "Client": ("tuner.client", "Client"),
    "report": ("tuner.reporting", "report"),
    "report_metrics": ("tuner.reporting", "report_metrics"),
    "TrialStopped": ("tuner.reporting", "TrialStopped"),
    "search": ("tuner.search", None),
    "load_experiment": ("tuner.spec", "load_experiment"),
    "TunerError": ("tuner.errors", "TunerError"),
    "ExperimentFailedError": ("tuner.errors", "ExperimentFailedError"),
    "log_model": ("serving.logged", "log_model"),
    "checkpoint_dir": ("tuner.checkpoints", "checkpoint_dir"),
    "parent_checkpoint_dir": ("tuner.checkpoints", "parent_checkpoint_dir"),
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tuner' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
