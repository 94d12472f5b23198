"""The DSL records what KFP v1 and v2 code means: interfaces read from signatures (v1 rules), names,
task settings checked when set, channels that format into strings and compare into conditions, and
clear errors for code that cannot work."""

from __future__ import annotations

import threading

import pytest

from pipelines.compiler.ir import ConstRef, InputRef, TaskOutputRef, TemplateRef
from pipelines.dsl.context import PipelineContext, current_context, recording, sanitize_name
from tuner.errors import SpecError

V1_COMPONENTS = """
from typing import NamedTuple
from pipelines.kfp import dsl
from pipelines.kfp.components import InputPath, OutputPath, create_component_from_func, func_to_container_op

@func_to_container_op
def untyped(message, count: int = 2):
    print(message * count)

@create_component_from_func
def split(text_path: InputPath("txt"), words_path: OutputPath(str)) -> NamedTuple("Outputs", [("first", str), ("n", int)]):
    words = open(text_path).read().split()
    open(words_path, "w").write("\\n".join(words))
    from collections import namedtuple
    return namedtuple("Outputs", ["first", "n"])(words[0], len(words))

@dsl.component
def keep_names(text_path: dsl.InputPath(str)) -> str:
    return open(text_path).read()
"""


def test_v1_interfaces_follow_the_signature(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        V1_COMPONENTS
        + """
@dsl.pipeline(name="Interfaces pipeline")
def interfaces(text="a b c"):
    untyped("hi")
    parts = split(text)
    keep_names(text_path=parts.outputs["words_path"])
"""
    )
    untyped = spec.components["untyped"]
    assert untyped.name == "Untyped"
    assert untyped.inputs["message"].type is None and not untyped.inputs["message"].optional
    assert untyped.inputs["count"].type == "int" and untyped.inputs["count"].default == 2
    assert untyped.outputs == {}
    split = spec.components["split"]
    assert list(split.inputs) == ["text"] and split.inputs["text"].param == "text_path"
    assert split.inputs["text"].passing == "path" and split.inputs["text"].artifact == "txt"
    assert list(split.outputs) == ["words", "first", "n"]
    assert split.outputs["n"].type == "int" and split.outputs["words"].passing == "path"
    assert list(spec.components["keep-names"].inputs) == ["text_path"]  # v2 keeps names as written
    assert spec.tasks["keep-names"].arguments["text_path"] == TaskOutputRef(task="split", output="words")
    assert spec.pipeline.name == "interfaces-pipeline" and spec.pipeline.display_name == "Interfaces pipeline"
    assert spec.inputs["text"].type is None and spec.inputs["text"].default == "a b c"


def test_named_tuple_outputs_run_and_file_inputs_materialise(make_pipeline, harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        V1_COMPONENTS
        + """
@dsl.pipeline(name="split words")
def words(text: str = "alpha beta gamma"):
    parts = split(text)
    untyped(parts.outputs["first"], parts.outputs["n"])
    keep_names(text_path=parts.outputs["words"])
"""
    )
    result = harness.run(spec)
    assert result.success()
    assert result.task("split").outputs == {"first": "alpha", "n": 3}
    assert ("untyped", "alphaalphaalpha\n") in harness.observer.lines
    assert result.task("keep-names").outputs == {"Output": "alpha\nbeta\ngamma"}


