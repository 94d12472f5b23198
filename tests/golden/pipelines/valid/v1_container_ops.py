"""KFP v1 style: two ContainerOps writing the same absolute path (kept apart), their outputs passed on."""

from pipelines.kfp import dsl


def write_op(text):
    return dsl.ContainerOp(
        name="write",
        image="alpine:3",
        command=["sh", "-c"],
        arguments=['echo "$0" | tee $1', text, "/tmp/results.txt"],
        file_outputs={"data": "/tmp/results.txt"},
    )


@dsl.pipeline(name="Same output path")
def same_path(first="one", second="two"):
    a = write_op(first)
    b = write_op(second)
    dsl.ContainerOp(
        name="join",
        image="alpine:3",
        command=["sh", "-c", 'echo "$0+$1"'],
        arguments=[a.output, b.output],
    )
