"""One task's life on disk: resolve and check its inputs, look it up in the cache, lay out its private
folder, materialise its input files, start its process, and collect its outputs into the artifact store.

Folder of a task: `<run dir>/tasks/<name>/` with `work/` (the process's working directory), `inputs/<name>/`
(materialised input files), `outputs/<name>/` (where output files are written), `files/` (the private
copies of a container step's absolute output paths) and `result.marshal` (the executor's returned values).

A container step's `file_outputs` paths are rewritten wherever they occur in its command and arguments
(before input values are substituted, so data is never rewritten) to `files/<the same absolute path>`,
which keeps two tasks that both write `/tmp/results.txt` apart. A file output's value is its text without
the trailing line break (Argo trims output parameters the same way).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pipelines.compiler.ir import TOKEN_PATTERN, ComponentSpec, canonical_json
from pipelines.runner.executor import CoercionError, coerce, render
from pipelines.runner.plan import Instance, Resolved
from pipelines.runner.processes import TaskProcess, executor_command, send_spec, start_process
from pipelines.runner.records import ArtifactRef, CacheEntry, RunRecord, TaskRecord
from tuner.errors import TunerError

if TYPE_CHECKING:
    from pipelines.runner.local import _Execution

EXIT_FILE = "exit-code"  # a Python task's exit code, written by the executor as it ends (see `adopt`)
MAX_VALUE_BYTES = 1 << 20  # a file output larger than this is kept as an artifact only, not read as a value


class TaskFailure(Exception):
    """The task cannot run or did not produce what it declared; the message says what and where."""


@dataclass
class PreparedTask:
    """Everything needed to start (and restart) one task's process."""

    inst_id: str
    component_key: str
    component: ComponentSpec
    task_dir: Path
    cache_key: str | None
    cache_hit: CacheEntry | None = None
    python_spec: bytes = b""
    python: str | None = None
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    output_paths: dict[str, Path] = field(default_factory=dict)
    file_outputs: dict[str, tuple[Path, str]] = field(default_factory=dict)  # name -> (private, original)
    output_params: dict[str, str] = field(default_factory=dict)  # python parameter -> output name
    init_containers: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, command line)
    started: float = 0.0
    _log: IO[bytes] | None = None
    log_path: Path | None = None

    def close_log(self) -> None:
        """Close the log file if it is open."""
        if self._log is not None and not self._log.closed:
            self._log.close()

    @property
    def log(self) -> IO[bytes]:
        """The task's log file, opened on first use (appending across attempts)."""
        if self._log is None or self._log.closed:
            assert self.log_path is not None
            self._log = self.log_path.open("ab")
        return self._log


def safe_name(inst_id: str) -> str:
    """A file name for an instance: `inc-op[2]` -> `inc-op.2` (task names never contain dots)."""
    return inst_id.replace("][", ".").replace("[", ".").replace("]", "")


RUN_ID_TOKEN = "{{workflow.uid}}"  # KFP v1 dsl.RUN_ID_PLACEHOLDER, v2 PIPELINE_JOB_ID_PLACEHOLDER
POD_NAME_TOKEN = (
    "{{pod.name}}"  # part of KFP v1 dsl.EXECUTION_ID_PLACEHOLDER and v2 PIPELINE_TASK_ID_PLACEHOLDER
)
RUN_NAME_TOKEN = "{{workflow.name}}"  # KFP v2 PIPELINE_JOB_NAME_PLACEHOLDER / _RESOURCE_NAME_PLACEHOLDER
CREATED_TOKEN = "{{workflow.creationTimestamp}}"  # KFP v2 PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER


