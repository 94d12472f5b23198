"""KFP v1 pattern: components loaded from component.yaml (file, file:// URL and inline text) wired to a
Python component, with inputPath/outputPath, an optional input behind `if: isPresent` and a `concat`."""

import os

from pipelines import kfp
from pipelines.kfp import components, dsl
from pipelines.kfp.components import OutputPath

HERE = os.path.dirname(os.path.abspath(__file__))


def write_lines(count: int, text_path: OutputPath(str)):
    with open(text_path, "w") as f:
        for i in range(count):
            f.write(f"line {i}\n")


write_lines_op = components.create_component_from_func(write_lines, base_image="python:3.9")
count_lines_op = components.load_component_from_file(os.path.join(HERE, "components", "count_lines.yaml"))
count_lines_by_url_op = components.load_component_from_url(
    "file://" + os.path.join(HERE, "components", "count_lines.yaml")
)
echo_op = components.load_component_from_text("""
name: Echo
inputs:
- {name: Message, type: String}
implementation:
  container:
    image: library/bash:4.4.23
    command: [sh, -c, 'echo "got: $0"', {inputValue: Message}]
""")


@dsl.pipeline(name="Component YAML pipeline", description="v1 component.yaml files wired together.")
def component_yaml_pipeline(lines: int = 3, label: str = "books"):
    text = write_lines_op(lines)
    labelled = count_lines_op(text=text.output, label=label, skip_header="true")
    unlabelled = count_lines_by_url_op(text=text.output)
    echo_op(labelled.outputs["count"])
    echo_op(unlabelled.outputs["summary"])


if __name__ == "__main__":
    kfp.compiler.Compiler().compile(component_yaml_pipeline, __file__ + ".yaml")
