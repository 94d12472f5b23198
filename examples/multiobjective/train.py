"""Train a decision tree on scikit-learn's bundled digits and print two metrics to trade off.

`accuracy` (held-out, to maximise) and `leaves` (the tree's size, to minimise: a smaller tree is faster
and easier to read). Each `name=value` line is read by tuner's StdOut collector.
"""

from __future__ import annotations

import argparse

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-depth", type=int, required=True)
    parser.add_argument("--min-samples-leaf", type=int, required=True)
    parser.add_argument("--criterion", choices=["gini", "entropy"], required=True)
    args = parser.parse_args()
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)
    tree = DecisionTreeClassifier(
        max_depth=args.max_depth,
        min_samples_leaf=args.min_samples_leaf,
        criterion=args.criterion,
        random_state=0,
    ).fit(x_train, y_train)
    print(f"accuracy={tree.score(x_test, y_test):.4f}")
    print(f"leaves={tree.get_n_leaves()}")


if __name__ == "__main__":
    main()
