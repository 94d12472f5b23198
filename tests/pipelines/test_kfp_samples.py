"""Re-creations of the patterns Kubeflow Pipelines' official samples use (tests/pipelines/samples/, written
here, not copied), each run locally with only its imports switched and each compiled to an Argo Workflow
that hera's typed models (generated from Argo's schema) accept unchanged.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hera.workflows.models import Workflow

from pipelines.compiler.argo import to_workflow
from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.loader import load_pipeline
from pipelines.runner.records import RunState, TaskState
from pipelines.runner.testing import Harness, overlapping
from tuner.errors import SpecError

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str, pipeline: str | None = None) -> PipelineSpec:
    return load_pipeline(SAMPLES / name, pipeline)


def valid_argo(spec: PipelineSpec) -> dict[str, Any]:
    """The Argo Workflow of `spec`, checked against hera's models (a field they do not know fails)."""
    document = to_workflow(spec)
    assert (
        Workflow.model_validate(document).model_dump(by_alias=True, exclude_none=True, mode="json")
        == document
    )
    return document


def templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in document["spec"]["templates"]}


# --- item 1: sys.exit(0) is a success -------------------------------------------------------------------


def test_retry_sample_sys_exit_zero_succeeds_and_nonzero_codes_are_retried(
    harness: Harness, tmp_path: Path
) -> None:
    spec = sample("v2_retry.py")
    result = harness.run(spec, {"counter_dir": str(tmp_path)})
    assert result.success(), result
    first, second = result.task("random-failure-op"), result.task("random-failure-op-2")
    assert (first.state, first.attempts) == (TaskState.SUCCEEDED, 1)
    assert (second.state, second.attempts) == (TaskState.SUCCEEDED, 3)
    assert [line for name, line in harness.observer.lines if name == "random-failure-op-2"] == [
        "1\n",
        "2\n",
        "0\n",
    ]
    argo = templates(valid_argo(spec))
    assert argo["random-failure-op-2"]["retryStrategy"]["limit"] == 10


def test_sys_exit_zero_before_returning_declared_outputs_fails_with_the_reason(
    make_pipeline: Any, harness: Harness
) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.component
        def quits(x: int) -> int:
            import sys
            sys.exit(0)

        @dsl.component
        def quits_quietly():
            import os
            os._exit(0)

        @dsl.pipeline(name="p")
        def p():
            quits(x=1)
            quits_quietly()
        """
    )
    result = harness.run(spec)
    assert result.task("quits").state == TaskState.FAILED
    assert "sys.exit(0) before returning its output(s) Output" in harness_log(result.task("quits").log_path)
    assert result.task("quits-quietly").state == TaskState.SUCCEEDED


def harness_log(path: str | None) -> str:
    assert path is not None
    return Path(path).read_text()


# --- item 2: component YAML ------------------------------------------------------------------------------


def test_v1_component_yaml_from_file_url_and_text_runs_with_its_placeholders(harness: Harness) -> None:
    spec = sample("v1_component_yaml.py")
    result = harness.run(spec)
    assert result.success(), result
    labelled, unlabelled = result.task("count-lines"), result.task("count-lines-2")
    assert labelled.outputs == {"count": 3, "summary": "lines=3 args=--label books --skip-header=True"}
    assert unlabelled.outputs == {"count": 3, "summary": "lines=3 args=--no-label --skip-header=False"}
    assert ("echo", "got: 3\n") in harness.observer.lines
    component = spec.components["count-lines"]
    assert component.inputs["text"].passing == "path" and component.inputs["skip_header"].type == "bool"
    assert component.container is not None and component.container.file_outputs == {
        "count": "/tmp/outputs/count/data",
        "summary": "/tmp/outputs/summary/data",
    }
    argo = templates(valid_argo(spec))
    step = argo["count-lines"]
    assert step["inputs"]["artifacts"] == [{"name": "text", "path": "/tmp/inputs/text/data"}]
    assert step["container"]["command"][3] == "/tmp/inputs/text/data"
    assert step["container"]["args"] == [
        "--label",
        "{{inputs.parameters.label}}",
        "--skip-header={{inputs.parameters.skip_header}}",
    ]
    assert argo["count-lines-2"]["container"]["args"][0] == "--no-label"


V2_COMPONENT = """
components:
  comp-shout:
    executorLabel: exec-shout
    inputDefinitions:
      parameters:
        text: {parameterType: STRING}
        times: {parameterType: NUMBER_INTEGER, defaultValue: 2, isOptional: true}
    outputDefinitions:
      parameters:
        Output: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-shout:
      container:
        image: python:3.9
        command:
        - sh
        - -c
        - |

          if ! [ -x "$(command -v pip)" ]; then
              python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip
          fi

          PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location 'kfp==2.7.0' '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<"3.9"' && "$0" "$@"
        - sh
        - -ec
        - |
          program_path=$(mktemp -d)

          printf "%s" "$0" > "$program_path/ephemeral_component.py"
          _KFP_RUNTIME=true python3 -m kfp.dsl.executor_main                         --component_module_path                         "$program_path/ephemeral_component.py"                         "$@"
        - |+

          import kfp
          from kfp import dsl
          from kfp.dsl import *
          from typing import *

          def shout(text: str, times: int = 2) -> str:
              return " ".join([text.upper()] * times)

        args:
        - --executor_input
        - '{{$}}'
        - --function_to_execute
        - shout
  exec-wc:
    container:
      image: alpine
pipelineInfo:
  name: shout
root:
  dag:
    tasks:
      shout:
        componentRef: {name: comp-shout}
        taskInfo: {name: shout}
