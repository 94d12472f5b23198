"""Our Experiment and Trial documents against Katib's v1beta1 Go types, field by field.

The expected shapes below were written for this test from Katib's API definitions
(pkg/apis/controller/experiments/v1beta1/experiment_types.go, trials/v1beta1/trial_types.go,
common/v1beta1/common_types.go) and its status helpers (experiment/util/status_util.go, the types' util.go):
each key a type allows and the JSON type encoding/json gives it. A document may leave a key out (omitempty),
never add one or change its type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from controllers.local_run import load_local, run_local
from controllers.run import prepare
from tuner.config import Settings
from tuner.spec import load_experiment
from tuner.states import ExperimentState, TrialState
from tuner.store import Store, open_store
from tuner.store.records import Assignment
from tuner.views import experiment_document, trial_documents

Write = Callable[..., Path]

TIME = "time"  # metav1.Time: an RFC 3339 string in UTC
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")

METRIC = {"name": str, "min": str, "max": str, "latest": str}
OBSERVATION = {"metrics": [METRIC]}
ASSIGNMENT = {"name": str, "value": str}
CONDITION = {
    "type": str,
    "status": str,
    "reason": str,
    "message": str,
    "lastUpdateTime": TIME,
    "lastTransitionTime": TIME,
}
OPTIMAL_TRIAL = {"bestTrialName": str, "parameterAssignments": [ASSIGNMENT], "observation": OBSERVATION}
EXPERIMENT_STATUS = {
    "startTime": TIME,
    "completionTime": TIME,
    "lastReconcileTime": TIME,
    "conditions": [CONDITION],
    "currentOptimalTrial": OPTIMAL_TRIAL,
    **{
        f"{state}TrialList": [str]
        for state in (
            "running",
            "pending",
            "failed",
            "succeeded",
            "killed",
            "earlyStopped",
            "metricsUnavailable",
        )
    },
    **{
        key: int
        for key in (
            "trials",
            "trialsSucceeded",
            "trialsFailed",
            "trialsKilled",
            "trialsPending",
            "trialsRunning",
            "trialsEarlyStopped",
            "trialMetricsUnavailable",
        )
    },
}
EARLY_STOPPING_RULE = {"name": str, "value": str, "comparison": str, "startStep": int}
TRIAL_SPEC = {
    "objective": dict,
    "parameterAssignments": [ASSIGNMENT],
    "earlyStoppingRules": [EARLY_STOPPING_RULE],
    "runSpec": dict,
    "retainRun": bool,
    "metricsCollector": dict,
    "primaryPodLabels": dict,
    "primaryContainerName": str,
    "successCondition": str,
    "failureCondition": str,
    "labels": dict,
}
TRIAL_STATUS = {
    "startTime": TIME,
    "completionTime": TIME,
    "lastReconcileTime": TIME,
    "conditions": [CONDITION],
    "observation": OBSERVATION,
}
TRIAL = {"apiVersion": str, "kind": str, "metadata": dict, "spec": TRIAL_SPEC, "status": TRIAL_STATUS}

EXPERIMENT_CONDITIONS = {"Created", "Running", "Restarting", "Succeeded", "Failed"}
TRIAL_CONDITIONS = {
    "Created",
    "Running",
    "Succeeded",
    "Killed",
    "Failed",
    "MetricsUnavailable",
    "EarlyStopped",
}
EXPERIMENT_REASONS = {
    "ExperimentCreated",
    "ExperimentRunning",
    "ExperimentRestarting",
    "ExperimentGoalReached",
    "ExperimentMaxTrialsReached",
    "ExperimentSuggestionEndReached",
    "ExperimentFailed",
}


def mismatches(value: Any, shape: Any, path: str = "") -> Iterator[str]:
    """Where `value` does not fit `shape` (a dict of allowed keys, [item shape], a type, or TIME)."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            yield f"{path}: expected an object, got {value!r}"
            return
        for key, item in value.items():
            if key not in shape:
                yield f"{path}.{key}: not a field of Katib's type"
            else:
                yield from mismatches(item, shape[key], f"{path}.{key}")
    elif isinstance(shape, list):
        if not isinstance(value, list):
            yield f"{path}: expected a list, got {value!r}"
            return
        for i, item in enumerate(value):
            yield from mismatches(item, shape[0], f"{path}[{i}]")
    elif shape == TIME:
        if not (isinstance(value, str) and _RFC3339.fullmatch(value)):
            yield f"{path}: expected an RFC 3339 time, got {value!r}"
    elif not isinstance(value, shape) or (shape is int and isinstance(value, bool)):
        yield f"{path}: expected {shape.__name__}, got {value!r}"


def check_conditions(conditions: list[dict[str, Any]], types: set[str]) -> None:
    assert all(c["type"] in types and c["status"] in ("True", "False", "Unknown") for c in conditions)
    assert len({c["type"] for c in conditions}) == len(conditions), "one condition per type"


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    db = open_store(settings.store_url)
    yield db
    db.close()


