"""pipelines/MISSING.md against KFP's own public names: each name it lists is really absent from
`pipelines.kfp`, and each name KFP exports that it does not list is present.

KFP's names are data here, read from the SDK sources: kfp 1.8.22 (`kfp/dsl/__init__.py`, the `__all__` of the
modules `kfp/components/__init__.py` star-imports, `kfp/compiler/__init__.py`, the public methods of
`kfp._client.Client`) and kfp 2.17.3 (`kfp.dsl.__all__`, `kfp.components.__all__`, `kfp.compiler`, the public
methods of `kfp.client.Client`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pipelines import kfp
from pipelines.kfp import compiler, components, dsl

MISSING = Path(__file__).resolve().parents[2] / "pipelines" / "MISSING.md"

V1_DSL = [
    "BaseOp", "Condition", "ContainerOp", "EXECUTION_ID_PLACEHOLDER", "ExitHandler", "InputArgumentPath",
    "OpsGroup", "ParallelFor", "Pipeline", "PipelineConf", "PipelineExecutionMode", "PipelineParam",
    "PipelineVolume", "ROOT_PARAMETER_NAME", "RUN_ID_PLACEHOLDER", "ResourceOp", "Sidecar", "SubGraph",
    "UserContainer", "VOLUME_MODE_ROM", "VOLUME_MODE_RWM", "VOLUME_MODE_RWO", "VolumeOp", "VolumeSnapshotOp",
    "component", "get_pipeline_conf", "graph_component", "importer", "match_serialized_pipelineparam",
    "pipeline", "python_component",
]  # fmt: skip
V1_COMPONENTS = [
    "ComponentStore", "InputArtifact", "InputBinaryFile", "InputPath", "InputTextFile", "OutputArtifact",
    "OutputBinaryFile", "OutputPath", "OutputTextFile", "create_component_from_airflow_op",
    "create_component_from_func", "create_component_from_func_v2", "create_graph_component_from_pipeline_func",
    "default_base_image_or_builder", "func_to_component_text", "func_to_container_op", "load_component",
    "load_component_from_file", "load_component_from_text", "load_component_from_url",
]  # fmt: skip
V1_COMPILER = ["Compiler", "VersionedDependency", "build_docker_image", "build_python_component"]
V1_CLIENT = [
    "archive_experiment", "create_experiment", "create_recurring_run", "create_run_from_pipeline_func",
    "create_run_from_pipeline_package", "delete_experiment", "delete_job", "delete_pipeline",
    "delete_pipeline_version", "disable_job", "get_experiment", "get_kfp_healthz", "get_pipeline",
    "get_pipeline_id", "get_recurring_run", "get_run", "get_user_namespace", "list_experiments",
    "list_pipeline_versions", "list_pipelines", "list_recurring_runs", "list_runs", "run_pipeline",
    "set_user_namespace", "upload_pipeline", "upload_pipeline_version", "wait_for_run_completion",
]  # fmt: skip
V2_DSL = [
    "Input", "Output", "InputPath", "OutputPath", "PipelineTaskFinalStatus", "TaskConfig", "Artifact",
    "ClassificationMetrics", "Dataset", "HTML", "Markdown", "Metrics", "Model", "SlicedClassificationMetrics",
    "get_uri", "PIPELINE_JOB_NAME_PLACEHOLDER", "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER", "PIPELINE_TASK_NAME_PLACEHOLDER", "PIPELINE_TASK_ID_PLACEHOLDER",
    "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER", "PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER", "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER", "WORKSPACE_PATH_PLACEHOLDER", "run_notebook", "component",
    "container_component", "pipeline", "importer", "ContainerSpec", "Condition", "If", "Elif", "Else", "OneOf",
    "ExitHandler", "ParallelFor", "Collected", "IfPresentPlaceholder", "ConcatPlaceholder", "PipelineTask",
    "PipelineConfig", "WorkspaceConfig", "KubernetesWorkspaceConfig", "TaskConfigField", "TaskConfigPassthrough",
    "notebook_component",
]  # fmt: skip
V2_COMPONENTS = [
    "BaseComponent", "ContainerComponent", "PythonComponent", "YamlComponent", "load_component_from_file",
    "load_component_from_text", "load_component_from_url",
]  # fmt: skip
V2_COMPILER = ["Compiler", "KubernetesManifestOptions"]
V2_CLIENT = [
    "archive_experiment", "archive_run", "create_experiment", "create_recurring_run",
    "create_run_from_pipeline_func", "create_run_from_pipeline_package", "delete_experiment", "delete_job",
    "delete_pipeline", "delete_pipeline_version", "delete_recurring_run", "delete_run", "disable_job",
    "disable_recurring_run", "enable_job", "enable_recurring_run", "get_experiment", "get_kfp_healthz",
    "get_pipeline", "get_pipeline_id", "get_pipeline_version", "get_recurring_run", "get_run",
    "get_user_namespace", "list_experiments", "list_pipeline_versions", "list_pipelines", "list_recurring_runs",
    "list_runs", "run_pipeline", "set_user_namespace", "terminate_run", "unarchive_experiment", "unarchive_run",
    "upload_pipeline", "upload_pipeline_from_pipeline_func", "upload_pipeline_version",
    "upload_pipeline_version_from_pipeline_func", "wait_for_run_completion",
]  # fmt: skip

# MISSING.md section -> (KFP's names there, where `pipelines.kfp` has them)
SECTIONS: dict[str, tuple[list[str], Any]] = {
    "v1 kfp.dsl": (V1_DSL, dsl),
    "v1 kfp.components": (V1_COMPONENTS, components),
    "v1 kfp.compiler": (V1_COMPILER, compiler),
    "v1 kfp.Client": (V1_CLIENT, kfp.Client),
    "v2 kfp.dsl": (V2_DSL, dsl),
    "v2 kfp.components": (V2_COMPONENTS, components),
    "v2 kfp.compiler": (V2_COMPILER, compiler),
    "v2 kfp.client.Client": (V2_CLIENT, kfp.Client),
}


def listed() -> dict[str, dict[str, str]]:
    """MISSING.md's sections: heading -> {name: reason}."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in MISSING.read_text().splitlines():
        heading = re.fullmatch(r"## (v[12] .+)", line)
        if heading:
            current = sections.setdefault(heading.group(1), {})
            continue
        item = re.fullmatch(r"- `([A-Za-z_][A-Za-z0-9_]*)` — (.+)", line)
        if item:
            assert current is not None, f"{line!r} comes before any section"
            assert item.group(1) not in current, f"{item.group(1)} is listed twice"
            current[item.group(1)] = item.group(2)
    return sections


def test_missing_md_has_a_section_for_each_kfp_namespace() -> None:
    assert list(listed()) == list(SECTIONS)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_listed_names_are_kfp_names_and_really_absent(section: str) -> None:
    names, where = SECTIONS[section]
    missing = listed()[section]
    assert sorted(set(missing) - set(names)) == [], "listed, but KFP does not have these"
    assert sorted(n for n in missing if hasattr(where, n)) == [], "listed as missing, but present"
    assert all(len(reason) > 20 for reason in missing.values()), "each name needs a reason"


@pytest.mark.parametrize("section", list(SECTIONS))
def test_every_kfp_name_not_listed_is_present(section: str) -> None:
    names, where = SECTIONS[section]
    missing = listed()[section]
    assert sorted(n for n in names if n not in missing and not hasattr(where, n)) == []
