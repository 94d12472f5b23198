"""Experiments run to their end with real process trials and a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from controllers.local_run import load_local, run_local
from tuner.config import Settings
from tuner.errors import SpecError
from tuner.states import ExperimentState, TrialState
from tuner.store import Store, open_store

Write = Callable[..., Path]


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    db = open_store(settings.store_url)
    yield db
    db.close()


def run(store: Store, settings: Settings, path: Path):  # type: ignore[no-untyped-def]
    return run_local(store, load_local(path, settings))


def condition_reason(record, state: ExperimentState) -> str:  # type: ignore[no-untyped-def]
    return next(c["reason"] for c in record.status["conditions"] if c["type"] == state.value)


def test_max_trials_and_optimal_trial(write_experiment: Write, settings: Settings, store: Store) -> None:
    path = write_experiment("quad", "x = float(args['x']); print(f'loss={(x - 1) ** 2}')", max_trials=6)
    outcome = run(store, settings, path)
    record = outcome.record
    assert record.state == ExperimentState.SUCCEEDED
    assert condition_reason(record, ExperimentState.SUCCEEDED) == "ExperimentMaxTrialsReached"
    rows = store.compare_trials(record.id)
    assert len(rows) == 6 and all(r.trial.state == TrialState.SUCCEEDED for r in rows)
    best = min(rows, key=lambda r: r.metrics["loss"].min)  # type: ignore[arg-type, return-value]
    optimal = record.status["currentOptimalTrial"]
    assert optimal["bestTrialName"] == best.trial.name
    assert optimal["parameterAssignments"] == [{"name": "x", "value": best.trial.assignments[0].value}]
    assert record.status["trialsSucceeded"] == 6 and record.status["trials"] == 6
    # the value each trial computed from its rendered argument is what was stored
    for row in rows:
        x = float(row.trial.assignments[0].value)
        assert row.metrics["loss"].latest == pytest.approx((x - 1) ** 2)


def test_goal_reached_stops_running_trials(write_experiment: Write, settings: Settings, store: Store) -> None:
    script = """
    import time
    x = float(args['x'])
    if x > 0:
        print('loss=0.001', flush=True)
    else:
        time.sleep(60)
        print('loss=5')
    """
    path = write_experiment(
        "goal",
        script,
        objective={"type": "minimize", "objectiveMetricName": "loss", "goal": 0.01},
        max_trials=30,
        parallel=3,
    )
    outcome = run(store, settings, path)
    record = outcome.record
    assert record.state == ExperimentState.SUCCEEDED
    assert condition_reason(record, ExperimentState.SUCCEEDED) == "ExperimentGoalReached"
    trials = store.list_trials(record.id)
    assert not any(t.state.is_active for t in trials)
    assert any(t.state == TrialState.SUCCEEDED for t in trials)
    # the slow trials were stopped at the end instead of being left running (Katib leaves them)
    killed = [t for t in trials if t.state == TrialState.KILLED]
    assert all(float(t.assignments[0].value) <= 0 for t in killed)


def test_failed_trials_fail_the_experiment(write_experiment: Write, settings: Settings, store: Store) -> None:
    path = write_experiment(
        "fails", "raise SystemExit('boom: bad input')", max_trials=10, max_failed=2, parallel=1
    )
    record = run(store, settings, path).record
    assert record.state == ExperimentState.FAILED
    assert condition_reason(record, ExperimentState.FAILED) == "ExperimentFailed"
    trials = store.list_trials(record.id)
    assert [t.state for t in trials] == [TrialState.FAILED, TrialState.FAILED]
    assert "exited with status 1" in trials[0].message and "boom: bad input" in trials[0].message


def test_metrics_unavailable_counts_as_failed_and_shows_output(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    path = write_experiment(
        "silent", "print('training done, but I forgot to print the loss')", max_failed=1, parallel=1
    )
    record = run(store, settings, path).record
    assert record.state == ExperimentState.FAILED
    (trial,) = store.list_trials(record.id)
    assert trial.state == TrialState.METRICS_UNAVAILABLE
    assert "'loss'" in trial.message and "forgot to print the loss" in trial.message


def test_grid_exhaustion_ends_with_suggestion_end(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    params = [{"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}}]
    path = write_experiment(
        "grid", "print(f\"loss={int(args['n'])}\")", parameters=params, algorithm="grid", max_trials=None
    )
    record = run(store, settings, path).record
    assert record.state == ExperimentState.SUCCEEDED
    assert condition_reason(record, ExperimentState.SUCCEEDED) == "ExperimentSuggestionEndReached"
    values = sorted(t.assignments[0].value for t in store.list_trials(record.id))
    assert values == ["1", "2", "3"]


def test_parallelism_is_never_exceeded(
    write_experiment: Write, settings: Settings, store: Store, tmp_path: Path
) -> None:
    spans = tmp_path / "spans.jsonl"
    started = tmp_path / "started"
    started.mkdir()
    # each trial says it started; the first ones wait until two run side by side (never on the clock; the
    # minute is only a bound that turns missing parallelism into a failure instead of a hang)
    script = f"""
    import json, os, time
    start = time.time()
    open(os.path.join({str(started)!r}, os.environ['TUNER_TRIAL_NAME']), 'w').close()
    bound = time.time() + 60
    while len(os.listdir({str(started)!r})) < 2 and time.time() < bound:
        time.sleep(0.01)
    with open({str(spans)!r}, 'a') as out:
        out.write(json.dumps([start, time.time()]) + '\\n')
    print('loss=1')
    """
    path = write_experiment("parallel", script, max_trials=8, parallel=3)
    record = run(store, settings, path).record
    assert record.state == ExperimentState.SUCCEEDED
    windows = [json.loads(line) for line in spans.read_text().splitlines()]
    assert len(windows) == 8
    events = sorted([(s, 1) for s, _ in windows] + [(e, -1) for _, e in windows], key=lambda p: (p[0], p[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert 2 <= peak <= 3


def test_file_collector_paths_are_private_per_trial(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    """Two trials in parallel write the same absolute path; each one's metrics stay its own."""
    script = """
    import time
    x = float(args['x'])
    path = args['out']
    for step in range(3):
        with open(path, 'a') as f:
            f.write(f'{{"loss": "{x + step}", "step": {step + 1}}}\\n')
        time.sleep(0.05)
    """
    collector = {
        "collector": {"kind": "File"},
        "source": {
            "fileSystemPath": {"path": "/tmp/tuner-shared/metrics.json", "kind": "File", "format": "JSON"}
        },
    }
    path = write_experiment(
        "files",
        script,
        collector=collector,
        parallel=2,
        max_trials=4,
        extra_args=["--out=/tmp/tuner-shared/metrics.json"],
    )
    record = run(store, settings, path).record
    assert record.state == ExperimentState.SUCCEEDED
    for trial in store.list_trials(record.id):
        x = float(trial.assignments[0].value)
        series = store.metric_series(trial.id, "loss")
        assert [(p.step, p.value) for p in series] == [
            (1, pytest.approx(x)),
            (2, pytest.approx(x + 1)),
            (3, pytest.approx(x + 2)),
        ]


