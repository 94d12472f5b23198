"""tuner: Katib-compatible hyperparameter tuning."""

from tuner._version import __version__

__all__ = ["__version__"]