schemaVersion: 2.1.0
sdkVersion: kfp-2.7.0
"""

V2_CONTAINER_COMPONENT = """
components:
  comp-word-count:
    executorLabel: exec-word-count
    inputDefinitions:
      artifacts:
        text:
          artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
      parameters:
        label: {parameterType: STRING, isOptional: true}
    outputDefinitions:
      parameters:
        count: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-word-count:
      container:
        image: alpine
        command: [sh, -c, 'wc -w < "$0" | tr -d " " > "$1"; echo "$2"']
        args:
        - '{{$.inputs.artifacts[''text''].path}}'
        - '{{$.outputs.parameters[''count''].output_file}}'
        - '{"IfPresent": {"InputName": "label", "Then": ["{{$.inputs.parameters[''label'']}}"], "Else": ["no label"]}}'
pipelineInfo:
  name: word-count
root:
  dag:
    tasks:
      word-count:
        componentRef: {name: comp-word-count}
        taskInfo: {name: word-count}
schemaVersion: 2.1.0
"""


def test_v2_component_yaml_python_and_container_executors_run(
    make_pipeline: Any, harness: Harness, tmp_path: Path
) -> None:
    (tmp_path / "shout.yaml").write_text(V2_COMPONENT)
    (tmp_path / "word_count.yaml").write_text(V2_CONTAINER_COMPONENT)
    spec = make_pipeline(
        f"""
        from pipelines.kfp import components, dsl

        shout = components.load_component_from_file({str(tmp_path / "shout.yaml")!r})
        word_count = components.load_component_from_url({(tmp_path / "word_count.yaml").as_uri()!r})

        @dsl.component
        def write(text: str, out: dsl.Output[dsl.Dataset]):
            open(out.path, "w").write(text)

        @dsl.pipeline(name="p")
        def p():
            loud = shout(text="hey")
            written = write(text=loud.output)
            word_count(text=written.outputs["out"], label="counted")
            word_count(text=written.outputs["out"])
        """
    )
    result = harness.run(spec)
    assert result.success(), result
    assert result.task("shout").outputs == {"Output": "HEY HEY"}
    assert result.task("word-count").outputs == {"count": "2"}
    assert ("word-count", "counted\n") in harness.observer.lines
    assert ("word-count-2", "no label\n") in harness.observer.lines
    assert "import kfp" not in (
        spec.components["shout"].python.source if spec.components["shout"].python else ""
    )
    valid_argo(spec)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: x\ninputs: [{type: String}]\nimplementation: {container: {image: a}}",
            "inputs[0]: each input needs a name",
        ),
        (
            "name: x\nimplementation: {container: {image: a, command: [{inputValue: nope}]}}",
            "unknown input 'nope'",
        ),
        ("name: x\nimplementation: {graph: {tasks: {}}}", "graph components are not supported"),
        (
            "name: x\nimplementation: {container: {image: a, command: [{inputUri: y}]}}",
            "placeholder 'inputUri'",
        ),
        ("just: text", "not a component"),
        ("[", "not valid YAML"),
    ],
)
def test_bad_component_yaml_names_the_field(text: str, message: str) -> None:
    from pipelines.kfp import components

    with pytest.raises(SpecError) as caught:
        components.load_component_from_text(text)
    assert message in str(caught.value)


def test_load_component_from_url_refuses_unreachable_and_unknown_schemes(tmp_path: Path) -> None:
    from pipelines.kfp import components

    with pytest.raises(SpecError, match="cannot download it"):
        components.load_component_from_url("http://127.0.0.1:9/component.yaml", timeout=5)
    with pytest.raises(SpecError, match="use an http"):
        components.load_component_from_url("ftp://example.org/c.yaml")
    with pytest.raises(SpecError, match="cannot read it"):
        components.load_component_from_url((tmp_path / "missing.yaml").as_uri())


# --- item 3: kfp.v2 ----------------------------------------------------------------------------------------


def test_kfp_v2_namespace_runs_v2_compatible_code_and_compiles_json(harness: Harness, tmp_path: Path) -> None:
    import json

    from pipelines.kfp.v2 import compiler

    spec = sample("v2_compatible.py")
    result = harness.run(spec)
    assert result.success(), result
    model = result.task("train").output_artifacts["model"]
    assert model.artifact_type == "Model" and model.metadata == {"accuracy": 0.9}
    assert Path(model.uri.removeprefix("file://")).read_text() == (
        "hello artifact world|HELLO ARTIFACT WORLD|True|18|hello,artifact,world|10"
    )
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("v2_compatible_sample", SAMPLES / "v2_compatible.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    target = tmp_path / "pipeline.json"
    compiler.Compiler().compile(pipeline_func=module.data_passing, package_path=str(target))
    assert json.loads(target.read_text())["pipeline"]["name"] == "v2-compatible-data-passing"
    valid_argo(spec)


def test_kfp_v2_names_are_the_same_objects() -> None:
    from pipelines import kfp
    from pipelines.kfp import dsl
    from pipelines.kfp.v2 import dsl as v2_dsl

    for name in ("component", "pipeline", "Input", "Output", "Model", "Dataset", "Condition", "ExitHandler"):
        assert getattr(v2_dsl, name) is getattr(dsl, name)
    assert kfp.v2.compiler.Compiler is kfp.compiler.Compiler


# --- item 7: KFP-shaped run objects, and item 10.6: a short repr ------------------------------------------


def test_run_objects_read_like_kfp_and_print_short(harness: Harness, tmp_path: Path) -> None:
    from pipelines.runner.results import RunDetail

    result = harness.run(sample("v2_retry.py"), {"counter_dir": str(tmp_path)})
    assert result.run_id == result.run.id and result.run.status == "Succeeded"
    assert result.run_info.run_id == result.run_id and result.run_info.state == "SUCCEEDED"
    detail = result.wait_for_run_completion(timeout=60)
    assert isinstance(detail, RunDetail)
    assert (detail.run.id, detail.run.status, detail.state, detail.error) == (
        result.run_id,
        "Succeeded",
        "SUCCEEDED",
        None,
    )
    text = repr(result)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith("<RunResult retry-random-failures run_id=") and "2 succeeded" in text


# --- item 6: v2 features -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "winner"), [(0, "heads wins"), (1, "tails wins"), (2, "a draw")])
def test_if_elif_else_branch_outputs_merge_with_one_of(harness: Harness, seed: int, winner: str) -> None:
    spec = sample("v2_branches.py", "one_of_branches")
    result = harness.run(spec, {"seed": seed})
    assert result.success(), result
    assert result.outputs == {"Output": winner}
    ran = [
        t.name for t in result.tasks.values() if t.task.startswith("print-and-return") and t.state.has_outputs
    ]
    assert len(ran) == 2  # one branch and the consumer of dsl.OneOf
    assert result.task("print-and-return-4").outputs == {"Output": winner}
    argo = templates(valid_argo(spec))
    consumer = next(t for t in argo["one-of-branches"]["dag"]["tasks"] if t["name"] == "print-and-return-4")
    value = consumer["arguments"]["parameters"][0]["value"]
    assert value.startswith("{{=tasks['condition-1'].status == 'Succeeded' ? ")
    # Argo counts a skipped dependency as done, so the consumer runs after whichever branch ran
    assert consumer["dependencies"] == ["condition-1", "condition-2", "condition-3"]


def test_collected_gathers_only_the_iterations_where_a_conditional_producer_ran(harness: Harness) -> None:
    spec = sample("v2_branches.py", "collected_from_a_condition")
    result = harness.run(spec)
    assert result.success() and result.outputs == {"Output": 14}
    assert [result.task(f"double[{i}]").state for i in range(4)] == [
        TaskState.SKIPPED,
        TaskState.SKIPPED,
        TaskState.SUCCEEDED,
        TaskState.SUCCEEDED,
    ]
    valid_argo(spec)


def test_one_of_needs_task_outputs() -> None:
    from pipelines.kfp import dsl

    with pytest.raises(TypeError, match="two or more task outputs"):
        dsl.OneOf("a", "b")


def test_container_components_importer_nested_pipeline_and_final_status(
    harness: Harness, tmp_path: Path
) -> None:
    data = tmp_path / "lines.txt"
    data.write_text("a\nb\nc\n")
    spec = sample("v2_containers_and_nesting.py", "containers_and_nesting")
    result = harness.run(spec, {"data_uri": str(data)})
    assert result.success(), result
    assert result.task("say-hello").outputs == {"greeting": "Hello, world!"}
    assert result.task("shout").outputs == {"Output": "HELLO, WORLD!"}  # inside the nested pipeline
    assert result.task("shout-2").outputs == {"Output": "HELLO, WORLD!"}  # the nested pipeline's output
    imported = result.task("importer").output_artifacts["artifact"]
    assert imported.artifact_type == "Dataset" and imported.metadata == {"source": "local"}
    assert result.task("count-lines").outputs == {"counted": "lines: 3"}
    assert result.task("count-lines-2").outputs == {"counted": "rows: 3"}
    assert set(spec.tasks["count-lines-2"].after) == {"say-hello", "shout"}  # .after(the nested pipeline)
    assert ("final-report", "final state SUCCEEDED (no error)\n") in harness.observer.lines
    argo = valid_argo(spec)
    assert argo["spec"]["onExit"] == "final-report"
    step = templates(argo)["count-lines"]
    assert step["container"]["args"] == ["/tmp/inputs/text/data", "/tmp/outputs/counted/data", "lines: "]


def test_importer_of_a_missing_or_remote_object_fails_saying_why(
    make_pipeline: Any, harness: Harness
) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.pipeline(name="p")
        def p():
            dsl.importer(artifact_uri="gs://bucket/model.pkl", artifact_class=dsl.Model)
            dsl.importer(artifact_uri="/nowhere/model.pkl", artifact_class=dsl.Model)
        """
    )
    result = harness.run(spec)
    assert "only local paths, file:// and http(s):// URLs" in harness_log(result.task("importer").log_path)
    assert "/nowhere/model.pkl does not exist" in harness_log(result.task("importer-2").log_path)


