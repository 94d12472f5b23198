"""Compilation: deterministic output (twice in one process, and in a fresh interpreter), the three package
formats written reproducibly and loadable again, loaded packages runnable, and bad packages refused with
the field named."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from pipelines.compiler.compiler import Compiler, as_spec, render
from pipelines.compiler.ir import SCHEMA_VERSION, dump
from pipelines.compiler.loader import load_pipeline
from pipelines.compiler.package import load_package, write_package
from pipelines.runner.testing import Harness
from tuner.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "pipelines"
SEED = ROOT / "examples" / "pipelines" / "seed"


FLIP = GOLDEN / "valid" / "v1_flip_coin.py"


@pytest.mark.parametrize("suffix", [".yaml", ".zip", ".tar.gz"])
def test_compile_is_byte_for_byte_deterministic(tmp_path: Path, suffix: str) -> None:
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    Compiler().compile(load_pipeline(FLIP), first)
    Compiler().compile(load_pipeline(FLIP), second)
    assert first.read_bytes() == second.read_bytes()
    assert load_package(first) == load_pipeline(FLIP)


def test_compile_in_a_fresh_interpreter_gives_the_same_bytes(tmp_path: Path) -> None:
    here = tmp_path / "here.yaml"
    Compiler().compile(load_pipeline(GOLDEN / "valid" / "v2_control_flow.py"), here)
    for target in ("ir", "argo"):
        out = tmp_path / f"there-{target}.yaml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tuner.cli",
                "pipelines",
                "compile",
                str(GOLDEN / "valid" / "v2_control_flow.py"),
                "--output-file",
                str(out),
                "--target",
                target,
            ],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "123"},
            capture_output=True,
        )
        expected = render(load_pipeline(GOLDEN / "valid" / "v2_control_flow.py"), target)  # type: ignore[arg-type]
        assert out.read_text() == expected
    assert (tmp_path / "there-ir.yaml").read_bytes() == here.read_bytes()


def test_zip_holds_pipeline_yaml_like_kfp(tmp_path: Path) -> None:
    package = tmp_path / "seed.zip"
    Compiler().compile(load_pipeline(SEED / "hello_world.py"), package)
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == ["pipeline.yaml"]
        document = yaml.safe_load(archive.read("pipeline.yaml"))
    assert document["schemaVersion"] == SCHEMA_VERSION
    assert document["pipeline"] == {
        "name": "hello-pipeline",
        "displayName": "hello_pipeline",
        "description": "Hello World Pipeline!",
        "functionName": "hello_world_pipeline",
    }


def test_a_loaded_package_runs_like_the_function(tmp_path: Path, harness: Harness) -> None:
    package = tmp_path / "calc.tar.gz"
    Compiler().compile(load_pipeline(GOLDEN / "valid" / "v1_calc.py"), package)
    result = harness.run(load_package(package), {"a": 2, "b": 3})
    assert result.success() and result.task("add-op-3").outputs == {"Output": 11.0}


def test_argo_target_writes_a_workflow_package(tmp_path: Path) -> None:
    out = Compiler().compile(load_pipeline(FLIP), tmp_path / "flip.yaml", target="argo")
    document = yaml.safe_load(out.read_text())
    assert document["kind"] == "Workflow" and document["spec"]["onExit"] == "print-op"
    with pytest.raises(SpecError, match=r"Argo Workflow cannot be run back"):
        load_package(out)


def test_argo_workflow_details() -> None:
    from pipelines.compiler.argo import to_workflow

    flip = to_workflow(load_pipeline(FLIP))
    templates = {t["name"]: t for t in flip["spec"]["templates"]}
    tasks = {t["name"]: t for t in templates["exit-handler-1"]["dag"]["tasks"]}
    # one counter for all groups, as kfp 1.8 numbers them: exit-handler-1, then condition-2 ... condition-5
    assert sorted(tasks) == ["condition-2", "condition-5", "flip-coin-op"]
    assert tasks["condition-2"]["when"] == '"{{tasks.flip-coin-op.outputs.parameters.Output}}" == "heads"'
    inner = {t["name"]: t for t in templates["condition-2"]["dag"]["tasks"]}
    assert inner["condition-3"]["when"] == "{{tasks.get-number-op.outputs.parameters.Output}} > 5"
    assert templates["condition-3"]["inputs"] == {"parameters": [{"name": "get-number-op-Output"}]}

    loops = to_workflow(load_pipeline(GOLDEN / "valid" / "v2_control_flow.py"))
    templates = {t["name"]: t for t in loops["spec"]["templates"]}
    assert templates["for-loop-4-loop"]["parallelism"] == 1
    assert templates["for-loop-4-loop"]["dag"]["tasks"][0]["withItems"] == [
        {"x": 1, "label": "a"},
        {"x": 2, "label": "b"},
    ]
    root = {t["name"]: t for t in templates["v2-control-flow"]["dag"]["tasks"]}
    assert root["for-loop-5"]["withParam"] == "{{tasks.numbers.outputs.parameters.Output}}"
    assert root["add-all"]["arguments"]["parameters"] == [
        {"name": "values", "value": "{{tasks.for-loop-5.outputs.parameters.square-2-Output}}"}
    ]
    assert templates["pick"]["retryStrategy"]["limit"] == 2

    settings = to_workflow(load_pipeline(GOLDEN / "valid" / "v2_artifacts.py"))
    templates = {t["name"]: t for t in settings["spec"]["templates"]}
    assert templates["prepare"]["container"]["resources"] == {"limits": {"cpu": "1", "memory": "256Mi"}}
    assert templates["train"]["activeDeadlineSeconds"] == 60
    body = {t["name"]: t for t in templates["exit-handler-1"]["dag"]["tasks"]}
    assert body["train"]["arguments"]["artifacts"] == [
        {"name": "data", "from": "{{tasks.prepare.outputs.artifacts.data}}"}
    ]
    assert settings["spec"]["onExit"] == "report"


def test_bad_packages_are_refused_with_the_field_named(tmp_path: Path) -> None:
    document = dump(load_pipeline(GOLDEN / "valid" / "v1_calc.py"))
    document["tasks"]["add-op-3"]["arguments"]["a"] = {"task": "add-op", "output": "Missing"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(
        SpecError, match=r"tasks\.add-op-3\.arguments\.a: task add-op has no output 'Missing'"
    ):
        load_package(path)
    document["tasks"]["add-op-3"]["arguments"]["a"] = {"task": "add-op", "output": "Output", "extra": 1}
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError, match=r"tasks\.add-op-3\.arguments\.a"):
        load_package(path)
    document["schemaVersion"] = "tuner.dev/pipelines/v0"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError, match=r"schemaVersion: expected 'tuner\.dev/pipelines/v1'"):
        load_package(path)
    with pytest.raises(SpecError, match=r"use \.yaml, \.zip or \.tar\.gz"):
        write_package(load_pipeline(GOLDEN / "valid" / "v1_calc.py"), tmp_path / "calc.txt")
    assert not (tmp_path / "calc.txt").exists()


def test_as_spec_accepts_undecorated_functions_like_kfp_v1(tmp_path: Path) -> None:
    import importlib.util

    path = tmp_path / "plain.py"
    path.write_text(
        "from pipelines.kfp import dsl\n\n"
        "@dsl.component\ndef step() -> int:\n    return 1\n\n"
        "def plain_pipeline(n: int = 1):\n    step()\n"
    )
    module_spec = importlib.util.spec_from_file_location("plain_pipeline_module", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    spec = as_spec(module.plain_pipeline)
    assert spec.pipeline.name == "plain-pipeline" and list(spec.tasks) == ["step"]
    with pytest.raises(TypeError, match=r"expected a @dsl\.pipeline function"):
        as_spec(42)
