"""A one-task pipeline whose task writes its model with `tuner.log_model(model, path=output.path)`."""

from pipelines.kfp import dsl
from pipelines.kfp.dsl import Model, Output


@dsl.component
def train(c: float, model: Output[Model]) -> float:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    import tuner

    x, y = load_digits(return_X_y=True)
    fitted = LogisticRegression(C=c, max_iter=100).fit(x[:400], y[:400])
    tuner.log_model(fitted, name="piped", input_example=x[:2], path=model.path)
    return float(fitted.score(x[1000:1200], y[1000:1200]))


@dsl.pipeline(name="train-with-model")
def train_pipeline(c: float = 1.0):
    train(c=c)
