"""A toy model for population based training: gradient descent on an ill-conditioned quadratic.

The model state (weights and steps taken) lives in `state.json` in the trial's checkpoint folder. One trial
trains one generation: it loads the state its checkpoint folder holds (with pbt, a copy of its parent's;
empty in the first generation), takes `steps` steps with learning rate `lr` and saves the state back. Too
large a rate diverges on the steep directions, too small a rate crawls on the flat ones, so the population
gains from copying the members whose rate works. Standard library only, so a trial process starts fast.

As a process (what experiment.yaml runs): ``python3 toy.py --lr=0.01 --checkpoint=DIR [--steps=20]``
prints ``loss=<value>`` for Katib's StdOut collector.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

CURVATURES = (1.0, 3.0, 10.0, 30.0, 60.0)
"""The quadratic's curvature per weight: rates above 2/60 diverge, small rates barely move the first."""

START = 1.0
STATE = "state.json"


def loss(weights: list[float]) -> float:
    """The model's loss: 0.5 * sum(c * w^2); its minimum is 0 at w = 0."""
    return 0.5 * sum(c * w * w for c, w in zip(CURVATURES, weights, strict=True))


def train_generation(lr: float, checkpoint: Path, steps: int = 20) -> float:
    """Resume from `checkpoint` (if it holds a state), train `steps` steps, save, return the loss."""
    path = checkpoint / STATE
    if path.exists():
        state = json.loads(path.read_text())
    else:
        state = {"weights": [START] * len(CURVATURES), "steps": 0}
    weights = [float(w) for w in state["weights"]]
    for _ in range(steps):
        weights = [w - lr * c * w for c, w in zip(CURVATURES, weights, strict=True)]
        weights = [max(-1e6, min(1e6, w)) for w in weights]  # a diverging member stays a finite, bad number
    state = {"weights": weights, "steps": int(state["steps"]) + steps, "lr": lr}
    checkpoint.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))
    value = loss(weights)
    return value if math.isfinite(value) else 1e12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"loss={train_generation(args.lr, args.checkpoint, args.steps)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