def test_exit_task_final_status_reports_the_failure(make_pipeline: Any, harness: Harness) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.component
        def fail_op(message: str):
            raise SystemExit(message)

        @dsl.component
        def exit_op(status: dsl.PipelineTaskFinalStatus):
            print(status.state, "|", status.error_message)

        @dsl.pipeline(name="p")
        def p():
            with dsl.ExitHandler(exit_op()):
                fail_op(message="boom")
        """
    )
    result = harness.run(spec)
    assert result.run.state == RunState.FAILED
    assert ("exit-op", "FAILED | failed: fail-op exited with code 1\n") in harness.observer.lines
    valid_argo(spec)


def test_a_pipeline_outside_a_pipeline_still_cannot_be_called() -> None:
    from pipelines.kfp import dsl

    @dsl.pipeline(name="x")
    def x() -> None:
        pass

    with pytest.raises(TypeError, match="is not called directly"):
        x()


# --- `--target argo` for v1 code: the task graph kfp 1.8 builds ----------------------------------------------


def dag_graph(document: dict[str, Any]) -> dict[str, dict[str, tuple[list[str], bool]]]:
    """Each DAG template: its tasks with (dependencies, has a `when`)."""
    return {
        t["name"]: {x["name"]: (x.get("dependencies", []), "when" in x) for x in t["dag"]["tasks"]}
        for t in document["spec"]["templates"]
        if "dag" in t
    }


def test_v1_flip_coin_with_exit_handler_has_kfp_1_8_task_graph() -> None:
    """kfp 1.8 compiles the exit-handler flip-coin sample to: the exit task as `onExit`, one DAG per group
    numbered by one counter (exit-handler-1, condition-2 ... condition-8), each condition a DAG task with a
    `when` depending on the task it compares, tasks named after their components (print-op, print-op-2...)."""
    spec = load_pipeline(
        Path(__file__).resolve().parents[2] / "examples/pipelines/seed/control.py", "flipcoin_exit_pipeline"
    )
    document = valid_argo(spec)
    assert document["spec"]["onExit"] == "print-op"
    root = document["spec"]["entrypoint"]
    flip = ["flip-coin-op"]
    assert dag_graph(document) == {
        root: {"exit-handler-1": ([], False)},
        "exit-handler-1": {
            "flip-coin-op": ([], False),
            "condition-2": (flip, True),
            "condition-5": (flip, True),
            "condition-8": (flip, True),
        },
        "condition-2": {
            "get-random-int-op": ([], False),
            "condition-3": (["get-random-int-op"], True),
            "condition-4": (["get-random-int-op"], True),
        },
        "condition-3": {"print-op-2": ([], False)},
        "condition-4": {"print-op-3": ([], False)},
        "condition-5": {
            "get-random-int-op-2": ([], False),
            "condition-6": (["get-random-int-op-2"], True),
            "condition-7": (["get-random-int-op-2"], True),
        },
        "condition-6": {"print-op-4": ([], False)},
        "condition-7": {"print-op-5": ([], False)},
        "condition-8": {"fail-op": ([], False)},
    }


def test_v1_component_yaml_pipeline_has_kfp_1_8_task_graph() -> None:
    document = valid_argo(sample("v1_component_yaml.py"))
    assert dag_graph(document) == {
        "component-yaml-pipeline": {
            "write-lines": ([], False),
            "count-lines": (["write-lines"], False),
            "count-lines-2": (["write-lines"], False),
            "echo": (["count-lines"], False),
            "echo-2": (["count-lines-2"], False),
        }
    }


# --- item 5: KFP v1 names ------------------------------------------------------------------------------------


def test_pipeline_conf_and_run_id_placeholders(harness: Harness) -> None:
    spec = sample("v1_pipeline_conf.py")
    assert spec.settings is not None and spec.settings.parallelism == 1
    assert {t.resources.memory_limit for t in spec.tasks.values() if t.resources} == {"256Mi"}
    result = harness.run(spec)
    assert result.success(), result
    run_id = result.run_id
    assert result.task("record-ids").outputs == {"Output": run_id}
    assert ("record-ids", f"run {run_id} execution {run_id}-record-ids\n") in harness.observer.lines
    assert ("print-run", f"run {run_id}\n") in harness.observer.lines
    first, second = sorted(result.tasks.values(), key=lambda t: t.started_at or 0)
    assert first.finished_at is not None and second.started_at is not None
    assert first.finished_at <= second.started_at  # parallelism 1: one after the other
    workflow = valid_argo(spec)["spec"]
    assert workflow["parallelism"] == 1
    assert workflow["ttlStrategy"] == {"secondsAfterCompletion": 3600}
    assert workflow["imagePullSecrets"] == [{"name": "registry-credentials"}]
    step = templates({"spec": workflow})["print-run"]
    assert step["container"]["command"] == ["echo", "run", "{{workflow.uid}}"]  # Argo fills it in


def test_pipeline_timeout_stops_the_run(make_pipeline: Any, harness: Harness) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.component
        def slow():
            import time
            time.sleep(600)

        @dsl.component
        def later():
            pass

        @dsl.pipeline(name="p")
        def p():
            dsl.get_pipeline_conf().set_timeout(0.5)
            later().after(slow())
        """
    )
    result = harness.run(spec)
    assert result.run.state == RunState.FAILED
    assert result.run.message == "the pipeline timed out after 0.5s (PipelineConf.set_timeout)"
    assert result.task("slow").state == TaskState.FAILED and result.task("later").state == TaskState.SKIPPED
    assert valid_argo(spec)["spec"]["activeDeadlineSeconds"] == 1