def test_a_finished_experiment_and_its_trials_have_katibs_shape(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    path = write_experiment(
        "shape",
        "print(f\"loss={abs(float(args['x']))}\")",
        objective={"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
        max_trials=2,
    )
    record = run_local(store, load_local(path, settings)).record
    assert record.state == ExperimentState.SUCCEEDED
    status = experiment_document(record)["status"]
    assert list(mismatches(status, EXPERIMENT_STATUS, "status")) == []
    check_conditions(status["conditions"], EXPERIMENT_CONDITIONS)
    assert {c["reason"] for c in status["conditions"]} <= EXPERIMENT_REASONS
    running = next(c for c in status["conditions"] if c["type"] == "Running")
    # Katib turns Running False keeping its own reason; the ending's reason is on Succeeded
    assert (running["status"], running["reason"]) == ("False", "ExperimentRunning")
    assert [c["type"] for c in status["conditions"]] == ["Created", "Running", "Succeeded"]
    # the additional metric was never printed: Katib's observation says `unavailable`
    metrics = {m["name"]: m for m in status["currentOptimalTrial"]["observation"]["metrics"]}
    assert metrics["accuracy"] == {
        "name": "accuracy",
        "min": "unavailable",
        "max": "unavailable",
        "latest": "unavailable",
    }
    assert metrics["loss"]["latest"] != "unavailable"

    trials = trial_documents(store, record)
    assert len(trials) == 2
    for trial in trials:
        assert list(mismatches(trial, TRIAL, "trial")) == []
        check_conditions(trial["status"]["conditions"], TRIAL_CONDITIONS)
        assert "lastReconcileTime" in trial["status"]
        running = next(c for c in trial["status"]["conditions"] if c["type"] == "Running")
        assert (running["status"], running["reason"], running["message"]) == (
            "False",
            "TrialRunning",
            "Trial is running",
        )
        names = [m["name"] for m in trial["status"]["observation"]["metrics"]]
        assert names == ["loss", "accuracy"]
        assert "earlyStoppingRules" not in trial["spec"]


def test_before_any_best_trial_the_optimal_trial_is_katibs_empty_struct(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    path = write_experiment("nothing", "raise SystemExit(3)", max_trials=2, max_failed=1, parallel=1)
    local = load_local(path, settings)
    created = prepare(store, local.experiment).record
    assert created.status["currentOptimalTrial"] == {"observation": {}}
    record = run_local(store, local).record
    assert record.state == ExperimentState.FAILED
    status = experiment_document(record)["status"]
    assert list(mismatches(status, EXPERIMENT_STATUS, "status")) == []
    assert status["currentOptimalTrial"] == {"observation": {}}
    reasons = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert reasons["Running"] == ("False", "ExperimentRunning")
    assert reasons["Failed"] == ("True", "ExperimentFailed")


def test_trials_of_an_early_stopping_experiment_carry_their_rules(
    write_experiment: Write, settings: Settings, store: Store
) -> None:
    """Store-level, so that which trial is stopped does not depend on process timing."""
    path = write_experiment(
        "rules",
        "print('loss=1')",
        early_stopping={
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": "start_step", "value": "2"}],
        },
    )
    record = prepare(store, load_experiment(path)).record
    kept = store.create_trial(record.id, "rules-kept", [Assignment("x", "0.5", 0.5)])
    stopped = store.create_trial(record.id, "rules-stopped", [Assignment("x", "4", 4.0)])
    for trial, value in ((kept, 0.5), (stopped, 4.0)):
        store.transition_trial(trial.id, TrialState.RUNNING, "TrialRunning", "Trial is running")
        store.log_metric(trial.id, "loss", value, step=2)
    store.transition_trial(kept.id, TrialState.SUCCEEDED, "TrialSucceeded", "Trial has succeeded")
    store.record_early_stopping_decision(
        stopped.id, "medianstop", "loss", stop=True, step=2, value=4.0, threshold=0.5, reason="worse"
    )
    store.transition_trial(stopped.id, TrialState.EARLY_STOPPED, "TrialEarlyStopped", "worse")
    documents = {
        d["metadata"]["name"]: d for d in trial_documents(store, store.get_experiment_by_id(record.id))
    }
    for document in documents.values():
        assert list(mismatches(document, TRIAL, "trial")) == []
    assert documents["rules-stopped"]["spec"]["earlyStoppingRules"] == [
        {"name": "loss", "comparison": "greater", "startStep": 2, "value": "0.5"}
    ]
    assert documents["rules-kept"]["spec"]["earlyStoppingRules"] == [
        {"name": "loss", "comparison": "greater", "startStep": 2}
    ]
    conditions = documents["rules-stopped"]["status"]["conditions"]
    assert [(c["type"], c["status"], c["reason"]) for c in conditions] == [
        ("Created", "True", "TrialCreated"),
        ("Running", "False", "TrialRunning"),
        ("EarlyStopped", "True", "TrialEarlyStopped"),
    ]