def test_text_file_collector_with_custom_format(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    script = """
    with open('/var/log/katib/metrics.log', 'w') as f:
        f.write('{metricName: loss, metricValue: 0.25}\\n')
    print('loss=999')  # stdout is not the collector here
    """
    collector = {
        "collector": {"kind": "File"},
        "source": {
            "fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"},
            "filter": {"metricsFormat": [r"{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}"]},
        },
    }
    record = run(
        store, settings, write_experiment("textfile", script, collector=collector, max_trials=2)
    ).record
    for row in store.compare_trials(record.id):
        assert row.metrics["loss"].latest == 0.25


def test_push_collector_with_tuner_report(write_experiment: Write, settings: Settings, store: Store) -> None:
    script = """
    import tuner
    x = float(args['x'])
    for step in range(1, 4):
        tuner.report(step=step * 10, loss=abs(x) / step)
    """
    record = run(
        store,
        settings,
        write_experiment("push", script, collector={"collector": {"kind": "Push"}}, max_trials=2),
    ).record
    assert record.state == ExperimentState.SUCCEEDED
    for trial in store.list_trials(record.id):
        assert [p.step for p in store.metric_series(trial.id, "loss")] == [10, 20, 30]


MEDIAN_SCRIPT = """
import os, time
folder = {folder!r}
ended = [n for n in os.listdir(folder) if n.startswith('good-')]
stopped = [n for n in os.listdir(folder) if n.startswith('bad-')]
name = os.environ['TUNER_TRIAL_NAME']
if len(ended) >= 2 and len(ended) > len(stopped):
    # worse than every good trial at steps 1 and 2 (so worse than the median of the finished ones, which
    # holds more good trials than bad): then wait to be stopped, a minute at most
    open(os.path.join(folder, 'bad-' + name), 'w').close()
    for step in (1, 2):
        print(f'loss={{10 + step}}', flush=True)
    bound = time.time() + 60
    while time.time() < bound:
        time.sleep(0.02)
    print('loss=10')
else:
    for step in range(1, 9):
        print(f'loss={{1.0 / step}}', flush=True)
    open(os.path.join(folder, 'good-' + name), 'w').close()
"""
"""A trial knows from the folder whether it is to be a bad one; bad ones wait for the rule's decision, so the
test never depends on the controller looking in time."""