def test_pipeline_conf_given_to_compile_and_to_a_run(tmp_path: Path) -> None:
    import yaml

    from pipelines.kfp import compiler, dsl

    @dsl.pipeline(name="x")
    def x() -> None:
        dsl.ContainerOp(name="hello", image="alpine", command=["echo", "hi"])

    conf = dsl.PipelineConf().set_parallelism(3).set_image_pull_policy("Always")
    target = tmp_path / "x.yaml"
    compiler.Compiler().compile(x, str(target), pipeline_conf=conf)
    assert yaml.safe_load(target.read_text())["settings"] == {"parallelism": 3, "imagePullPolicy": "Always"}
    with pytest.raises(ValueError, match="set_parallelism: expected a whole number >= 1, got 0"):
        dsl.PipelineConf().set_parallelism(0)


def test_v1_load_component_takes_exactly_one_source(tmp_path: Path) -> None:
    from pipelines.kfp import components

    yaml_text = "name: Echo\nimplementation: {container: {image: alpine, command: [echo, hi]}}"
    (tmp_path / "echo.yaml").write_text(yaml_text)
    assert components.load_component(text=yaml_text).name == "Echo"
    assert components.load_component(filename=str(tmp_path / "echo.yaml")).name == "Echo"
    with pytest.raises(TypeError, match="exactly one of filename, url or text"):
        components.load_component(text=yaml_text, filename="x.yaml")


