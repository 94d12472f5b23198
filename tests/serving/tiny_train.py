"""A process trial for the serving tests: fit a small digits classifier, print accuracy, log the model."""

from __future__ import annotations

import argparse

import tuner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--c", type=float, required=True)
    args = parser.parse_args()
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    x, y = load_digits(return_X_y=True)
    model = LogisticRegression(C=args.c, max_iter=100).fit(x[:400], y[:400])
    print(f"accuracy={model.score(x[1000:1400], y[1000:1400]):.4f}", flush=True)
    tuner.log_model(model, name="tiny", input_example=x[:3])  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
