"""Errors that tell the reconcile loop what to do next (the model is kopf's temporary/permanent errors).

TemporaryError(delay)   something may work later (a busy database, a suggestion service restarting):
                        log it and reconcile again after `delay` seconds
PermanentError          retrying cannot help (an invalid spec, an algorithm refusing its settings):
                        the experiment ends Failed with the message
"""

from __future__ import annotations

from tuner.errors import TunerError


class TemporaryError(TunerError):
    """Retry the reconcile after `delay` seconds."""

    def __init__(self, message: str, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(TunerError):
    """Stop reconciling this experiment: it fails with this message."""