def runtime_placeholders(text: str, run: RunRecord, inst_id: str) -> str:
    """The run's placeholders filled in for a local run (on Argo, Argo fills the same tokens): KFP v1's
    `dsl.RUN_ID_PLACEHOLDER` / `EXECUTION_ID_PLACEHOLDER` and KFP v2's `PIPELINE_JOB_ID_PLACEHOLDER`,
    `PIPELINE_TASK_ID_PLACEHOLDER`, `PIPELINE_JOB_NAME_PLACEHOLDER`, `PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER`
    and `PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER`: the run's id, the run's id with the task's name, the
    run's name as the store keeps it, and when the run started (UTC, RFC 3339)."""
    if "{{" not in text:
        return text
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.started_at))
    return (
        text.replace(RUN_ID_TOKEN, run.run_id)
        .replace(POD_NAME_TOKEN, safe_name(inst_id))
        .replace(RUN_NAME_TOKEN, run.run_name or f"{run.pipeline_name}-{run.run_id[:8]}")
        .replace(CREATED_TOKEN, created)
    )


def _input_values(
    execution: _Execution, inst: Instance, component: ComponentSpec, record: TaskRecord
) -> tuple[dict[str, Any], dict[str, Resolved], dict[str, Any]]:
    """(value inputs coerced, file/artifact inputs as resolved, the cache key's view of the inputs)."""
    args = execution.plan.arguments_of(inst)
    values: dict[str, Any] = {}
    files: dict[str, Resolved] = {}
    fingerprint: dict[str, Any] = {}
    for key, spec in component.inputs.items():
        if spec.passing == "finalStatus":
            continue
        resolved = args.get(key, Resolved(spec.default))
        if spec.passing == "value":
            try:
                raw = execution.plan.value_of(resolved)
                if isinstance(raw, str) and "{{" in raw:
                    raw = runtime_placeholders(raw, execution.run, inst.id)
                value = coerce(raw, spec.type)
            except CoercionError as exc:
                raise TaskFailure(f"input {key!r}: {exc}") from None
            values[key] = record.inputs[key] = fingerprint[key] = value
        else:
            files[key] = resolved
            if resolved.artifact is not None:
                record.input_artifacts[key] = resolved.artifact
                record.inputs[key] = resolved.artifact.uri
                fingerprint[key] = {"artifact": resolved.artifact.digest}
            else:
                record.inputs[key] = resolved.value
                fingerprint[key] = {"value": resolved.value}
    return values, files, fingerprint


def _cache_key(
    execution: _Execution, inst: Instance, component: ComponentSpec, fingerprint: dict[str, Any]
) -> str | None:
    caching = execution.spec.tasks[inst.task].caching
    if not (execution.options.enable_caching and caching.enabled) or execution.plan.is_exit_task(inst.task):
        return None
    if caching.key is not None:
        basis = f"{component.digest()}\0custom\0{caching.key}"
    else:
        env = execution.spec.tasks[inst.task].env
        basis = canonical_json({"component": component.digest(), "inputs": fingerprint, "env": env})
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def _lookup(execution: _Execution, inst: Instance, key: str) -> CacheEntry | None:
    staleness = execution.spec.tasks[inst.task].caching.max_staleness_seconds
    if staleness is not None and staleness <= 0:
        return None
    entry = execution.recorder.cache_lookup(key, staleness)
    if entry is None or not all(execution.store.exists(ref.uri) for ref in entry.output_artifacts.values()):
        return None
    return entry


def prepare_task(execution: _Execution, inst: Instance, record: TaskRecord) -> PreparedTask:
    """Resolve inputs, consult the cache, and (on a miss) lay out the task's folder and command.

    Raises:
        TaskFailure: an input does not fit its declared type, or an input file cannot be materialised.
    """
    task = execution.spec.tasks[inst.task]
    component = execution.spec.components[task.component]
    values, files, fingerprint = _input_values(execution, inst, component, record)
    key = _cache_key(execution, inst, component, fingerprint)
    record.cache_key = key
    task_dir = execution.run_dir / "tasks" / safe_name(inst.id)
    prepared = PreparedTask(inst.id, task.component, component, task_dir, key)
    prepared.log_path = Path(record.log_path or task_dir / "task.log")
    if key is not None:
        prepared.cache_hit = _lookup(execution, inst, key)
        if prepared.cache_hit is not None:
            return prepared
    (task_dir / "work").mkdir(parents=True, exist_ok=True)
    paths = _materialise(execution, component, files, task_dir, record)
    prepared.env = dict(task.env)
    for init in task.init_containers:
        argv = [runtime_placeholders(part, execution.run, inst.id) for part in [*init.command, *init.args]]
        if not argv:
            raise TaskFailure(
                f"init container {init.name!r} has no command: it would run the entrypoint of image {init.image}, "
                "which cannot run on this machine; give it a command"
            )
        prepared.init_containers.append((init.name, argv))
    if component.python is not None:
        _prepare_python(execution, inst, prepared, values, paths)
    else:
        _prepare_container(execution, prepared, values, paths)
    return prepared


