# error: set_retry: num_retries must be an integer >= 0
from pipelines.kfp import dsl


@dsl.component
def step():
    pass


@dsl.pipeline(name="bad-retry")
def bad_retry():
    step().set_retry(-1)