def test_v1_text_and_binary_file_annotations_pass_open_files(make_pipeline: Any, harness: Harness) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import components, dsl
        from pipelines.kfp.components import InputBinaryFile, InputTextFile, OutputBinaryFile, OutputTextFile

        def write(text_file: OutputTextFile(str), blob_file: OutputBinaryFile(bytes)):
            text_file.write("some words here")
            blob_file.write(bytes([1, 2, 3]))

        def read(text_file: InputTextFile(str), blob_file: InputBinaryFile(bytes)) -> str:
            return f"{len(text_file.read().split())} words, {sum(blob_file.read())} in bytes"

        write_op = components.create_component_from_func(write)
        read_op = components.create_component_from_func(read)

        @dsl.pipeline(name="files")
        def files():
            written = write_op()
            read_op(written.outputs["text"], written.outputs["blob"])
        """
    )
    assert list(spec.components["write"].outputs) == ["text", "blob"]  # `_file` stripped, as in KFP v1
    result = harness.run(spec)
    assert result.success(), result
    assert result.task("read").outputs == {"Output": "3 words, 6 in bytes"}
    valid_argo(spec)


def test_volume_op_is_a_folder_the_mounting_steps_share(harness: Harness) -> None:
    spec = sample("v1_volumes.py")
    result = harness.run(spec)
    assert result.success(), result
    claim = result.task("create-volume").outputs["name"]
    assert (
        claim == f"{result.run_id[:8]}-shared-data" and result.task("create-volume").outputs["size"] == "1Gi"
    )
    assert ("append", "first\n") in harness.observer.lines
    assert [line for name, line in harness.observer.lines if name == "read"] == ["first\n", "second\n"]
    folder = harness.settings.data_dir / "pipelines" / "volumes"
    assert sorted(p.name for p in (folder / claim).iterdir()) == ["file1", "file2"]
    again = Harness(settings=harness.settings).run(
        spec
    )  # an existing claim outlives runs, a VolumeOp's does not
    assert ("existing", "kept\n") in harness.observer.lines
    assert again.task("create-volume").outputs["name"] != claim
    assert (folder / "long-lived-cache" / "log").read_text() == "kept\nkept\n"
    document = valid_argo(spec)
    graph = dag_graph(document)["volume-sequential"]
    assert graph["read"] == (["create-volume", "write", "append"], False)  # as kfp 1.8: after each writer
    steps = templates(document)
    assert steps["create-volume"]["resource"]["action"] == "create"
    assert steps["read"]["volumes"] == [
        {"name": "pvolume-mnt2", "persistentVolumeClaim": {"claimName": "{{inputs.parameters.pvolume_mnt2}}"}}
    ]


def test_volumes_on_python_components_are_refused_with_the_reason(make_pipeline: Any) -> None:
    with pytest.raises(SpecError, match="volumes can be mounted into container steps only"):
        make_pipeline(
            """
            from pipelines.kfp import dsl

            @dsl.component
            def step():
                pass

            @dsl.pipeline(name="p")
            def p():
                step().add_pvolumes({"/mnt": dsl.PipelineVolume(pvc="data")})
            """
        )


def test_sidecars_compile_into_argo_and_are_refused_locally_naming_the_sidecar(harness: Harness) -> None:
    spec = sample("v1_sidecar.py")
    result = harness.run(spec)
    assert result.state == RunState.FAILED
    download = result.task("download")
    assert download.state == TaskState.FAILED
    assert "sidecar 'echo' (image hashicorp/http-echo:latest)" in download.message
    assert "needs the cluster" in download.message
    assert result.task("print").state == TaskState.SKIPPED
    assert "sidecar 'logger'" in result.task("independent").message
    steps = templates(valid_argo(spec))
    assert steps["download"]["sidecars"] == [
        {"name": "echo", "image": "hashicorp/http-echo:latest", "args": ['-text="hello world"']}
    ]
    assert steps["independent"]["sidecars"] == [
        {
            "name": "logger",
            "image": "busybox:latest",
            "command": ["sh", "-c", "tail -f /dev/null"],
            "mirrorVolumeMounts": True,
        }
    ]
    assert "sidecars" not in steps["print"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('dsl.Sidecar(name="s", image="i", ports=[80])', "dsl.Sidecar 's': ports not supported"),
        ('dsl.Sidecar(name="s", image="")', "dsl.Sidecar 's': image must be a non-empty string"),
        ('step().add_sidecar("busybox")', "add_sidecar: needs a dsl.Sidecar, got 'busybox'"),
    ],
)
def test_bad_sidecars_are_reported_naming_the_field(make_pipeline: Any, call: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        make_pipeline(
            f"""
            from pipelines.kfp import dsl

            @dsl.component
            def step():
                pass

            @dsl.pipeline(name="p")
            def p():
                {call}
            """
        )


def test_resource_op_compiles_to_an_argo_resource_template_and_is_refused_locally(harness: Harness) -> None:
    spec = sample("v1_resource_op.py")
    result = harness.run(spec)
    assert result.state == RunState.FAILED
    create = result.task("test-step")
    assert create.state == TaskState.FAILED
    assert "ResourceOp 'test-step' would create a Kubernetes Job: it needs a cluster" in create.message
    assert result.task("show").state == TaskState.SKIPPED
    document = valid_argo(spec)
    steps = templates(document)
    resource = steps["test-step"]["resource"]
    assert (resource["action"], resource["successCondition"], resource["failureCondition"]) == (
        "create",
        "status.succeeded > 0",
        "status.failed > 0",
    )
    assert json.loads(resource["manifest"])["metadata"] == {"generateName": "resourceop-basic-job-"}
    assert steps["test-step"]["outputs"]["parameters"] == [
        {"name": "manifest", "valueFrom": {"jsonPath": "{}"}},
        {"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}},
        {"name": "uid", "valueFrom": {"jsonPath": "{.metadata.uid}"}},
    ]
    assert steps["delete-job"]["resource"]["flags"] == ["--wait=false"]
    assert "outputs" not in steps["delete-job"]
    graph = dag_graph(document)["resourceop-basic"]
    assert graph["show"][0] == ["test-step"] and graph["delete-job"][0] == ["show"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'dsl.ResourceOp(name="r", k8s_resource={"kind": "Job"}, action="launch")',
            "action 'launch' is not one of",
        ),
        ('dsl.ResourceOp(name="r", k8s_resource=None)', "k8s_resource must be a manifest"),
        (
            'dsl.ResourceOp(name="r", k8s_resource={"kind": "Job"}, merge_strategy="json")',
            "merge_strategy is for action='patch' only",
        ),
    ],
)
def test_bad_resource_ops_are_reported_naming_the_field(make_pipeline: Any, call: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        make_pipeline(
            f"""
            from pipelines.kfp import dsl

            @dsl.pipeline(name="p")
            def p():
                {call}
            """
        )


def test_sub_graph_runs_its_tasks_at_most_parallelism_at_once(harness: Harness) -> None:
    spec = sample("v1_subgraph.py")
    assert spec.groups["subgraph-1"].kind == "subGraph" and spec.groups["subgraph-1"].parallelism == 1
    result = harness.run(spec, parallelism=3, enable_caching=False)
    assert result.success(), result
    windows = sorted(tuple(result.task(name).outputs["Output"]) for name in ("stamp", "stamp-2", "stamp-3"))
    assert not overlapping(windows[0], windows[1]) and not overlapping(windows[1], windows[2])
    assert result.task("report").outputs["Output"].startswith("last step took")
    document = valid_argo(spec)
    assert templates(document)["subgraph-1"]["parallelism"] == 1
    graph = dag_graph(document)
    assert graph["sub-graph"] == {"subgraph-1": ([], False), "report": (["subgraph-1"], False)}
    assert set(graph["subgraph-1"]) == {"stamp", "stamp-2", "stamp-3"}


def test_sub_graph_parallelism_must_be_a_whole_number(make_pipeline: Any) -> None:
    with pytest.raises(SpecError, match=r"dsl\.SubGraph: parallelism must be a whole number >= 1, got 0"):
        make_pipeline(
            """
            from pipelines.kfp import dsl

            @dsl.pipeline(name="p")
            def p():
                with dsl.SubGraph(parallelism=0):
                    pass
            """
        )


def test_graph_component_body_is_recorded_in_place_at_each_call(harness: Harness) -> None:
    spec = sample("v1_graph_component.py", "flipcoin_unrolled")
    result = harness.run(spec, {"seed": 2})
    assert result.success(), result
    assert (result.task("flip-coin").outputs["Output"], result.task("flip-coin-2").outputs["Output"]) == (
        "heads",
        "tails",
    )
    assert result.task("print-msg").state == TaskState.SUCCEEDED
    assert ("print-msg", "heads for 2\n") in harness.observer.lines
    assert result.task("print-msg-2").state == TaskState.SKIPPED  # the second call's flip was tails
    assert ("print-msg-3", "tails\n") in harness.observer.lines
    assert set(spec.tasks["flip-coin-2"].after) == {"flip-coin", "print-msg"}  # `.after(first)`: all of it
    assert set(spec.tasks["print-msg-3"].after) >= {"flip-coin-2", "print-msg-2"}
    valid_argo(spec)


def test_recursive_graph_component_flips_until_heads_one_level_per_call(
    harness: Harness, tmp_path: Path
) -> None:
    """KFP's recursion sample: the body calls itself under `dsl.Condition(flip == 'tails')`. The coin lands
    heads on its 4th toss: the first flip and the body's flips at levels 0 and 1 are tails, so the body runs
    three times, each level printing the flip it was given, and the last print waits for every level."""
    spec = sample("v1_graph_component.py", "flipcoin_recursive")
    assert spec.groups["graph-flip-component-1-recursion"].recursive_ref == "graph-flip-component-1"
    assert spec.groups["graph-flip-component-1-recursion"].parent == "condition-2"
    tally = tmp_path / "tally"
    result = harness.run(spec, {"tally": str(tally), "heads_on": 4}, enable_caching=False)
    assert result.success(), result
    flips = [result.task(name).outputs["output"] for name in ("flip", "flip-2", "flip-2@1", "flip-2@2")]
    assert flips == ["tails", "tails", "tails", "heads"]
    assert "flip-2@3" not in result.tasks and "print@3" not in result.tasks
    assert len(tally.read_text().splitlines()) == 4  # four tosses, no more
    printed = [(name, line) for name, line in harness.observer.lines if name.startswith("print")]
    assert printed == [
        ("print", "tails\n"),
        ("print@1", "tails\n"),
        ("print@2", "tails\n"),
        ("print-2", "it is over: tails\n"),
    ]
    last = result.task("print-2")
    assert last.started_at is not None and all(
        last.started_at >= (result.task(name).finished_at or 0) for name in ("flip-2@2", "print@2")
    )


def test_recursive_graph_component_when_the_first_flip_ends_it(harness: Harness, tmp_path: Path) -> None:
    result = harness.run(
        sample("v1_graph_component.py", "flipcoin_recursive"),
        {"tally": str(tmp_path / "tally"), "heads_on": 2},
        enable_caching=False,
    )
    assert result.success(), result
    assert result.task("flip-2").outputs["output"] == "heads"
    assert not any("@" in name for name in result.tasks)  # the body ran once: no deeper level


def test_recursive_graph_component_compiles_to_a_dag_template_calling_itself() -> None:
    """kfp 1.8: the body is a DAG template `graph-flip-component-1` taking the values it reads as input
    parameters (named `<task>-<output>`); inside it the condition is a DAG task with a `when`, whose own
    DAG calls `graph-flip-component-1` again with the new flip under the body's parameter names."""
    document = valid_argo(sample("v1_graph_component.py", "flipcoin_recursive"))
    body = "graph-flip-component-1"
    assert dag_graph(document) == {
        "recursive-loop-pipeline": {
            "flip": ([], False),
            body: (["flip"], False),
            "print-2": (["flip", body], False),
        },
        body: {"print": ([], False), "flip-2": (["print"], False), "condition-2": (["flip-2"], True)},
        "condition-2": {body: ([], False)},
    }
    by_name = templates(document)
    assert by_name[body]["inputs"]["parameters"] == [
        {"name": "flip-output"},
        {"name": "tally"},
        {"name": "heads_on"},
    ]
    condition = next(t for t in by_name[body]["dag"]["tasks"] if t["name"] == "condition-2")
    assert condition["when"] == '"{{tasks.flip-2.outputs.parameters.output}}" == "tails"'
    (again,) = by_name["condition-2"]["dag"]["tasks"]
    assert again["template"] == body
    assert again["arguments"]["parameters"] == [
        {"name": "flip-output", "value": "{{inputs.parameters.flip-2-output}}"},
        {"name": "tally", "value": "{{inputs.parameters.tally}}"},
        {"name": "heads_on", "value": "{{inputs.parameters.heads_on}}"},
    ]
    print_args = next(t for t in by_name[body]["dag"]["tasks"] if t["name"] == "print")["arguments"]
    assert print_args["parameters"] == [{"name": "flip_output", "value": "{{inputs.parameters.flip-output}}"}]
    assert "graph-flip-component-1-recursion" not in by_name  # the call runs the body's template


