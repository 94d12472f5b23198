"""Early-stopping algorithms by name (`spec.earlyStopping.algorithmName`)."""

from __future__ import annotations

from controllers.earlystopping.asha import Asha
from controllers.earlystopping.base import EarlyStopper, Progress, StopDecision
from controllers.earlystopping.medianstop import MedianStop

ALGORITHMS: dict[str, type[EarlyStopper]] = {MedianStop.name: MedianStop, Asha.name: Asha}

__all__ = ["ALGORITHMS", "Asha", "EarlyStopper", "MedianStop", "Progress", "StopDecision"]
