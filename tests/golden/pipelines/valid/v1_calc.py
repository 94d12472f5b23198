"""KFP v1 style: dsl.python_component names a function, func_to_container_op makes it a component,
positional arguments, an untyped-looking name with spaces; float inputs get int literals."""

from pipelines.kfp import components, dsl


@dsl.python_component(name="add_op", description="adds two numbers", base_image="python:3.7")
def add(a: float, b: float) -> float:
    print(a, "+", b, "=", a + b)
    return a + b


add_op = components.func_to_container_op(add, base_image="python:3.7")


@dsl.pipeline(
    name="Calculation pipeline", description="A toy pipeline that performs arithmetic calculations."
)
def calc_pipeline(a: float = 0, b: float = 7):
    first = add_op(a, 4)
    second = add_op(a, b)
    add_op(first.output, second.output)
