"""What a person sees while a pipeline runs: each task's output prefixed by its name, one line per state
change, notes (an image not used, a GPU missing, packages not installed) and a final summary drawn as the
pipeline's groups with each task's state, time, outputs and log.

`RunObserver` is the seam (the CLI, `run_pipeline_func_locally` and `Client()` use `ConsoleObserver`;
tests may pass `SilentObserver` or their own). Task output goes to stdout, progress to stderr.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol, TextIO

from pipelines.compiler.ir import PipelineSpec
from pipelines.runner.records import RunRecord, RunState, TaskRecord, TaskState

_MARKS = {
    TaskState.SUCCEEDED: "✓",
    TaskState.CACHED: "≡",
    TaskState.FAILED: "✗",
    TaskState.SKIPPED: "-",
    TaskState.RUNNING: "…",
    TaskState.PENDING: "·",
    TaskState.CANCELLED: "⊘",
}


class RunObserver(Protocol):
    """Receives progress as it happens; must return quickly (the runner waits for it)."""

    def run_started(self, run: RunRecord, spec: PipelineSpec) -> None: ...

    def task_started(self, task: TaskRecord) -> None: ...

    def task_output(self, task: TaskRecord, line: str) -> None: ...

    def task_retrying(self, task: TaskRecord, delay: float, reason: str) -> None: ...

    def task_finished(self, task: TaskRecord) -> None: ...

    def note(self, message: str) -> None: ...

    def run_finished(
        self, run: RunRecord, spec: PipelineSpec, tasks: list[TaskRecord], loops: dict[str, str]
    ) -> None: ...


class SilentObserver:
    """Shows nothing; keeps the notes in `notes`."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.lines: list[tuple[str, str]] = []

    def run_started(self, run: RunRecord, spec: PipelineSpec) -> None:
        pass

    def task_started(self, task: TaskRecord) -> None:
        pass

    def task_output(self, task: TaskRecord, line: str) -> None:
        self.lines.append((task.name, line))

    def task_retrying(self, task: TaskRecord, delay: float, reason: str) -> None:
        pass

    def task_finished(self, task: TaskRecord) -> None:
        pass

    def note(self, message: str) -> None:
        self.notes.append(message)

    def run_finished(
        self, run: RunRecord, spec: PipelineSpec, tasks: list[TaskRecord], loops: dict[str, str]
    ) -> None:
        pass


def _short(value: Any, width: int = 48) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}s"