def test_median_stop_stops_bad_trials_early(
    write_experiment: Write, settings: Settings, store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "median-trials"
    folder.mkdir()
    script = MEDIAN_SCRIPT.format(folder=str(folder))
    path = write_experiment(
        "median",
        script,
        max_trials=10,
        parallel=1,
        early_stopping={
            "algorithmName": "medianstop",
            "algorithmSettings": [
                {"name": "min_trials_required", "value": "2"},
                {"name": "start_step", "value": "2"},
            ],
        },
    )
    record = run(store, settings, path).record
    assert record.state == ExperimentState.SUCCEEDED
    trials = store.list_trials(record.id)
    stopped = [t for t in trials if t.state == TrialState.EARLY_STOPPED]
    assert sorted(t.name for t in stopped) == sorted(p.name[4:] for p in folder.glob("bad-*"))
    assert len(stopped) == 5  # trials 3, 4, 6, 8 and 10: whenever the good ones outnumber the bad ones
    for trial in stopped:
        decisions = store.list_early_stopping_decisions(trial.id)
        assert decisions and decisions[-1].stop and decisions[-1].rule == "medianstop"
        assert len(store.metric_series(trial.id, "loss")) < 8  # it did not run to the end
    # early-stopped trials count as completed: the budget of 10 is used up exactly
    assert sum(1 for t in trials if t.state != TrialState.KILLED) == 10


def test_deadline_and_retries(
    write_experiment: Write, settings: Settings, store: Store, tmp_path: Path
) -> None:
    counter = tmp_path / "attempts"
    script = f"""
    import os, time
    with open({str(counter)!r}, 'a') as f: f.write('x')
    if len(open({str(counter)!r}).read()) < 2:
        raise SystemExit(3)
    print('loss=1')
    """
    path = write_experiment("retry", script, max_trials=1, parallel=1, job_spec={"backoffLimit": 2})
    record = run(store, settings, path).record
    (trial,) = store.list_trials(record.id)
    assert trial.state == TrialState.SUCCEEDED and trial.attempt == 2
    slow = write_experiment(
        "deadline",
        "import time; time.sleep(30)",
        max_trials=1,
        max_failed=1,
        parallel=1,
        job_spec={"activeDeadlineSeconds": 1},
    )
    record = run(store, settings, slow).record
    (trial,) = store.list_trials(record.id)
    assert trial.state == TrialState.FAILED and "deadline" in trial.message


def test_local_refusals_before_anything_is_stored(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    path = write_experiment(
        "tfevent",
        "print('loss=1')",
        collector={
            "collector": {"kind": "TensorFlowEvent"},
            "source": {"fileSystemPath": {"path": "/log", "kind": "Directory"}},
        },
    )
    with pytest.raises(SpecError) as error:
        load_local(path, settings)
    assert "TensorFlowEvent is not available locally" in str(error.value)
    assert store.list_experiments() == []


def test_gpu_requests_this_machine_cannot_meet_are_refused(
    write_experiment: Write, settings: Settings
) -> None:
    document_path = write_experiment("gpu", "print('loss=1')")
    document = yaml.safe_load(document_path.read_text())
    container = document["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"nvidia.com/gpu": 64}}
    document_path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError, match=r"nvidia\.com/gpu"):
        load_local(document_path, settings)
