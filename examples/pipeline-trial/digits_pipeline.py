"""A two-step pipeline, prepare data -> train, tuned by experiment.yaml (each trial is one pipeline run).

The `prepare` step splits scikit-learn's bundled digits dataset and writes it as an artifact; `train` fits
an SGD classifier on it with the trial's hyperparameters and logs its validation accuracy to a Metrics
artifact, which becomes the trial's `accuracy`. Run it alone with
`tuner pipelines run examples/pipeline-trial/digits_pipeline.py --arg lr=0.05`.
"""

from pipelines.kfp import dsl
from pipelines.kfp.dsl import Dataset, Input, Metrics, Output


@dsl.component
def prepare(test_fraction: float, seed: int, data: Output[Dataset]):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    with open(data.path, "wb") as handle:
        np.savez(handle, x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test)
    data.metadata["rows"] = len(y)


@dsl.component
def train(data: Input[Dataset], lr: float, alpha: float, epochs: int, metrics: Output[Metrics]) -> float:
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    arrays = np.load(data.path)
    model = SGDClassifier(
        learning_rate="constant", eta0=lr, alpha=alpha, max_iter=epochs, tol=None, random_state=0
    )
    model.fit(arrays["x_train"], arrays["y_train"])
    accuracy = float(model.score(arrays["x_test"], arrays["y_test"]))
    metrics.log_metric("accuracy", accuracy)
    print(f"accuracy={accuracy:.4f}")
    return accuracy


@dsl.pipeline(name="digits-two-step")
def digits_two_step(lr: float = 0.01, alpha: float = 0.0001, epochs: int = 10, test_fraction: float = 0.25):
    data = prepare(test_fraction=test_fraction, seed=7)
    train(data=data.outputs["data"], lr=lr, alpha=alpha, epochs=epochs)