def _materialise(
    execution: _Execution,
    component: ComponentSpec,
    files: dict[str, Resolved],
    task_dir: Path,
    record: TaskRecord,
) -> dict[str, Path]:
    """Input files in `inputs/<name>/data`: a stored artifact copied, or a value written as text."""
    paths: dict[str, Path] = {}
    for key, resolved in files.items():
        target = task_dir / "inputs" / key / "data"
        target.parent.mkdir(parents=True, exist_ok=True)
        if resolved.artifact is not None:
            try:
                execution.store.fetch(resolved.artifact.uri, target)
            except (OSError, TunerError) as exc:
                raise TaskFailure(
                    f"input {key!r}: cannot read artifact {resolved.artifact.uri}: {exc}"
                ) from None
        elif resolved.value is not None:
            target.write_text(render(resolved.value))
        else:
            continue  # an optional file input left out
        paths[key] = target
    return paths


def _prepare_python(
    execution: _Execution,
    inst: Instance,
    prepared: PreparedTask,
    values: dict[str, Any],
    paths: dict[str, Path],
) -> None:
    component = prepared.component
    assert component.python is not None
    params: dict[str, Any] = {}
    path_args: dict[str, str] = {}
    artifacts: dict[str, dict[str, Any]] = {}
    final: dict[str, Any] = {}
    open_files: dict[str, str] = {}
    for key, spec in component.inputs.items():
        param = spec.param or key
        if spec.passing == "value":
            params[param] = values[key]
        elif spec.passing == "finalStatus":
            final[param] = execution.plan.final_status(inst)
        elif key in paths:
            ref = execution.records[inst.id].input_artifacts.get(key)
            if spec.passing == "path":
                path_args[param] = str(paths[key])
                if spec.open_as:
                    open_files[param] = spec.open_as
            else:
                artifacts[param] = {
                    "name": key,
                    "uri": ref.uri if ref else "",
                    "path": str(paths[key]),
                    "metadata": ref.metadata if ref else {},
                    "direction": "input",
                }
        elif spec.optional:
            params[param] = None
    value_outputs: list[dict[str, Any]] = []
    for key, out in component.outputs.items():
        if out.passing == "value":
            value_outputs.append({"name": key, "type": out.type})
            continue
        path = prepared.task_dir / "outputs" / key / "data"
        path.parent.mkdir(parents=True, exist_ok=True)
        prepared.output_paths[key] = path
        param = out.param or key
        prepared.output_params[param] = key
        if out.passing == "path":
            path_args[param] = str(path)
            if out.open_as:
                open_files[param] = out.open_as
        else:
            uri = path.as_uri()  # the stored URI is known once the content is (content-addressed store)
            artifacts[param] = {
                "name": key,
                "uri": uri,
                "path": str(path),
                "metadata": {},
                "direction": "output",
            }
    spec_doc: dict[str, Any] = {
        "source": component.python.source,
        "function": component.python.function_name,
        "cwd": str(prepared.task_dir / "work"),
        "env": prepared.env,
        "params": params,
        "paths": path_args,
        "openFiles": open_files,
        "artifacts": artifacts,
        "finalStatus": final,
        "outputs": value_outputs,
        "result": str(prepared.task_dir / "result.marshal"),
        "exitFile": str(prepared.task_dir / EXIT_FILE),
    }
    prepared.python = execution.python_for(prepared.component_key)
    if prepared.python is None and execution.site_paths is not None:
        spec_doc["sitePaths"] = execution.site_paths
    prepared.python_spec = marshal.dumps(spec_doc)