def test_recursion_deeper_than_the_limit_fails_the_run_saying_how_to_raise_it(harness: Harness) -> None:
    spec = sample("v1_graph_component.py", "countdown")
    done = harness.run(spec, {"start": 3})
    assert done.success(), done
    assert [done.task(n).outputs["Output"] for n in ("decrement", "decrement@1", "decrement@2")] == [2, 1, 0]
    stopped = harness.run(spec, {"start": 3}, max_recursion_depth=1)
    assert stopped.run.state == RunState.FAILED
    assert (
        "graph component 'count_down' (graph-count-down-1) called itself 2 times nested, past the limit of 1"
        in (stopped.run.message)
    )
    assert "--max-recursion-depth or TUNER_PIPELINES_MAX_RECURSION_DEPTH" in stopped.run.message
    assert "decrement@1" in stopped.tasks and "decrement@2" not in stopped.tasks


def test_max_recursion_depth_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.runner.local import RunOptions

    assert RunOptions().max_recursion_depth == 100
    monkeypatch.setenv("TUNER_PIPELINES_MAX_RECURSION_DEPTH", "7")
    assert RunOptions().max_recursion_depth == 7
    monkeypatch.setenv("TUNER_PIPELINES_MAX_RECURSION_DEPTH", "lots")
    with pytest.raises(SpecError, match=r"TUNER_PIPELINES_MAX_RECURSION_DEPTH.*expected a whole number >= 0"):
        RunOptions()


