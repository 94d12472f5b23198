"""The local runner on real subprocesses: scheduling, caching, retries, timeouts, conditions, exit
handlers, loops, typed values, artifacts and path rewriting. Parallelism is checked by the tasks' own
start/end times overlapping (or not), never by the wall time of the run."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote, urlparse

from pipelines.compiler.loader import load_pipeline
from pipelines.runner.records import RunState, TaskState
from pipelines.runner.testing import Harness, overlapping

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden" / "pipelines"

NAP = """
from typing import List
from pipelines.kfp import dsl

@dsl.component
def nap(tag: str, barrier: str, wait_for: str = "") -> List[float]:
    # says it started, then waits until every task named in `wait_for` (comma-separated) has started too:
    # tasks meant to run side by side overlap whatever the machine's load (the minute only bounds a failure)
    import os, time
    start = time.time()
    os.makedirs(barrier, exist_ok=True)
    open(os.path.join(barrier, tag), "w").close()
    bound = time.time() + 60
    while not all(os.path.exists(os.path.join(barrier, t)) for t in wait_for.split(",") if t):
        if time.time() > bound:
            break
        time.sleep(0.01)
    return [start, time.time()]
"""


def window(result, name):  # type: ignore[no-untyped-def]
    start, end = result.task(name).outputs["Output"]
    return (start, end)


def test_independent_tasks_overlap_up_to_parallelism(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        NAP
        + """
@dsl.pipeline(name="three naps")
def naps(barrier: str, wait_for: str):
    for tag in ("a", "b", "c"):
        nap(tag=tag, barrier=barrier, wait_for=wait_for)
"""
    )
    wide = harness.run(
        spec, {"barrier": str(tmp_path / "wide"), "wait_for": "a,b,c"}, parallelism=3, enable_caching=False
    )
    assert wide.success()
    windows = [window(wide, n) for n in ("nap", "nap-2", "nap-3")]
    assert overlapping(windows[0], windows[1]) and overlapping(windows[1], windows[2])

    narrow = harness.run(
        spec, {"barrier": str(tmp_path / "narrow"), "wait_for": ""}, parallelism=1, enable_caching=False
    )
    windows = sorted(window(narrow, n) for n in ("nap", "nap-2", "nap-3"))
    assert not overlapping(windows[0], windows[1]) and not overlapping(windows[1], windows[2])


def test_cpu_limits_budget_the_machine(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        NAP
        + """
@dsl.pipeline(name="heavy naps")
def naps(barrier: str):
    nap(tag="a", barrier=barrier, wait_for="c").set_cpu_limit("2")
    nap(tag="b", barrier=barrier).set_cpu_limit("2")
    nap(tag="c", barrier=barrier, wait_for="a")
"""
    )
    result = harness.run(
        spec, {"barrier": str(tmp_path / "heavy")}, parallelism=3, cpu_budget=2.0, enable_caching=False
    )
    a, b, c = (window(result, n) for n in ("nap", "nap-2", "nap-3"))
    assert not overlapping(a, b)  # each takes the whole 2-core budget
    assert overlapping(a, c)  # a task without limits still runs alongside (they wait for each other)


def test_dependent_tasks_run_in_order_and_values_keep_their_types(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl
from pipelines.kfp.components import func_to_container_op

@func_to_container_op
def make(n: int) -> int:
    return n * 2

@func_to_container_op
def describe(n: int, ratio: float, flag: bool, items: list, table: dict, anything) -> str:
    return f"{type(n).__name__}:{n} {type(ratio).__name__}:{ratio} {flag} {items} {table} {type(anything).__name__}:{anything}"

@dsl.pipeline(name="types")
def types(n: int = 3, anything=5):
    made = make(n)
    describe(made.output, made.output, "true", "[1, 2]", '{"k": 1}', anything)
    describe(made.output, 2, False, [3], {"j": 2}, "%s!" % made.output)
"""
    )
    result = harness.run(spec, {"n": "7"})
    assert result.task("make").outputs == {"Output": 14}
    assert result.task("describe").outputs["Output"] == "int:14 float:14.0 True [1, 2] {'k': 1} int:5"
    assert result.task("describe-2").outputs["Output"] == "int:14 float:2.0 False [3] {'j': 2} str:14!"


