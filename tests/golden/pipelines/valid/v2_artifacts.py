"""KFP v2 style: Output[Dataset] -> Input[Dataset] -> Output[Model], Output[Metrics], an exit task with
PipelineTaskFinalStatus, settings (display name, cpu/memory limits, timeout, env)."""

from pipelines.kfp import dsl
from pipelines.kfp.dsl import Dataset, Input, Metrics, Model, Output, PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def prepare(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as handle:
        handle.write("\n".join(str(i) for i in range(rows)))
    data.metadata["rows"] = rows


@dsl.component
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics]) -> float:
    import os

    with open(data.path) as handle:
        values = [int(line) for line in handle if line.strip()]
    mean = sum(values) / len(values)
    with open(model.path, "w") as handle:
        handle.write(f"mean={mean}\nseed={os.environ.get('SEED', '')}\n")
    metrics.log_metric("mean", mean)
    return mean


@dsl.component
def report(status: PipelineTaskFinalStatus, note: str):
    print(note, status.state, status.error_message)


@dsl.pipeline(name="v2-artifacts")
def artifacts_pipeline(rows: int = 5):
    notify = report(note="finished:")
    with dsl.ExitHandler(notify):
        data = (
            prepare(rows=rows).set_display_name("Prepare data").set_cpu_limit("1").set_memory_limit("256Mi")
        )
        train(data=data.outputs["data"]).set_timeout(60).set_env_variable("SEED", "42")