def test_recursive_graph_component_arguments_must_be_task_outputs_or_parameters(make_pipeline: Any) -> None:
    with pytest.raises(SpecError) as caught:
        make_pipeline(
            """
            from pipelines.kfp import dsl

            @dsl.component
            def decrement(n: int) -> int:
                return n - 1

            @dsl.graph_component
            def count_down(n):
                left = decrement(n=n)
                with dsl.Condition(left.output > 0):
                    count_down(left.output)

            @dsl.pipeline
            def p():
                count_down(5)
            """
        )
    message = str(caught.value)
    assert "groups.graph-count-down-1.inputs.n" in message
    assert "argument 'n' must be a task output or a pipeline parameter (as KFP requires), got 5" in message


# --- KFP v1 init containers and OpsGroup ---------------------------------------------------------------------


INIT_SOURCE = """
from pipelines.kfp import dsl


@dsl.component
def record(order: str) -> str:
    with open(order, "a") as f:
        f.write("python step\\n")
    return open(order).read()


@dsl.pipeline(name="init containers")
def init_containers(order: str = "{order}"):
    ready = dsl.UserContainer(
        name="prepare", image="alpine:3.18", command=["sh", "-c"], args=["echo init >> {order}; echo prepared"]
    )
    hello = dsl.ContainerOp(
        name="hello",
        image="alpine:3.18",
        command=["sh", "-c", "echo main >> {order}"],
        init_containers=[ready],
    )
    later = record(order=order).after(hello)
    later.add_init_container(
        dsl.UserContainer(name="warm-up", image="busybox", command=["sh", "-c", "echo py-init >> {order}"])
    )
    dsl.ContainerOp(name="broken", image="alpine:3.18", command=["sh", "-c", "echo never >> {order}"]).add_init_container(
        dsl.UserContainer(name="check", image="busybox", command=["sh", "-c", "exit {code}"])
    ).after(later)
"""


