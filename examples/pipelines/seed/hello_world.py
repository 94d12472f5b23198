from pipelines import kfp

KUBEFLOW_HOST = "http://127.0.0.1:8080/pipeline"

# 함수 정의
def hello_world_component():
    ret = "Hello World!"
    print(ret)
    return ret


# 함수를 컴포넌트로 변경
@kfp.dsl.pipeline(name="hello_pipeline", description="Hello World Pipeline!")
def hello_world_pipeline():
    hello_world_op = kfp.components.func_to_container_op(hello_world_component)
    _ = hello_world_op()


if __name__ == "__main__":
    # 컴파일한 후 등록하는 방법
    kfp.compiler.Compiler().compile(hello_world_pipeline, "hello-world-pipeline.zip")
    # 바로 등록
    kfp.Client(host=KUBEFLOW_HOST).create_run_from_pipeline_func(
        hello_world_pipeline, arguments={}, experiment_name="hello-world-experiment"
    )
