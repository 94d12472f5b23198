from pipelines import kfp
from pipelines.kfp import components
from pipelines.kfp import dsl

EXPERIMENT_NAME = 'Add number pipeline'
BASE_IMAGE = "python:3.7"
KUBEFLOW_HOST = "http://127.0.0.1:8080/pipeline"

# 컴포넌트 정보 세팅
@dsl.python_component(
    name='add_op',
    description='adds two numbers',
    base_image=BASE_IMAGE 
)
def add(a: float, b: float) -> float:
    print(a, '+', b, '=', a + b)
    return a + b

# 함수를 pipeline operation으로 변경
add_op = components.func_to_container_op(
    add,
    base_image=BASE_IMAGE,
)

# 파이프라인 정보 세팅
@dsl.pipeline(
    name='Calculation pipeline',
    description='A toy pipeline that performs arithmetic calculations.'
)
def calc_pipeline(
        a: float = 0,
        b: float = 7
):
    add_task = add_op(a, 4) 
    add_2_task = add_op(a, b)
    add_3_task = add_op(add_task.output, add_2_task.output)


if __name__ == "__main__":
    arguments = {'a': '7', 'b': '8'}
    
    kfp.Client(host=KUBEFLOW_HOST).create_run_from_pipeline_func(
        calc_pipeline,
        arguments=arguments,
        experiment_name=EXPERIMENT_NAME)
