"""Runs one lightweight component inside its task process, and the value rules every part shares.

The local runner starts `python -c <this file's source>` and writes one JSON task spec to its stdin; on
Argo the container runs the same source with `--spec JSON --param name=value ...`. The executor compiles
the function's source (annotations left unevaluated, so the task never imports this package or KFP),
calls it with its inputs (values, local paths, artifact objects), checks the returned values against the
declared types and writes them to the result file. It imports only the standard library, and only what
it needs, because its start-up time is every task's overhead: the spec and the result travel as `marshal`
data (built in, nothing to import), `json` is imported only when a value needs it.

`coerce` and `render` are imported by the DSL, compiler and runner too, so that a value is converted the
same way at compile time, in the runner and in the task: an int stays `7`, a declared float turns `"7"`
into `7.0`, a string argument gets `str(value)`.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any  # dropped from the code tasks run (see processes.executor_source)

_TRUE = ("true", "1", "yes", "y", "on")
_FALSE = ("false", "0", "no", "n", "off")


class CoercionError(ValueError):
    """A value cannot be converted to the declared type."""


def coerce(value: Any, type_name: str | None) -> Any:
    """`value` converted to the declared parameter type (str, int, float, bool, list, dict).

    Untyped (None) and None values pass unchanged. Strings are parsed as KFP v1 did ("7" -> 7 for int,
    7.0 for float; "true"/"false" for bool; JSON for list and dict).

    Raises:
        CoercionError: the value cannot be read as that type; the message shows both.
    """
    if value is None or type_name is None:
        return value
    try:
        converted = _CONVERTERS[type_name](value)
    except KeyError:
        raise CoercionError(f"unknown type {type_name!r}") from None
    except (TypeError, ValueError, OverflowError):
        converted = _FAILED
    if converted is _FAILED:
        shown = repr(value) if len(repr(value)) < 80 else repr(value)[:77] + "..."
        raise CoercionError(f"cannot use {shown} ({type(value).__name__}) as {type_name}")
    return converted


_FAILED = object()


def _to_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict, tuple)):
        return _json().dumps(value)
    return str(value)


def _json() -> Any:
    import json

    return json


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return _FAILED


def _to_int(value: Any) -> Any:
    if isinstance(value, bool):
        return _FAILED
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else _FAILED
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            number = float(text)
            return int(number) if number.is_integer() else _FAILED
    import operator

    return operator.index(value)  # numpy integers and friends


def _to_float(value: Any) -> Any:
    if isinstance(value, bool):
        return _FAILED
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    return float(value)


def _to_list(value: Any) -> Any:
    if isinstance(value, str):
        value = _json().loads(value)
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, list) else _FAILED


def _to_dict(value: Any) -> Any:
    if isinstance(value, str):
        value = _json().loads(value)
    return value if isinstance(value, dict) else _FAILED


_CONVERTERS = {
    "str": _to_str,
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
    "list": _to_list,
    "dict": _to_dict,
}


def render(value: Any) -> str:
    """A value as text inside a string or a command line: `str()` for scalars, JSON for lists and dicts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict, tuple)):
        return _json().dumps(value)
    return str(value)