def test_conditions_use_real_outputs_and_skip_what_they_exclude(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_flip_coin.py")
    heads = harness.run(spec, {"forced": "heads", "number": 9}, enable_caching=False)
    assert heads.success()
    assert heads.task("print-op-2").inputs["message"] == "heads and 9 > 5!"
    assert heads.task("print-op-2").state == TaskState.SUCCEEDED
    assert heads.task("print-op-3").state == TaskState.SKIPPED
    assert "9 <= 5" in heads.task("print-op-3").message or "false" in heads.task("print-op-3").message
    assert heads.task("fail-op").state == TaskState.SKIPPED
    assert heads.task("print-op").state == TaskState.SUCCEEDED  # the exit task

    low = harness.run(spec, {"forced": "heads", "number": 3}, enable_caching=False)
    assert low.task("print-op-3").inputs["message"] == "heads and 3 <= 5!"
    assert low.task("print-op-2").state == TaskState.SKIPPED


def test_exit_handler_runs_after_a_failure_and_the_run_still_fails(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_flip_coin.py")
    tails = harness.run(spec, {"forced": "tails"}, enable_caching=False)
    assert tails.state == RunState.FAILED
    assert "fail-op" in tails.run.message
    failed, exit_task = tails.task("fail-op"), tails.task("print-op")
    assert failed.state == TaskState.FAILED and "exited with code 1" in failed.message
    assert exit_task.state == TaskState.SUCCEEDED
    assert exit_task.started_at is not None and failed.finished_at is not None
    assert exit_task.started_at >= failed.finished_at
    assert tails.task("get-number-op").state == TaskState.SKIPPED
    log = Path(failed.log_path or "").read_text()
    assert "Failing the run" in log


def test_exit_task_receives_the_final_status(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v2_artifacts.py")
    result = harness.run(spec, {"rows": 4})
    assert result.success()
    lines = [line for name, line in harness.observer.lines if name == "report"]
    assert lines == ["finished: SUCCEEDED \n"]


def test_if_elif_else_takes_one_branch(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v2_control_flow.py")
    for value, branch in ((9, "say"), (2, "say-2"), (0, "say-3")):
        result = harness.run(spec, {"value": value, "n": 2})
        ran = [n for n in ("say", "say-2", "say-3") if result.task(n).state.has_outputs]
        assert ran == [branch], (value, ran)


def test_parallel_for_expands_items_and_collects_typed_outputs(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v2_control_flow.py")
    result = harness.run(spec, {"value": 1, "n": 4})
    assert result.success()
    assert [result.task(f"square[{i}]").outputs["Output"] for i in range(2)] == [1, 4]
    assert [result.task(f"square-2[{i}]").outputs["Output"] for i in range(4)] == [0, 1, 4, 9]
    assert result.task("add-all").inputs["values"] == [0, 1, 4, 9]
    assert result.task("add-all").outputs["Output"] == 14
    assert result.task("say-4").inputs["message"] == "sum of squares: 14"


def test_parallel_for_parallelism_limits_iterations(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        NAP
        + """
@dsl.pipeline(name="looped naps")
def naps(barrier: str):
    with dsl.ParallelFor(["a", "b", "c"], parallelism=1) as tag:
        nap(tag=tag, barrier=barrier)
    with dsl.ParallelFor(["x", "y"]) as tag:
        nap(tag=tag, barrier=barrier, wait_for="x,y")
"""
    )
    result = harness.run(spec, {"barrier": str(tmp_path / "looped")}, parallelism=4, enable_caching=False)
    limited = sorted(window(result, f"nap[{i}]") for i in range(3))
    assert not any(overlapping(limited[i], limited[i + 1]) for i in range(2))
    assert overlapping(window(result, "nap-2[0]"), window(result, "nap-2[1]"))


def test_retries_until_success_with_backoff(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = tmp_path / "attempts.txt"
    spec = make_pipeline(
        f"""
from pipelines.kfp import dsl

@dsl.component
def flaky(path: str) -> int:
    import os, time
    with open(path, "a") as handle:
        handle.write(f"{{time.time()}}\\n")
    attempts = len(open(path).read().splitlines())
    if attempts < 3:
        raise RuntimeError(f"attempt {{attempts}} fails")
    return attempts

@dsl.pipeline(name="flaky")
def flaky_pipeline():
    flaky(path={str(counter)!r}).set_retry(3, backoff_duration="0.2s", backoff_factor=2)
"""
    )
    result = harness.run(spec)
    record = result.task("flaky")
    assert result.success() and record.outputs == {"Output": 3} and record.attempts == 3
    times = [float(t) for t in counter.read_text().split()]
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4
    assert "attempt 1 fails" in Path(record.log_path or "").read_text()


def test_retries_give_up_and_timeouts_fail_the_task(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def broken():
    raise SystemExit(3)

@dsl.component
def slow(marker: str):
    import time
    time.sleep(30)
    open(marker, "w").close()

@dsl.pipeline(name="give up")
def give_up(marker: str):
    broken().set_retry(1)
    slow(marker=marker).set_timeout(0.5)
"""
    )
    marker = tmp_path / "slow-ran-to-its-end"
    result = harness.run(spec, {"marker": str(marker)})
    assert result.state == RunState.FAILED
    assert result.task("broken").attempts == 2
    assert result.task("broken").message.startswith("exited with code 3")
    slow = result.task("slow")
    assert slow.state == TaskState.FAILED and "timed out after 0.5s" in slow.message
    assert not marker.exists()  # stopped at its timeout, not run to its end


def test_failed_producer_skips_consumers_but_not_independent_branches(
    make_pipeline, harness: Harness
) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def boom() -> int:
    raise ValueError("no number today")

@dsl.component
def use(x: int) -> int:
    return x

@dsl.component
def fine() -> int:
    return 1

@dsl.pipeline(name="partial failure")
def partial():
    b = boom()
    use(x=b.output)
    fine()
    fine().after(b)
"""
    )
    result = harness.run(spec)
    assert result.state == RunState.FAILED
    assert result.task("boom").state == TaskState.FAILED
    assert result.task("use").state == TaskState.SKIPPED and "boom failed" in result.task("use").message
    assert result.task("fine").state == TaskState.SUCCEEDED
    assert result.task("fine-2").state == TaskState.SKIPPED
    assert "ValueError: no number today" in Path(result.task("boom").log_path or "").read_text()


def test_caching_reuses_outputs_and_can_be_switched_off(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_calc.py")
    first = harness.run(spec, {"a": 1})
    assert [t.state for t in first.tasks.values()] == [TaskState.SUCCEEDED] * 3
    second = harness.run(spec, {"a": "1"})
    assert [t.state for t in second.tasks.values()] == [TaskState.CACHED] * 3
    assert second.task("add-op-3").outputs == first.task("add-op-3").outputs == {"Output": 13.0}
    assert second.task("add-op").cached_from == f"{first.run_id}/add-op"
    changed = harness.run(spec, {"a": 2})
    assert changed.task("add-op").state == TaskState.SUCCEEDED  # a new input value misses
    assert changed.task("add-op-3").state == TaskState.SUCCEEDED
    off = harness.run(spec, {"a": 1}, enable_caching=False)
    assert all(t.state == TaskState.SUCCEEDED for t in off.tasks.values())


def test_caching_per_task_switch_and_staleness(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def now() -> float:
    import time
    return time.time()

@dsl.pipeline(name="clock")
def clock():
    now()
    now().set_caching_options(False)
    stale = now()
    stale.execution_options.caching_strategy.max_cache_staleness = "P0D"
"""
    )
    harness.run(spec)
    again = harness.run(spec)
    assert again.task("now").state == TaskState.CACHED
    assert again.task("now-2").state == TaskState.SUCCEEDED
    assert again.task("now-3").state == TaskState.SUCCEEDED


def test_cache_key_covers_input_artifact_contents(make_pipeline, harness: Harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "source.txt"
    spec = make_pipeline(
        f"""
from pipelines.kfp import dsl
from pipelines.kfp.components import InputPath, OutputPath, create_component_from_func

@create_component_from_func
def read_source(out_path: OutputPath("txt")):
    import shutil
    shutil.copyfile({str(source)!r}, out_path)

@create_component_from_func
def count(text_path: InputPath("txt")) -> int:
    return len(open(text_path).read())

@dsl.pipeline(name="contents")
def contents():
    read = read_source().set_caching_options(False)
    count(read.outputs["out"])
"""
    )
    source.write_text("abc")
    assert harness.run(spec).task("count").outputs == {"Output": 3}
    again = harness.run(spec)
    assert again.task("count").state == TaskState.CACHED  # same bytes, new upstream execution: a hit
    source.write_text("abcdef")
    changed = harness.run(spec)
    assert changed.task("count").state == TaskState.SUCCEEDED and changed.task("count").outputs == {
        "Output": 6
    }


def test_file_artifacts_are_stored_with_digests_and_lineage(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v2_artifacts.py")
    result = harness.run(spec, {"rows": 5})
    assert result.success()
    data = result.task("prepare").output_artifacts["data"]
    stored = Path(unquote(urlparse(data.uri).path))
    assert stored.read_text() == "0\n1\n2\n3\n4"
    assert data.digest == "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest()
    assert data.metadata == {"rows": 5} and data.artifact_type == "Dataset"
    train = result.task("train")
    assert train.outputs == {"Output": 2.0}
    assert train.output_artifacts["metrics"].metadata == {"mean": 2.0}
    model = Path(unquote(urlparse(train.output_artifacts["model"].uri).path)).read_text()
    assert model == "mean=2.0\nseed=42\n"
    events = {
        (e.task, e.kind, e.name, e.artifact.uri) for e in harness.recorder.events if e.run_id == result.run_id
    }
    assert ("train", "input", "data", data.uri) in events
    assert ("prepare", "output", "data", data.uri) in events
    assert ("train", "output", "model", train.output_artifacts["model"].uri) in events
    registered = {(task, name) for run, task, name, _ in harness.recorder.artifacts if run == result.run_id}
    assert {("prepare", "data"), ("train", "model"), ("train", "metrics")} <= registered


def test_file_passing_and_packages_note(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_file_passing.py")
    result = harness.run(spec, {"count": 4})
    assert result.success()
    assert result.task("total").outputs == {"Output": 14}
    assert ("show-report", "report: total=14\n") in harness.observer.lines
    assert ("show-report", "value: 14\n") in harness.observer.lines
    note = next(n for n in harness.observer.notes if "packages_to_install" in n)
    assert "tuner-test-not-installed==0.0.1 (not installed)" in note and "--install-packages" in note


def test_container_outputs_to_the_same_path_do_not_clobber(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_container_ops.py")
    marker = Path("/tmp/results.txt")
    before = marker.read_bytes() if marker.exists() else None
    result = harness.run(spec, {"first": "one", "second": "two"}, parallelism=2)
    assert result.success()
    assert result.task("write").outputs == {"data": "one"}
    assert result.task("write-2").outputs == {"data": "two"}
    assert ("join", "one+two\n") in harness.observer.lines
    assert (marker.read_bytes() if marker.exists() else None) == before
    assert any("image alpine:3 is not used" in n for n in harness.observer.notes)


def test_gpu_limit_without_a_gpu_is_a_note_not_an_error(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def train() -> str:
    return "done"

@dsl.pipeline(name="gpu")
def gpu():
    train().set_gpu_limit(1).set_memory_limit("1G")
"""
    )
    result = harness.run(spec)
    assert result.success()
    assert any("asks for 1 nvidia.com/gpu" in n for n in harness.observer.notes)


def test_task_output_is_streamed_with_the_task_name_and_kept_in_logs(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def chatty():
    import sys
    print("to stdout")
    print("to stderr", file=sys.stderr)

@dsl.pipeline(name="chatty")
def chatty_pipeline():
    chatty()
"""
    )
    result = harness.run(spec)
    assert ("chatty", "to stdout\n") in harness.observer.lines
    assert ("chatty", "to stderr\n") in harness.observer.lines
    log = Path(result.task("chatty").log_path or "").read_text()
    assert "to stdout" in log and "to stderr" in log


def test_run_records_every_state_change(harness: Harness) -> None:
    spec = load_pipeline(GOLDEN / "valid" / "v1_flip_coin.py")
    result = harness.run(spec, {"forced": "tails"})
    states = [t.state for t in harness.recorder.task_history if t.name == "fail-op"]
    assert states == [TaskState.RUNNING, TaskState.FAILED]
    run = harness.recorder.runs[result.run_id]
    assert run.state == RunState.FAILED and run.arguments == {"forced": "tails", "number": 7}
    assert run.pipeline_version_id in harness.recorder.pipelines


def test_fast_start_can_be_switched_off(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl

@dsl.component
def flags() -> int:
    import sys
    import yaml  # a site-packages module, found either way
    return sys.flags.no_site

@dsl.pipeline(name="flags")
def flags_pipeline():
    flags()
"""
    )
    fast = harness.run(spec, enable_caching=False)
    slow = harness.run(spec, enable_caching=False, fast_start=False)
    assert fast.task("flags").outputs == {"Output": 1}
    assert slow.task("flags").outputs == {"Output": 0}


def test_metrics_come_from_outputs_and_metrics_artifacts(make_pipeline, harness: Harness) -> None:  # type: ignore[no-untyped-def]
    spec = make_pipeline(
        """
from pipelines.kfp import dsl
from pipelines.kfp.dsl import Metrics, Output

@dsl.component
def train(lr: float, metrics: Output[Metrics]) -> float:
    metrics.log_metric("accuracy", 1 - lr)
    metrics.log_metric("note", "not a number")
    return lr * 2

@dsl.pipeline(name="metrics")
def metrics_pipeline(lr: float = 0.25):
    return train(lr=lr).outputs["Output"]
"""
    )
    result = harness.run(spec, {"lr": "0.1"})
    assert result.outputs == {"Output": 0.2}
    assert result.metrics() == {"accuracy": 0.9, "Output": 0.2}