class ConsoleObserver:
    """Plain text progress for terminals and logs."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, summary: bool = True) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.summary = summary
        self._lock = threading.Lock()

    def _progress(self, text: str) -> None:
        with self._lock:
            self.err.write(text + "\n")
            self.err.flush()

    def run_started(self, run: RunRecord, spec: PipelineSpec) -> None:
        title = spec.pipeline.display_name or spec.pipeline.name
        args = ", ".join(f"{k}={v!r}" for k, v in run.arguments.items())
        self._progress(f"run {run.run_id[:8]} of {title!r}" + (f" with {args}" if args else ""))

    def task_started(self, task: TaskRecord) -> None:
        attempt = f" (attempt {task.attempts})" if task.attempts > 1 else ""
        self._progress(f"▶ {task.name}{attempt}")

    def task_output(self, task: TaskRecord, line: str) -> None:
        with self._lock:
            self.out.write(f"[{task.name}] {line}")
            if not line.endswith("\n"):
                self.out.write("\n")
            self.out.flush()

    def task_retrying(self, task: TaskRecord, delay: float, reason: str) -> None:
        self._progress(f"↻ {task.name} {reason}; retrying in {delay:g}s")

    def task_finished(self, task: TaskRecord) -> None:
        mark = _MARKS.get(task.state, "?")
        detail = _seconds(task.duration)
        if task.state == TaskState.CACHED:
            if task.cached_from:
                run, _, source = task.cached_from.partition("/")
                detail = f"cached from run {run}" + (f", task {source}" if source else "")
            else:
                detail = "cached"
        elif task.state in (TaskState.FAILED, TaskState.SKIPPED):
            detail = task.message
        self._progress(f"{mark} {task.name} {task.state.value.lower()}" + (f": {detail}" if detail else ""))

    def note(self, message: str) -> None:
        self._progress(f"note: {message}")

    def run_finished(
        self, run: RunRecord, spec: PipelineSpec, tasks: list[TaskRecord], loops: dict[str, str]
    ) -> None:
        if self.summary:
            self._progress("\n".join(summary_lines(run, spec, tasks, loops)))


def _group_header(spec: PipelineSpec, name: str, loops: dict[str, str]) -> str:
    group = spec.groups[name]
    label = group.display_name or name
    if group.kind == "condition":
        text = f"{label}: if {_condition_text(group.condition)}"
    elif group.kind == "exitHandler":
        text = f"{label}: exit handler (then {group.exit_task})"
    elif group.kind == "subGraph":
        text = f"{label}: sub-graph (parallelism {group.parallelism})"
    elif group.kind == "graph":
        calls_itself = any(g.recursive_ref == name for g in spec.groups.values())
        text = f"{name}: graph component {label}" + (" (calls itself)" if calls_itself else "")
    else:
        text = f"{label}: for each item" + (
            f" (parallelism {group.parallelism})" if group.parallelism else ""
        )
    return text + (f" — {loops[name]}" if name in loops else "")


def _condition_text(expr: Any) -> str:
    if expr is None:
        return "?"
    if hasattr(expr, "op"):
        return f"{_ref_text(expr.left)} {expr.op} {_ref_text(expr.right)}"
    if hasattr(expr, "not_"):
        return f"not ({_condition_text(expr.not_)})"
    return " and ".join(_condition_text(p) for p in expr.all)


def _ref_text(ref: Any) -> str:
    if hasattr(ref, "value"):
        return repr(ref.value)
    if hasattr(ref, "input"):
        return ref.input
    if hasattr(ref, "task"):
        return f"{ref.task}.{ref.output}"
    if hasattr(ref, "loop_item"):
        return f"{ref.loop_item}.item" + (f".{ref.field}" if ref.field else "")
    return str(ref)


def task_line(task: TaskRecord, indent: str, show_log: bool) -> str:
    """One summary line: mark, name, state, time, outputs or reason, log path."""
    mark = _MARKS.get(task.state, "?")
    name = task.name + (f" ({task.display_name})" if task.display_name else "")
    parts = [f"{indent}{mark} {name}", task.state.value]
    if task.duration is not None and task.state != TaskState.CACHED:
        parts.append(_seconds(task.duration))
    if task.state.has_outputs:
        shown = {**task.outputs}
        for key, ref in task.output_artifacts.items():
            shown.setdefault(key, ref.uri)
        if shown:
            parts.append(", ".join(f"{k}={_short(v)}" for k, v in shown.items()))
    if task.message and task.state in (TaskState.FAILED, TaskState.SKIPPED):
        parts.append(task.message)
    if show_log and task.log_path and task.state == TaskState.FAILED:
        parts.append(f"log: {task.log_path}")
    return "  ".join(parts)


def summary_lines(
    run: RunRecord, spec: PipelineSpec, tasks: list[TaskRecord], loops: dict[str, str], show_logs: bool = True
) -> list[str]:
    """The run drawn as its groups, each task with its state (a text DAG)."""
    took = f" in {run.finished_at - run.started_at:.2f}s" if run.finished_at else ""
    title = spec.pipeline.display_name or spec.pipeline.name
    lines = [
        f"run {run.run_id[:8]} {title!r}: {run.state.value}{took}"
        + (f" ({run.message})" if run.message else "")
    ]
    by_task: dict[str, list[TaskRecord]] = {}
    for record in tasks:
        by_task.setdefault(record.task, []).append(record)
    open_groups: list[str] = []
    for name, task_spec in spec.tasks.items():
        chain = spec.group_chain(task_spec.group)
        common = 0
        while common < min(len(chain), len(open_groups)) and chain[common] == open_groups[common]:
            common += 1
        open_groups = open_groups[:common]
        for group in chain[common:]:
            lines.append("  " * (len(open_groups) + 1) + _group_header(spec, group, loops))
            open_groups.append(group)
        indent = "  " * (len(chain) + 1)
        records = by_task.get(name)
        if not records:
            lines.append(f"{indent}- {name}  not run")
        for record in records or []:
            lines.append(task_line(record, indent, show_logs))
    counts: dict[str, int] = {}
    for record in tasks:
        counts[record.state.value] = counts.get(record.state.value, 0) + 1
    lines.append("  " + ", ".join(f"{n} {s.lower()}" for s, n in counts.items()))
    if run.run_dir:
        lines.append(f"  logs: {run.run_dir}/logs")
    if run.outputs:
        lines.append("  outputs: " + ", ".join(f"{k}={_short(v)}" for k, v in run.outputs.items()))
    if (
        run.state == RunState.FAILED
        and not any(t.state == TaskState.FAILED for t in tasks)
        and not run.message
    ):
        lines.append("  (failed before any task ran)")
    return lines