def _rewrite_paths(text: str, rewrites: dict[str, str]) -> str:
    for original, private in rewrites.items():
        pattern = r"(?<![\w.\-/])" + re.escape(original) + r"(?![\w.\-])"
        text = re.sub(pattern, private.replace("\\", "\\\\"), text)
    return text


def volume_folder(data_dir: Path, claim: str) -> Path:
    """The folder standing for a volume (a PersistentVolumeClaim on Kubernetes) on this machine."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in claim).lstrip(".") or "_"
    return data_dir / "pipelines" / "volumes" / safe


def _prepare_container(
    execution: _Execution, prepared: PreparedTask, values: dict[str, Any], paths: dict[str, Path]
) -> None:
    container = prepared.component.container
    assert container is not None
    rewrites: dict[str, str] = {}
    for mount, key in container.volume_mounts.items():  # KFP v1 pvolumes: the volume's folder
        folder = volume_folder(execution.runner.settings.data_dir, render(values.get(key)))
        folder.mkdir(parents=True, exist_ok=True)
        rewrites[mount.rstrip("/") or "/"] = str(folder)
    for name, original in container.file_outputs.items():
        private = prepared.task_dir / "files" / original.lstrip("/")
        private.parent.mkdir(parents=True, exist_ok=True)
        prepared.file_outputs[name] = (private, original)
        rewrites[original] = str(private)

    def substitute(match: re.Match[str]) -> str:
        name = match.group("input")
        if name is None:
            return match.group(0)
        if name in paths:
            return str(paths[name])
        return render(values.get(name))

    prepared.argv = [
        runtime_placeholders(
            TOKEN_PATTERN.sub(substitute, _rewrite_paths(part, rewrites)), execution.run, prepared.inst_id
        )
        for part in [*container.command, *container.args]
    ]
    if not prepared.argv:
        raise TaskFailure(f"component {prepared.component.name!r} has no command")


def start_task(execution: _Execution, prepared: PreparedTask, record: TaskRecord) -> TaskProcess:
    """Start one attempt's process.

    Raises:
        TaskFailure: the program cannot be started.
    """
    prepared.started = time.time()
    (prepared.task_dir / EXIT_FILE).unlink(missing_ok=True)
    prepared.log.write(f"--- attempt {record.attempts} ---\n".encode())
    prepared.log.flush()
    for path in prepared.output_paths.values():  # a retry starts from clean outputs
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    if prepared.init_containers and prepared.component.python is not None:
        main = executor_command(prepared.python or sys.executable)
        process = start_process(init_wrapper(prepared.init_containers, main), None, None, stdin=True)
        send_spec(process, prepared.python_spec)
        return process
    if prepared.component.python is not None and prepared.python is None:
        process = execution.pool.take()
        send_spec(process, prepared.python_spec)
        execution.pool.fill()  # start the replacement while the task runs
        return process
    if prepared.component.python is not None:
        assert prepared.python is not None  # a cached virtual environment's interpreter
        process = start_process(executor_command(prepared.python), None, None, stdin=True)
        send_spec(process, prepared.python_spec)
        return process
    env = {**os.environ, **prepared.env}
    argv = (
        init_wrapper(prepared.init_containers, prepared.argv) if prepared.init_containers else prepared.argv
    )
    try:
        return start_process(argv, prepared.task_dir / "work", env)
    except FileNotFoundError:
        container = prepared.component.container
        image = (
            f" (image {container.image} has it; container steps run on this machine's programs here)"
            if container
            else ""
        )
        raise TaskFailure(
            f"cannot start {prepared.argv[0]!r}: it is not installed on this machine{image}; install it or put a "
            "stand-in on PATH"
        ) from None
    except OSError as exc:
        raise TaskFailure(f"cannot start {prepared.argv[0]!r}: {exc.strerror or exc}") from None


INIT_FAILED = re.compile(r"init container '(?P<name>[^']+)' failed with exit code (?P<code>\d+)")


def init_wrapper(inits: list[tuple[str, list[str]]], main: list[str]) -> list[str]:
    """A command line running each init container's command in turn (stdin closed, so that the step's own
    process still gets its input), stopping at the first failure with a line `INIT_FAILED` matches, then
    replacing itself with the step's own command."""
    lines = [
        f"{shlex.join(argv)} </dev/null || {{ code=$?; "
        f"echo {shlex.quote(f'init container {name!r} failed with exit code')} $code >&2; exit $code; }}"
        for name, argv in inits
    ]
    return ["sh", "-c", "\n".join([*lines, 'exec "$@"']), "sh", *main]