def plain(value: Any) -> Any:
    """`value` as plain JSON-compatible data (tuples become lists).

    Raises:
        TypeError: something in it is not a str, int, float, bool, None, list or dict with str keys.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: plain(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


class TaskArtifact:
    """What an `Input[...]`/`Output[...]` parameter receives: `path`, `uri`, `name`, `metadata`."""

    def __init__(self, name: str, uri: str, path: str, metadata: dict[str, Any] | None = None) -> None:
        self.name = name
        self.uri = uri
        self.path = path
        self.metadata: dict[str, Any] = dict(metadata or {})

    def __repr__(self) -> str:
        return f"Artifact(name={self.name!r}, uri={self.uri!r}, path={self.path!r})"

    def log_metric(self, metric: str, value: float) -> None:
        """Metrics: record one scalar."""
        self.metadata[metric] = value

    def log_confusion_matrix(self, categories: list[str], matrix: list[list[int]]) -> None:
        """ClassificationMetrics: record a confusion matrix."""
        self.metadata["confusionMatrix"] = {
            "categories": list(categories),
            "matrix": [list(r) for r in matrix],
        }

    def log_roc_curve(self, fpr: list[float], tpr: list[float], threshold: list[float]) -> None:
        """ClassificationMetrics: record a ROC curve."""
        self.metadata["rocCurve"] = {"fpr": list(fpr), "tpr": list(tpr), "threshold": list(threshold)}


class FinalStatus:
    """What a `dsl.PipelineTaskFinalStatus` parameter of an exit task receives."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.state: str = status.get("state", "")
        self.error_message: str = status.get("error_message", "")
        self.error_code: int = int(status.get("error_code", 0))
        self.pipeline_task_name: str = status.get("pipeline_task_name", "")
        self.pipeline_job_resource_name: str = status.get("pipeline_job_resource_name", "")

    def __repr__(self) -> str:
        return (
            f"PipelineTaskFinalStatus(state={self.state!r}, pipeline_task_name={self.pipeline_task_name!r})"
        )


_LOADED_SOURCE: dict[str, str] = {}


def _show_source_in_tracebacks() -> None:
    """Let tracebacks print the component's lines (its code has no file on disk)."""
    import linecache

    for filename, source in _LOADED_SOURCE.items():
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def load_function(source: str, function_name: str) -> Any:
    """Compile and run the component's source; return its function."""
    import __future__

    filename = f"<component {function_name}>"
    _LOADED_SOURCE[filename] = source
    code = compile(source, filename, "exec", flags=__future__.annotations.compiler_flag, dont_inherit=True)
    namespace: dict[str, Any] = {"__name__": "__component__"}
    exec(code, namespace)
    return namespace[function_name]