def test_arguments_become_references(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def echo(text: str) -> str:
    return text

@dsl.pipeline
def refs(name: str = "x"):
    first = echo(text=name)
    echo(text=f"hello {first.output}, {name}!")
    echo(text="plain {{not a token}}")
"""
    )
    assert spec.tasks["echo"].arguments["text"] == InputRef(input="name")
    assert spec.tasks["echo-2"].arguments["text"] == TemplateRef(
        template="hello {{tasks.echo.outputs.Output}}, {{inputs.name}}!"
    )
    assert spec.tasks["echo-3"].arguments["text"] == ConstRef(value="plain {{not a token}}")


def test_task_settings_are_recorded_and_checked(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def step():
    pass

@dsl.pipeline
def settings():
    a = step().set_display_name("First").set_cpu_limit("500m").set_memory_limit("1Gi").set_gpu_limit(2)
    step().after(a).set_retry(3, policy="OnFailure", backoff_duration="1m", backoff_factor=3, backoff_max_duration="1h").set_timeout("2m")
    step().set_caching_options(False, cache_key="k").set_env_variable("A", "1")
"""
    )
    first, second, third = (spec.tasks[n] for n in ("step", "step-2", "step-3"))
    assert first.display_name == "First"
    assert (
        first.resources is not None
        and first.resources.cpu_limit == "500m"
        and first.resources.accelerator_limit == 2
    )
    assert second.after == ["step"] and second.timeout_seconds == 120.0
    assert second.retry is not None and (
        second.retry.backoff_duration,
        second.retry.backoff_max_duration,
    ) == (60.0, 3600.0)
    assert (third.caching.enabled, third.caching.key, third.env) == (False, "k", {"A": "1"})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('step().set_memory_limit("lots")', "set_memory_limit: cannot read 'lots' as a memory quantity"),
        ('step().set_cpu_limit("fast")', "set_cpu_limit: cannot read 'fast' as a CPU quantity"),
        ('step().set_timeout("soon")', "set_timeout: cannot read 'soon' as a duration"),
        (
            'step().set_retry(1, policy="Sometimes")',
            "policy must be Always, OnFailure, OnError or OnTransientError",
        ),
        ("step(1)", "step() takes 0 arguments"),
        ("step(nope=1)", "step() got an unexpected argument 'nope'"),
        ("step().output", "task step has no outputs"),
        ('dsl.ContainerOp(name="x", image="i", container_kwargs={})', "container_kwargs not supported"),
        ("dsl.ParallelFor(3)", "dsl.ParallelFor takes a list"),
        ("dsl.Condition(5)", "takes a comparison"),
    ],
)
def test_mistakes_are_reported_with_the_line_and_the_fix(make_pipeline, call: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as caught:
        make_pipeline(
            f"""
from pipelines.kfp import dsl

@dsl.component
def step():
    pass

@dsl.pipeline
def broken():
    {call}
"""
        )
    assert message in str(caught.value)
    assert "line 10" in str(caught.value)


def test_components_outside_a_pipeline_say_what_to_do(make_pipeline) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="only be used inside a pipeline function"):
        current_context()


def test_contexts_are_per_thread() -> None:
    seen: dict[str, str] = {}
    ready = threading.Event()

    def other() -> None:
        with recording(PipelineContext("other")):
            ready.wait()  # both threads are inside their own contexts now
            seen["other"] = current_context().pipeline_name

    thread = threading.Thread(target=other)
    thread.start()
    with recording(PipelineContext("main")):
        ready.set()
        thread.join()
        seen["main"] = current_context().pipeline_name
    assert seen == {"other": "other", "main": "main"}


def test_names_are_sanitised_like_kfp() -> None:
    assert sanitize_name("Calculation pipeline") == "calculation-pipeline"
    assert sanitize_name("hello_pipeline") == "hello-pipeline"
    assert sanitize_name("GCS - Download") == "gcs-download"
    assert sanitize_name("___") == "unnamed"


def test_kfp_facade_exposes_the_v1_names() -> None:
    from pipelines import kfp
    from pipelines.kfp import components, dsl

    for name in ("func_to_container_op", "create_component_from_func", "InputPath", "OutputPath"):
        assert hasattr(components, name)
    for name in (
        "pipeline",
        "ContainerOp",
        "Condition",
        "ExitHandler",
        "ParallelFor",
        "python_component",
        "component",
        "If",
        "Elif",
        "Else",
        "Collected",
    ):
        assert hasattr(dsl, name)
    assert kfp.compiler.Compiler is not None
    assert callable(kfp.Client) and callable(kfp.LocalClient) and callable(kfp.run_pipeline_func_locally)