def collect_outputs(
    execution: _Execution, prepared: PreparedTask, inst: Instance, record: TaskRecord
) -> None:
    """Read the returned values and store the output files as artifacts.

    Raises:
        TaskFailure: a declared output is missing.
    """
    component = prepared.component
    outputs: dict[str, Any] = {}
    metadata: dict[str, dict[str, Any]] = {}
    files = dict(prepared.output_paths)
    if component.python is not None:
        result_path = prepared.task_dir / "result.marshal"
        try:
            result = marshal.loads(result_path.read_bytes())
        except FileNotFoundError:
            # Exit code 0 without a result file (`os._exit(0)`): fine for a component that returns nothing.
            value_outputs = [k for k, o in component.outputs.items() if o.passing == "value"]
            if value_outputs:
                raise TaskFailure(
                    "the task exited with code 0 without returning its output(s) "
                    f"{', '.join(value_outputs)}; return them from the function instead of exiting"
                ) from None
            result = {}
        except (OSError, ValueError, EOFError, TypeError) as exc:
            raise TaskFailure(f"the task ended without writing its results ({exc})") from None
        outputs.update(result.get("outputs", {}))
        for param, meta in result.get("artifacts", {}).items():
            metadata[prepared.output_params.get(param, param)] = meta
    else:
        for name, (private, original) in prepared.file_outputs.items():
            files[name] = _container_output(prepared, name, private, original, execution)
    for name, path in files.items():
        if not path.exists():
            raise TaskFailure(f"output {name!r} was not written (expected a file at {path})")
        if component.container is not None and path.is_file() and path.stat().st_size <= MAX_VALUE_BYTES:
            with contextlib.suppress(UnicodeDecodeError):
                text = path.read_text().rstrip("\r\n")  # as Argo trims output parameters
                declared = component.outputs[name].type
                try:  # a declared Integer/Float/Bool output keeps its type
                    outputs[name] = coerce(text, declared) if declared not in (None, "str") else text
                except CoercionError as exc:
                    raise TaskFailure(f"output {name!r}: {exc}") from None
        stored_name = path.name if path.name != "data" else name  # results.txt keeps its name; data -> model
        ref = execution.store.put(path, stored_name, component.outputs[name].artifact)
        if metadata.get(name):
            ref = ArtifactRef(ref.uri, ref.digest, ref.size, ref.artifact_type, metadata[name])
        record.output_artifacts[name] = ref
    record.outputs = outputs
    for scratch in ("inputs", "outputs", "files"):  # stored now; a failed task keeps its files to look at
        shutil.rmtree(prepared.task_dir / scratch, ignore_errors=True)


def _container_output(
    prepared: PreparedTask, name: str, private: Path, original: str, execution: _Execution
) -> Path:
    """The private file; or, when the command wrote the original path itself (it was not in the command
    line, so it could not be rewritten), that file if it changed during the task."""
    if private.exists():
        return private
    source = Path(original)
    if source.exists() and source.stat().st_mtime >= prepared.started - 1:
        execution.observer.note(
            f"{prepared.inst_id}: output {name!r} was written to {original} itself (the path is not in its command "
            "line, so it could not be made private); taking it from there"
        )
        shutil.copyfile(source, private) if source.is_file() else shutil.copytree(source, private)
    return private
