# error: tasks wait for each other in a cycle: step -> step-2 -> step-3 -> step (each waits for the one before it);
from pipelines.kfp import dsl


@dsl.component
def step():
    pass


@dsl.pipeline(name="cycle")
def cycle():
    a = step()
    b = step().after(a)
    c = step().after(b)
    a.after(c)
    step().after(c)  # waits on the cycle without being on it: not named
