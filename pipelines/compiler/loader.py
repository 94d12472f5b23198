"""Finding a pipeline given on the command line: a Python file (and optionally which pipeline in it) or a
compiled package.

A Python file is imported as a module of its own (its `if __name__ == "__main__":` block does not run),
with its folder on `sys.path` while it loads so that it can import its neighbours. `--pipeline` matches
the function's name, the variable's name or the pipeline's `name=` (as written or sanitised).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path

from pipelines.compiler.compiler import as_spec
from pipelines.compiler.ir import PipelineSpec
from pipelines.compiler.package import PACKAGE_SUFFIXES, load_package
from pipelines.dsl.context import sanitize_name
from pipelines.dsl.pipeline import Pipeline
from tuner.errors import Problem, SpecError


def _import_file(path: Path) -> dict[str, object]:
    module_name = "_tuner_pipeline_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SpecError([Problem("file", "not a Python file")], str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SpecError:
        raise
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f"line {f.lineno}" for f in reversed(frames) if f.filename == str(path)), "")
        raise SpecError(
            [Problem(where, f"importing the file raised {type(exc).__name__}: {exc}")], str(path)
        ) from None
    finally:
        sys.path.remove(str(path.parent))
    return vars(module)


def find_pipelines(namespace: dict[str, object]) -> dict[str, Pipeline]:
    """The pipelines defined in a module, by variable name (each object once)."""
    found: dict[str, Pipeline] = {}
    for key, value in namespace.items():
        if isinstance(value, Pipeline) and all(value is not p for p in found.values()):
            found[key] = value
    return found


def pick_pipeline(pipelines: dict[str, Pipeline], name: str | None, source: str) -> Pipeline:
    """The pipeline `name` names (or the only one).

    Raises:
        SpecError: none matches, or several do and no name was given; the message lists them.
    """
    listing = ", ".join(f"{k} (name {p.display_name!r})" for k, p in pipelines.items()) or "none"
    if name is None:
        if len(pipelines) == 1:
            return next(iter(pipelines.values()))
        message = (
            "no @dsl.pipeline function found"
            if not pipelines
            else f"several pipelines: {listing}; choose one with --pipeline"
        )
        raise SpecError([Problem("--pipeline", message)], source)
    matches = [
        p
        for key, p in pipelines.items()
        if name in (key, p.pipeline_func.__name__, p.display_name, p.name) or sanitize_name(name) == p.name
    ]
    unique = list({id(p): p for p in matches}.values())
    if len(unique) == 1:
        return unique[0]
    reason = "matches several pipelines" if unique else "matches no pipeline"
    raise SpecError([Problem("--pipeline", f"{name!r} {reason}; pipelines in the file: {listing}")], source)


def load_pipeline(path: str | Path, name: str | None = None) -> PipelineSpec:
    """The compiled IR of a pipeline file (`.py`) or package (`.yaml`, `.zip`, `.tar.gz`).

    Raises:
        SpecError: the file is missing, is not a pipeline, or the pipeline is invalid.
    """
    source = Path(path)
    if not source.exists():
        raise SpecError([Problem("file", "no such file")], str(path))
    if source.suffix == ".py":
        pipeline = pick_pipeline(find_pipelines(_import_file(source.resolve())), name, str(path))
        return as_spec(pipeline)
    if str(source).lower().endswith(PACKAGE_SUFFIXES):
        spec = load_package(source)
        if name is not None and name not in (
            spec.pipeline.name,
            spec.pipeline.display_name,
            spec.pipeline.function_name,
        ):
            raise SpecError(
                [
                    Problem(
                        "--pipeline",
                        f"the package holds pipeline {spec.pipeline.display_name or spec.pipeline.name!r}, not {name!r}",
                    )
                ],
                str(path),
            )
        return spec
    raise SpecError(
        [Problem("file", "expected a Python file (.py) or a compiled package (.yaml, .zip, .tar.gz)")],
        str(path),
    )