def test_init_containers_run_before_the_step_and_compile_to_argo_init_containers(
    make_pipeline: Any, harness: Harness, tmp_path: Path
) -> None:
    order = tmp_path / "order"
    spec = make_pipeline(INIT_SOURCE.format(order=order, code=3))
    result = harness.run(spec, enable_caching=False)
    assert ("hello", "prepared\n") in harness.observer.lines  # the init container's output, under the task
    assert result.task("hello").state == TaskState.SUCCEEDED
    assert result.task("record").outputs["Output"] == "init\nmain\npy-init\npython step\n"
    broken = result.task("broken")
    assert broken.state == TaskState.FAILED
    assert broken.message == "init container 'check' exited with code 3; the step's own command did not run"
    assert "never" not in order.read_text()
    steps = templates(valid_argo(spec))
    assert steps["hello"]["initContainers"] == [
        {
            "name": "prepare",
            "image": "alpine:3.18",
            "command": ["sh", "-c"],
            "args": [f"echo init >> {order}; echo prepared"],
        }
    ]
    assert steps["record"]["initContainers"][0]["name"] == "warm-up"
    assert "initContainers" not in steps[next(n for n in steps if n.startswith("init-containers"))]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('dsl.UserContainer(name="u", image="i", ports=[80])', "dsl.UserContainer 'u': ports not supported"),
        (
            'step().add_init_container("busybox")',
            "add_init_container: needs a dsl.UserContainer, got 'busybox'",
        ),
        (
            'step().add_init_container(dsl.UserContainer("u", "i")).add_init_container(dsl.UserContainer("u", "j"))',
            "an init container named 'u' is already added",
        ),
    ],
)
def test_bad_init_containers_are_reported_naming_the_field(
    make_pipeline: Any, call: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        make_pipeline(
            f"""
            from pipelines.kfp import dsl

            @dsl.component
            def step():
                pass

            @dsl.pipeline
            def p():
                {call}
            """
        )


def test_an_init_container_without_a_command_fails_the_task_locally(
    make_pipeline: Any, harness: Harness
) -> None:
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.pipeline
        def p():
            dsl.ContainerOp(name="s", image="i", command=["true"], init_containers=[dsl.UserContainer("u", "redis")])
        """
    )
    failed = harness.run(spec).task("s")
    assert failed.state == TaskState.FAILED
    assert "init container 'u' has no command: it would run the entrypoint of image redis" in failed.message


def test_ops_group_is_the_base_of_the_with_blocks_and_not_used_directly(make_pipeline: Any) -> None:
    from pipelines.dsl.channels import PipelineInputChannel
    from pipelines.kfp import dsl

    flag = PipelineInputChannel("flag", "str")
    blocks = [dsl.Condition(flag == "on"), dsl.ParallelFor([1, 2]), dsl.SubGraph(parallelism=2)]
    assert all(isinstance(b, dsl.OpsGroup) for b in blocks)
    assert [b.type for b in blocks] == ["condition", "for_loop", "subgraph"]
    with pytest.raises(SpecError, match=r"dsl\.OpsGroup is the base of dsl\.Condition"):
        make_pipeline(
            """
            from pipelines.kfp import dsl

            @dsl.pipeline
            def p():
                with dsl.OpsGroup():
                    pass
            """
        )


def test_recursion_per_loop_iteration_and_the_first_level_seen_from_outside(
    make_pipeline: Any, harness: Harness
) -> None:
    """A recursive graph component called in a loop recurses apart in each iteration; outside its body, the
    call's `.output` is its first level's, and `.after(call)` waits for every level."""
    source = """
        from pipelines.kfp import dsl

        @dsl.component
        def decrement(n: int) -> int:
            return n - 1

        @dsl.component
        def show(text: str):
            print(text)

        @dsl.graph_component
        def count_down(n):
            left = decrement(n=n)
            with dsl.Condition(left.output > 0):
                count_down(left.output)
            return left

        @dsl.pipeline
        def in_loop(starts: list = [2, 3]):
            with dsl.ParallelFor(starts) as start:
                count_down(start)

        @dsl.pipeline
        def seen_from_outside(start: int = 3):
            call = count_down(start)
            show(text="first level left %s" % call.output).after(call)
        """
    looped = harness.run(make_pipeline(source, "in_loop"))
    assert looped.success(), looped
    outputs = {name: task.outputs["Output"] for name, task in looped.tasks.items()}
    assert outputs == {
        "decrement[0]": 1,
        "decrement[0]@1": 0,
        "decrement[1]": 2,
        "decrement[1]@1": 1,
        "decrement[1]@2": 0,
    }
    outside = harness.run(make_pipeline(source, "seen_from_outside"))
    assert outside.success(), outside
    assert ("show", "first level left 2\n") in harness.observer.lines
    show = outside.task("show")
    assert show.started_at is not None and show.started_at >= (outside.task("decrement@2").finished_at or 0)


def test_v2_run_placeholders_are_filled_in_locally_and_left_to_argo(
    make_pipeline: Any, harness: Harness
) -> None:
    """KFP v2's job and task placeholders, passed to a Python component and a container component as the
    samples do: locally the run's id, name and start time and the task's id; on Argo its own variables."""
    spec = make_pipeline(
        """
        from pipelines.kfp import dsl

        @dsl.component
        def where(job_id: str, job_name: str, resource: str, task_id: str, created: str) -> str:
            return "|".join([job_id, job_name, resource, task_id, created])

        @dsl.container_component
        def echo_job(name: str):
            return dsl.ContainerSpec(image="alpine", command=["echo", name, dsl.PIPELINE_JOB_ID_PLACEHOLDER])

        @dsl.pipeline(name="placeholders")
        def p():
            where(
                job_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
                job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                resource=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
                task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER,
                created=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
            )
            echo_job(name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER)
        """
    )
    result = harness.run(spec, run_name="nightly")
    assert result.success(), result
    run_id = result.run_id
    job_id, job_name, resource, task_id, created = result.task("where").outputs["Output"].split("|")
    assert (job_id, job_name, resource, task_id) == (run_id, "nightly", "nightly", f"{run_id}-where")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.run.started_at))
    assert created == started
    assert ("echo-job", f"nightly {run_id}\n") in harness.observer.lines
    steps = templates(valid_argo(spec))
    assert steps["echo-job"]["container"]["command"][-1] == "{{workflow.uid}}"
