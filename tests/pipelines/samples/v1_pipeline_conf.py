"""KFP v1 pipeline-wide settings: `dsl.get_pipeline_conf()` (parallelism, TTL, image pull secrets, an op
transformer that sets a memory limit on every task) and `dsl.RUN_ID_PLACEHOLDER` /
`dsl.EXECUTION_ID_PLACEHOLDER` passed to a Python component and to a ContainerOp."""

from pipelines import kfp
from pipelines.kfp import components, dsl


def record_ids(run_id: str, execution_id: str) -> str:
    print(f"run {run_id} execution {execution_id}")
    return run_id


record_ids_op = components.create_component_from_func(record_ids, base_image="python:3.9")


def limit_memory(op):
    return op.set_memory_limit("256Mi")


@dsl.pipeline(name="Pipeline conf", description="Pipeline-wide settings and run-id placeholders.")
def pipeline_conf():
    conf = dsl.get_pipeline_conf()
    conf.set_parallelism(1)
    conf.set_ttl_seconds_after_finished(3600)
    conf.set_image_pull_secrets([{"name": "registry-credentials"}])
    conf.add_op_transformer(limit_memory)
    record_ids_op(dsl.RUN_ID_PLACEHOLDER, dsl.EXECUTION_ID_PLACEHOLDER)
    dsl.ContainerOp(name="print-run", image="alpine", command=["echo", "run", dsl.RUN_ID_PLACEHOLDER])


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(pipeline_conf, __file__ + ".yaml")
