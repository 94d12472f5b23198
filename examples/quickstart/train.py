"""Train a linear classifier on scikit-learn's bundled digits dataset; print metrics as `name=value`.

This is the trial of the quickstart experiment: tuner (like Katib's StdOut collector) reads the
`accuracy=0.93` style lines this prints. It needs nothing but scikit-learn and runs in about a second.

    python3 train.py --lr=0.01 --alpha=0.0001 --loss=hinge --epochs=10

Each epoch prints `epoch=N accuracy=... train_accuracy=...` (`epoch` is not a declared metric, so
collectors ignore it; it is there for people reading the log). Options for the other examples:
`--metrics-file PATH` writes the lines to a file instead (TEXT), `--metrics-format json` writes one JSON
object per line (Katib's JSON format: values as strings), and `--push` reports through `tuner.report`.
Run as a trial (TUNER_TRIAL_NAME set), it keeps its fitted model with `tuner.log_model` under the name
`quickstart`, so `tuner models promote quickstart-digits --model quickstart` can register the best one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LOSSES = ("hinge", "log_loss", "modified_huber")


def train(
    params: dict[str, Any], seed: int = 0, keep: dict[str, Any] | None = None
) -> Iterator[dict[str, float]]:
    """Train for `params["epochs"]` epochs, yielding each epoch's validation and training accuracy.

    `params`: lr (float > 0), alpha (float > 0), loss (one of LOSSES), epochs (int >= 1). When `keep` is
    given, it receives the fitted model (`keep["model"]`: scaler and classifier as one scikit-learn
    pipeline that takes raw digit pixels) and a few validation rows (`keep["example"]`) at the end.
    """
    import numpy as np  # imported here so that `--help` and argument errors are instant
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    features, labels = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        features, labels, test_size=0.25, random_state=seed, stratify=labels
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    model = SGDClassifier(
        loss=params["loss"],
        alpha=float(params["alpha"]),
        learning_rate="invscaling",
        eta0=float(params["lr"]),
        random_state=seed,
    )
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    for epoch in range(1, int(params["epochs"]) + 1):
        order = rng.permutation(len(x_train))
        model.partial_fit(x_train[order], y_train[order], classes=classes)
        yield {
            "epoch": epoch,
            "accuracy": float(model.score(x_val, y_val)),
            "train_accuracy": float(model.score(x_train, y_train)),
        }
    if keep is not None:
        from sklearn.pipeline import Pipeline

        keep["model"] = Pipeline([("scale", scaler), ("classify", model)])
        keep["example"] = scaler.inverse_transform(x_val[:5])


def _line(metrics: dict[str, float], fmt: str) -> str:
    if fmt == "json":  # Katib's JSON format wants the values as strings
        return json.dumps({name: str(value) for name, value in metrics.items()})
    return " ".join(
        f"{name}={value:.4f}" if isinstance(value, float) else f"{name}={value}"
        for name, value in metrics.items()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, required=True, help="initial learning rate (eta0)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 regularisation strength")
    parser.add_argument("--loss", choices=LOSSES, default="hinge", help="the linear model's loss")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training data")
    parser.add_argument("--seed", type=int, default=0, help="data split and shuffling seed")
    parser.add_argument("--metrics-file", type=Path, help="write metric lines to this file instead of stdout")
    parser.add_argument(
        "--metrics-format", choices=("text", "json"), default="text", help="format of metric lines"
    )
    parser.add_argument("--push", action="store_true", help="also report the final metrics with tuner.report")
    parser.add_argument(
        "--no-log-model", action="store_true", help="do not keep the model with the trial (tuner.log_model)"
    )
    args = parser.parse_args(argv)

    params = {"lr": args.lr, "alpha": args.alpha, "loss": args.loss, "epochs": args.epochs}
    if args.metrics_file:
        args.metrics_file.parent.mkdir(parents=True, exist_ok=True)
    sink = (
        args.metrics_file.open("w", encoding="utf-8")
        if args.metrics_file
        else contextlib.nullcontext(sys.stdout)
    )
    final: dict[str, float] = {}
    kept: dict[str, Any] = {}
    with sink as out:
        for metrics in train(params, seed=args.seed, keep=kept):
            print(_line(metrics, args.metrics_format), file=out, flush=True)
            final = {k: v for k, v in metrics.items() if k != "epoch"}
    print(f"final: accuracy={final['accuracy']:.4f} train_accuracy={final['train_accuracy']:.4f}")
    if args.push:
        import tuner  # the Push collector: tuner.report writes to the file tuner gave this trial

        tuner.report(**final)
    if os.environ.get("TUNER_TRIAL_NAME") and not args.no_log_model:
        import tuner  # keep the trained model with the trial: `tuner models promote` registers the best one

        tuner.log_model(kept["model"], name="quickstart", input_example=kept["example"])  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
