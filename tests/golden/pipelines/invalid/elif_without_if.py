# error: dsl.Elif must directly follow a dsl.If or dsl.Elif block
from pipelines.kfp import dsl


@dsl.component
def value() -> int:
    return 1


@dsl.pipeline(name="elif-without-if")
def elif_without_if():
    v = value()
    with dsl.Elif(v.output > 1):
        value()
