"""The pipeline DSL: KFP v1 names (`pipeline`, `ContainerOp`, `Condition`, `ExitHandler`, `python_component`,
`InputPath`, `OutputPath`) and the KFP v2 style (`component`, `If`/`Elif`/`Else`, `ParallelFor`,
`Collected`, `Input[...]`/`Output[...]` with artifact classes).

Implementation lives in the submodules; this module only re-exports the public names.
"""

from pipelines.dsl.channels import Channel as PipelineParam
from pipelines.dsl.component_yaml import (
    load_component_from_file,
    load_component_from_text,
    load_component_from_url,
)
from pipelines.dsl.components import (
    Component,
    ContainerSpec,
    component,
    container_component,
    create_component_from_func,
    func_to_container_op,
    python_component,
)
from pipelines.dsl.conf import PipelineConf, get_pipeline_conf
from pipelines.dsl.control import (
    Collected,
    Condition,
    Elif,
    Else,
    ExitHandler,
    If,
    OneOf,
    OpsGroup,
    ParallelFor,
    SubGraph,
)
from pipelines.dsl.graph import graph_component
from pipelines.dsl.importer import importer
from pipelines.dsl.pipeline import Pipeline, pipeline
from pipelines.dsl.placeholders import ConcatPlaceholder, IfPresentPlaceholder
from pipelines.dsl.resources import ResourceOp
from pipelines.dsl.sidecars import Sidecar, UserContainer
from pipelines.dsl.tasks import ContainerOp, PipelineTask
from pipelines.dsl.types import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    InputPath,
    Markdown,
    Metrics,
    Model,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
    SlicedClassificationMetrics,
)
from pipelines.dsl.volumes import (
    VOLUME_MODE_ROM,
    VOLUME_MODE_RWM,
    VOLUME_MODE_RWO,
    PipelineVolume,
    VolumeOp,
)

BaseOp = PipelineTask  # KFP v1: the base of ContainerOp, ResourceOp and VolumeOp (here of every task)
# Run-time values, written as the Argo variables that stand for them (Argo fills them in on a cluster; the
# local runner fills in the same tokens: pipelines.runner.task.runtime_placeholders).
RUN_ID_PLACEHOLDER = "{{workflow.uid}}"
EXECUTION_ID_PLACEHOLDER = "{{workflow.uid}}-{{pod.name}}"
PIPELINE_JOB_ID_PLACEHOLDER = RUN_ID_PLACEHOLDER
PIPELINE_TASK_ID_PLACEHOLDER = EXECUTION_ID_PLACEHOLDER
PIPELINE_JOB_NAME_PLACEHOLDER = "{{workflow.name}}"
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = "{{workflow.name}}"
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = "{{workflow.creationTimestamp}}"

__all__ = [
    "EXECUTION_ID_PLACEHOLDER",
    "HTML",
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_TASK_ID_PLACEHOLDER",
    "RUN_ID_PLACEHOLDER",
    "VOLUME_MODE_ROM",
    "VOLUME_MODE_RWM",
    "VOLUME_MODE_RWO",
    "Artifact",
    "BaseOp",
    "ClassificationMetrics",
    "Collected",
    "Component",
    "ConcatPlaceholder",
    "Condition",
    "ContainerOp",
    "ContainerSpec",
    "Dataset",
    "Elif",
    "Else",
    "ExitHandler",
    "If",
    "IfPresentPlaceholder",
    "Input",
    "InputPath",
    "Markdown",
    "Metrics",
    "Model",
    "OneOf",
    "OpsGroup",
    "Output",
    "OutputPath",
    "ParallelFor",
    "Pipeline",
    "PipelineConf",
    "PipelineParam",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "PipelineVolume",
    "ResourceOp",
    "Sidecar",
    "SlicedClassificationMetrics",
    "SubGraph",
    "UserContainer",
    "VolumeOp",
    "component",
    "container_component",
    "create_component_from_func",
    "func_to_container_op",
    "get_pipeline_conf",
    "graph_component",
    "importer",
    "load_component_from_file",
    "load_component_from_text",
    "load_component_from_url",
    "pipeline",
    "python_component",
]
