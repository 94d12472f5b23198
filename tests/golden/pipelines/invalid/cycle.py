# error: tasks wait for each other in a cycle
from pipelines.kfp import dsl


@dsl.component
def step():
    pass


@dsl.pipeline(name="cycle")
def cycle():
    a = step()
    b = step().after(a)
    a.after(b)
