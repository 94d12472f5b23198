"""KFP v2 patterns: `@dsl.container_component` returning `dsl.ContainerSpec` (with an output path, an input
artifact, `ConcatPlaceholder` and `IfPresentPlaceholder`), `dsl.importer` bringing an existing file in as a
Dataset, a pipeline used as a component inside another, and an exit handler whose task reads
`dsl.PipelineTaskFinalStatus`."""

from typing import Optional

from pipelines.kfp import dsl
from pipelines.kfp.dsl import Dataset, Input, Output


@dsl.container_component
def say_hello(name: str, greeting: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; echo "Hello, $0!" | tee "$1"'],
        args=[name, greeting],
    )


@dsl.container_component
def count_lines(text: Input[Dataset], counted: Output[Dataset], prefix: Optional[str] = None):
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; echo "$2$(wc -l < "$0" | tr -d " ")" > "$1"'],
        args=[
            text.path,
            counted.path,
            dsl.IfPresentPlaceholder(
                input_name="prefix", then=[dsl.ConcatPlaceholder([prefix, ": "])], else_=["lines: "]
            ),
        ],
    )


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.component
def final_report(status: dsl.PipelineTaskFinalStatus) -> None:
    print(f"final state {status.state} ({status.error_message or 'no error'})")


@dsl.pipeline(name="greet-and-shout")
def greet_and_shout(name: str) -> str:
    hello = say_hello(name=name)
    return shout(text=hello.outputs["greeting"]).output


@dsl.pipeline(name="containers-and-nesting")
def containers_and_nesting(name: str = "world", data_uri: str = "/tmp/lines.txt"):
    with dsl.ExitHandler(final_report()):
        inner = greet_and_shout(name=name)
        shout(text=inner.output)
        imported = dsl.importer(
            artifact_uri=data_uri, artifact_class=Dataset, reimport=False, metadata={"source": "local"}
        )
        count_lines(text=imported.output)
        count_lines(text=imported.output, prefix="rows").after(inner)
