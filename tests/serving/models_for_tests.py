"""Models the serving tests register: real scikit-learn models and two misbehaving 'python' models."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def digits(c: float = 1.0) -> tuple[Any, np.ndarray, np.ndarray]:
    """A fitted digits classifier (scaler + logistic regression), its inputs and labels."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=200)).fit(x[:600], y[:600])
    return model, x, y


class Broken:
    """A model whose every prediction fails (the canary that must be rolled back)."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        raise RuntimeError("this model is broken on purpose")


class Slow:
    """A model that answers correctly-shaped zeros, slowly (the canary whose latency is too high)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(self.seconds)
        return np.zeros(len(batch), dtype=np.int64)
