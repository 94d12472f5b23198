"""KFP 1.8 v2-compatible pattern: `from kfp.v2 import dsl, compiler`, lightweight components passing data as
typed artifacts (`Output[Dataset]`, `Input[Dataset]`, `Output[Model]`) and as `OutputPath`/`InputPath`
files of typed parameters (bool, dict, list), compiled to `pipeline.json`."""

from typing import Dict, List

from pipelines.kfp.v2 import compiler, dsl
from pipelines.kfp.v2.dsl import Dataset, Input, InputPath, Model, Output, OutputPath, component


@component
def prepare(
    message: str,
    first_dataset: Output[Dataset],
    second_dataset_path: OutputPath("Dataset"),
    flag_path: OutputPath(bool),
    counts_path: OutputPath(Dict[str, int]),
    words_path: OutputPath(List[str]),
):
    import json

    with open(first_dataset.path, "w") as f:
        f.write(message)
    with open(second_dataset_path, "w") as f:
        f.write(message.upper())
    with open(flag_path, "w") as f:
        f.write("true")
    words = message.split()
    with open(counts_path, "w") as f:
        json.dump({w: len(w) for w in words}, f)
    with open(words_path, "w") as f:
        json.dump(words, f)


@component
def train(
    first_dataset_path: InputPath("Dataset"),
    second_dataset: Input[Dataset],
    flag: bool,
    counts: Dict[str, int],
    words: List[str],
    model: Output[Model],
    steps: int = 10,
):
    with open(first_dataset_path) as f:
        first = f.read()
    with open(second_dataset.path) as f:
        second = f.read()
    with open(model.path, "w") as f:
        f.write(f"{first}|{second}|{flag}|{sum(counts.values())}|{','.join(words)}|{steps}")
    model.metadata["accuracy"] = 0.9


@dsl.pipeline(name="v2-compatible-data-passing", pipeline_root="/tmp/unused-pipeline-root")
def data_passing(message: str = "hello artifact world"):
    prepared = prepare(message=message)
    train(
        first_dataset_path=prepared.outputs["first_dataset"],
        second_dataset=prepared.outputs["second_dataset_path"],
        flag=prepared.outputs["flag_path"],
        counts=prepared.outputs["counts_path"],
        words=prepared.outputs["words_path"],
    )


if __name__ == "__main__":
    compiler.Compiler().compile(pipeline_func=data_passing, package_path="data_passing.json")
