"""KFP v1 style: InputPath/OutputPath (the `_path` suffix is dropped from the names), create_component_from_func
with packages_to_install, a ContainerOp reading a file output, a value output read by a ContainerOp."""

from functools import partial

from pipelines.kfp import dsl
from pipelines.kfp.components import InputPath, OutputPath, create_component_from_func


@create_component_from_func
def make_rows(count: int, rows_path: OutputPath("csv")):
    with open(rows_path, "w") as handle:
        for i in range(count):
            handle.write(f"{i},{i * i}\n")


@partial(create_component_from_func, packages_to_install=["tuner-test-not-installed==0.0.1"])
def total(rows_path: InputPath("csv"), report_path: OutputPath("txt")) -> int:
    with open(rows_path) as handle:
        value = sum(int(line.split(",")[1]) for line in handle if line.strip())
    with open(report_path, "w") as handle:
        handle.write(f"total={value}\n")
    return value


@dsl.pipeline(name="file passing")
def file_passing(count: int = 4):
    rows = make_rows(count)
    summed = total(rows.outputs["rows"])
    dsl.ContainerOp(
        name="show report",
        image="library/bash:4.4.23",
        command=["sh", "-c"],
        arguments=['echo "report: $0"; echo "value: $1"', summed.outputs["report"], summed.outputs["Output"]],
    )