def _split_outputs(result: Any, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Map the function's return value to its declared value outputs."""
    if not outputs:
        return {}
    names = [o["name"] for o in outputs]
    if len(names) == 1 and not (hasattr(result, "_fields") and names[0] in result._fields):
        return {names[0]: result}
    if hasattr(result, "_asdict"):
        values = result._asdict()
        missing = [n for n in names if n not in values]
        if missing:
            raise CoercionError(f"the returned tuple has no field(s) {', '.join(missing)}")
        return {n: values[n] for n in names}
    if isinstance(result, (tuple, list)) and len(result) == len(names):
        return dict(zip(names, result, strict=True))
    raise CoercionError(f"expected {len(names)} return values ({', '.join(names)}), got {result!r}")


def _checked_output(name: str, value: Any, type_name: str | None) -> Any:
    try:
        return plain(coerce(value, type_name))
    except CoercionError as exc:
        raise CoercionError(f"output {name!r}: {exc}") from None
    except TypeError as exc:
        raise CoercionError(
            f"output {name!r}: {exc} values cannot be passed on; return str, int, float, bool, list or dict"
        ) from None


class _LateSite:
    """Started with `python -S` (the runner's warm processes), the task skips `site`'s start-up cost.

    The site-packages folders go on `sys.path` at once; their `.pth` files (editable installs, import
    hooks) are processed only if an import cannot be found without them, and then the import is retried.
    """

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        import site

        sys.meta_path.remove(self)
        for entry in self.paths:
            site.addsitedir(entry)
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            found = find(name, path, target) if find else None
            if found is not None:
                return found
        return None


def enable_site(paths: list[str]) -> None:
    """What `site` would have done for a task started with `-S`, minus the `.pth` files (see `_LateSite`)."""
    import _sitebuiltins
    import builtins

    for entry in paths:
        if entry not in sys.path:
            sys.path.append(entry)
    sys.meta_path.append(_LateSite(paths))
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()


def run(spec: dict[str, Any]) -> int:
    """Run one task from its spec; write the result file; return the exit code."""
    if spec.get("sitePaths") is not None and sys.flags.no_site:
        enable_site(spec["sitePaths"])
    if spec.get("env"):
        os.environ.update(spec["env"])
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    function = load_function(spec["source"], spec["function"])
    kwargs: dict[str, Any] = dict(spec.get("params", {}))
    kwargs.update(spec.get("paths", {}))
    opened = []
    for param, mode in spec.get("openFiles", {}).items():  # KFP v1 InputTextFile, OutputBinaryFile...
        if "w" in mode:
            os.makedirs(os.path.dirname(kwargs[param]), exist_ok=True)
        handle = open(kwargs[param], mode)  # noqa: SIM115 - closed after the call
        opened.append(handle)
        kwargs[param] = handle
    artifacts = {
        param: TaskArtifact(a["name"], a.get("uri", ""), a["path"], a.get("metadata"))
        for param, a in spec.get("artifacts", {}).items()
    }
    kwargs.update(artifacts)
    for param, status in spec.get("finalStatus", {}).items():
        kwargs[param] = FinalStatus(status)
    outputs = spec.get("outputs", [])
    try:
        try:
            result = function(**kwargs)
        finally:
            for handle in opened:
                handle.close()
    except SystemExit as exc:
        # `sys.exit(0)` (or `sys.exit()`) inside a component is a success, as in KFP; any other code fails.
        if exc.code not in (None, 0):
            raise
        if outputs:
            names = ", ".join(o["name"] for o in outputs)
            raise CoercionError(
                f"the function called sys.exit(0) before returning its output(s) {names}; return them instead"
            ) from None
        result = None
    values = _split_outputs(result, outputs)
    checked = {o["name"]: _checked_output(o["name"], values[o["name"]], o.get("type")) for o in outputs}
    artifact_meta: dict[str, Any] = {}
    for param, artifact in artifacts.items():
        if spec["artifacts"][param].get("direction") != "output":
            continue
        if not os.path.exists(artifact.path) and artifact.metadata:
            with open(artifact.path, "w") as handle:
                _json().dump(artifact.metadata, handle, indent=2)
        artifact_meta[param] = artifact.metadata
    if spec.get("result"):
        result = {"outputs": checked, "artifacts": {k: plain(v) for k, v in artifact_meta.items()}}
        with open(spec["result"], "wb") as handle:
            marshal.dump(result, handle)
    for name, path in spec.get("outputFiles", {}).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(render(checked[name]))
    return 0


def _argo_spec(argv: list[str]) -> dict[str, Any]:
    """`--spec JSON --param name=value ...`: Argo substitutes the values as text; coerce them here."""
    spec: dict[str, Any] = _json().loads(argv[1])
    types: dict[str, str | None] = spec.get("types", {})
    params: dict[str, Any] = {}
    rest = argv[2:]
    for flag, pair in zip(rest[::2], rest[1::2], strict=False):
        if flag != "--param":
            raise SystemExit(f"executor: unexpected argument {flag!r}")
        name, _, text = pair.partition("=")
        params[name] = coerce(text, types.get(name))
    spec["params"] = {**spec.get("params", {}), **params}
    return spec


def main() -> None:
    """Entry point of the task process."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    argv = sys.argv[1:]
    spec: dict[str, Any] = {}
    try:
        spec = _argo_spec(argv) if argv[:1] == ["--spec"] else marshal.loads(sys.stdin.buffer.read())
        code = run(spec)
    except KeyboardInterrupt:
        code = 130
    except SystemExit as exc:  # a non-zero `sys.exit(...)` inside the component
        if isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except CoercionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    except Exception:
        import traceback

        _show_source_in_tracebacks()
        traceback.print_exc()
        code = 1
    if spec.get("exitFile"):  # lets a runner that outlived its parent (a restarted server) read the outcome
        with open(spec["exitFile"], "w") as handle:
            handle.write(str(code))
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
