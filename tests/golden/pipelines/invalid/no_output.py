# error: a Python component has an output only when the function has a return annotation
from pipelines.kfp import dsl
from pipelines.kfp.components import func_to_container_op


def hello():
    print("hello")
    return "hello"


@dsl.pipeline(name="no-output")
def no_output():
    greeting = func_to_container_op(hello)()
    func_to_container_op(hello)().after(greeting)
    print(greeting.output)
