"""The store's conformance suite: the behaviour every `Store` implementation must show, as pytest classes.

A test module subclasses `StoreConformance` (or the per-area classes) and provides one fixture,
`make_store`: a callable returning a `Store` on a fresh, migrated, empty database, taking an optional
`clock` (a callable returning the current UTC datetime); calling it twice in one test must give two
stores on the same database (two "processes"). `tests/store/` runs the suite on SQLite and PostgreSQL.

Also here: worker functions for multi-process tests (importable by spawned processes), `FakeClock`, and
`reset_database` / `schema_differences` helpers, so test code never imports SQLAlchemy itself.

It needs pytest, a test dependency (the `test` extra), not a runtime one: nothing outside the tests
imports this module, and without pytest importing it says so.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

try:
    import pytest
except ImportError as exc:  # pragma: no cover - the suite runs with pytest
    raise ImportError(
        "tuner.store.testing is the store's conformance suite for pytest; install the test extra "
        "(pip install 'tuner-hpo[test]') to use it"
    ) from exc

from tuner.errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    LeaseHeldError,
    NotFoundError,
    StoreValueError,
)
from tuner.states import ExperimentState, TrialState
from tuner.store.base import Store
from tuner.store.records import (
    Assignment,
    Direction,
    Goal,
    LineageDirection,
    MetricStrategy,
    NodeKind,
    NodeRef,
    Observation,
    RunState,
    RuntimeInfo,
    TaskState,
    TrialOrder,
)


class MakeStore(Protocol):
    def __call__(self, clock: Callable[[], datetime] | None = None) -> Store: ...


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2030, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def new_experiment(store: Store, name: str = "exp", namespace: str = "default") -> int:
    return store.create_experiment(name, {"spec": {"maxTrialCount": 3}}, "sha256:abc", namespace).id


def new_trial(store: Store, experiment_id: int, number: int | None = None, name: str | None = None) -> int:
    trial_name = name or f"trial-{number if number is not None else len(store.list_trials(experiment_id))}"
    assignments = [Assignment("lr", "0.01", 0.01), Assignment("optimizer", "adam", None)]
    return store.create_trial(experiment_id, trial_name, assignments, number=number).id


class StoreTest:
    """Base of the conformance classes: a `store` built by the implementation's `make_store` fixture."""

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Store:
        return make_store()


class ExperimentConformance(StoreTest):
    def test_create_get_and_list(self, store: Store) -> None:
        created = store.create_experiment("a", {"x": [1, 2]}, "sha256:1", "team", status={"phase": "new"})
        store.create_experiment("b", {}, "sha256:2")
        assert created.state == ExperimentState.CREATED
        assert created.spec == {"x": [1, 2]} and created.status == {"phase": "new"}
        assert created.created_at.tzinfo is not None
        assert store.get_experiment("a", "team") == created
        assert store.get_experiment_by_id(created.id) == created
        assert [e.name for e in store.list_experiments()] == ["a", "b"]
        assert [e.name for e in store.list_experiments(namespace="team")] == ["a"]
        assert [e.name for e in store.list_experiments(name_prefix="b")] == ["b"]
        assert store.list_experiments(states=[ExperimentState.RUNNING]) == []

    def test_duplicate_name_is_refused_per_namespace(self, store: Store) -> None:
        store.create_experiment("a", {}, "d")
        with pytest.raises(AlreadyExistsError, match="experiment default/a already exists"):
            store.create_experiment("a", {}, "d")
        assert store.create_experiment("a", {}, "d", namespace="other").namespace == "other"

    def test_unknown_experiment_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="experiment default/nope does not exist"):
            store.get_experiment("nope")
        for call in (
            lambda: store.get_experiment_by_id(999),
            lambda: store.update_experiment_status(999, ExperimentState.RUNNING, {}),
            lambda: store.delete_experiment(999),
            lambda: store.list_trials(999),
            lambda: store.create_trial(999, "t", []),
            lambda: store.acquire_lease(999, "me", 10),
        ):
            with pytest.raises(NotFoundError, match="experiment 999 does not exist"):
                call()

    def test_blank_name_is_refused(self, store: Store) -> None:
        with pytest.raises(StoreValueError, match="experiment name must be a non-empty string"):
            store.create_experiment(" ", {}, "d")

    def test_status_updates_stamp_times_and_follow_the_state_machine(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        store = make_store(clock)
        experiment_id = new_experiment(store)
        clock.advance(5)
        running = store.update_experiment_status(experiment_id, ExperimentState.RUNNING, {"trials": 1})
        assert running.started_at == clock.now and running.completed_at is None
        assert running.status == {"trials": 1}
        clock.advance(5)
        done = store.update_experiment_status(experiment_id, ExperimentState.SUCCEEDED, {"trials": 3})
        assert done.completed_at == clock.now and done.started_at == running.started_at
        with pytest.raises(InvalidTransitionError, match="is Succeeded and cannot become Running"):
            store.update_experiment_status(experiment_id, ExperimentState.RUNNING, {})
        assert store.get_experiment_by_id(experiment_id).state == ExperimentState.SUCCEEDED
        restarted = store.update_experiment_status(experiment_id, ExperimentState.RESTARTING, {})
        assert restarted.completed_at is None

    def test_delete_removes_everything_below_and_keeps_models(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        trial_id = new_trial(store, experiment_id, 0)
        store.set_trial_runtime(trial_id, RuntimeInfo(pid=42, log_path="/tmp/t0.log"))
        store.log_metrics([Observation(trial_id, "loss", float(i), i) for i in range(5)])
        store.record_early_stopping_decision(trial_id, "medianstop", "loss", stop=False, step=1)
        artifact = store.register_artifact("file:///m.pkl", type="model", digest="sha256:m", size=1)
        store.record_event(artifact.id, Direction.OUTPUT, trial_id=trial_id, port="model")
        run = store.create_run("r", trial_id=trial_id)
        model = store.create_registered_model("m")
        version = store.create_model_version(model.id, artifact_id=artifact.id, source_trial_id=trial_id)
        other = new_experiment(store, "kept")
        kept_trial = new_trial(store, other, 0)
        store.log_metric(kept_trial, "loss", 1.0)

        runtimes = store.delete_experiment(experiment_id)

        assert [r.log_path for r in runtimes] == ["/tmp/t0.log"]
        with pytest.raises(NotFoundError):
            store.get_trial(trial_id)
        assert store.list_events(artifact_id=artifact.id) == []
        assert store.get_run(run.id).trial_id is None
        assert store.get_model_version_by_id(version.id).source_trial_id is None
        assert store.metric_summaries(kept_trial)["loss"].count == 1
        assert [e.name for e in store.list_experiments()] == ["kept"]


class LeaseConformance(StoreTest):
    def test_one_holder_at_a_time_and_takeover_after_expiry(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        first, second = make_store(clock), make_store(clock)
        experiment_id = new_experiment(first)
        assert first.get_lease(experiment_id) is None
        lease = first.acquire_lease(experiment_id, "controller-a", ttl=30)
        assert lease.holder == "controller-a" and lease.expires_at == clock.now + timedelta(seconds=30)
        assert second.get_lease(experiment_id) == lease
        with pytest.raises(LeaseHeldError, match="driven by 'controller-a'"):
            second.acquire_lease(experiment_id, "controller-b", ttl=30)
        clock.advance(20)
        renewed = first.renew_lease(experiment_id, "controller-a", ttl=30)
        assert renewed.acquired_at == lease.acquired_at and renewed.expires_at == clock.now + timedelta(
            seconds=30
        )
        clock.advance(31)
        assert second.get_lease(experiment_id) is None
        taken = second.acquire_lease(experiment_id, "controller-b", ttl=30)
        assert taken.holder == "controller-b"
        with pytest.raises(LeaseHeldError, match="controller-b"):
            first.renew_lease(experiment_id, "controller-a", ttl=30)

    def test_release(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        store.acquire_lease(experiment_id, "a", ttl=60)
        store.release_lease(experiment_id, "someone-else")
        assert store.get_lease(experiment_id) is not None
        store.release_lease(experiment_id, "a")
        assert store.get_lease(experiment_id) is None
        assert store.acquire_lease(experiment_id, "b", ttl=60).holder == "b"

    def test_takeover_of_a_named_holder_is_atomic(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        first, second = make_store(clock), make_store(clock)
        experiment_id = new_experiment(first)
        first.acquire_lease(experiment_id, "dead", ttl=30)
        assert second.acquire_lease(experiment_id, "b", ttl=30, replacing="dead").holder == "b"
        with pytest.raises(LeaseHeldError, match="driven by 'b'"):  # a second taker of the dead one's lease
            first.acquire_lease(experiment_id, "c", ttl=30, replacing="dead")
        with pytest.raises(LeaseHeldError, match="taken by 'b'"):  # the old holder cannot renew
            first.renew_lease(experiment_id, "dead", ttl=30)

    def test_renewal_only_by_the_holder_named_in_the_store(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        store = make_store(clock)
        experiment_id = new_experiment(store)
        store.acquire_lease(experiment_id, "a", ttl=30)
        clock.advance(31)
        assert store.renew_lease(experiment_id, "a", ttl=30).holder == "a"  # expired, but nobody took it
        store.release_lease(experiment_id, "a")
        with pytest.raises(LeaseHeldError, match="released"):
            store.renew_lease(experiment_id, "a", ttl=30)

    def test_stop_requests_reach_the_holder_they_were_addressed_to(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        driver, other = make_store(clock), make_store(clock)
        experiment_id = new_experiment(driver)
        assert other.request_stop(experiment_id) is None  # nobody drives it: nothing to ask
        driver.acquire_lease(experiment_id, "a", ttl=30)
        assert driver.renew_lease(experiment_id, "a", ttl=30).stop_requested_at is None
        request = other.request_stop(experiment_id)
        assert request is not None and request.holder == "a" and request.stop_requested_at == clock.now
        assert driver.renew_lease(experiment_id, "a", ttl=30).stop_requested_at == clock.now
        assert other.get_lease(experiment_id).stop_requested_at == clock.now  # type: ignore[union-attr]
        driver.release_lease(experiment_id, "a")
        assert driver.acquire_lease(experiment_id, "a", ttl=30).stop_requested_at is None  # a new run
        other.request_stop(experiment_id)
        clock.advance(31)
        taken = other.acquire_lease(experiment_id, "b", ttl=30)  # a new holder is not stopped by it
        assert taken.stop_requested_at is None

    def test_bad_ttl(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        with pytest.raises(StoreValueError, match="ttl"):
            store.acquire_lease(experiment_id, "a", ttl=0)


class TrialConformance(StoreTest):
    def test_create_keeps_assignments_labels_and_spec(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        trial = store.create_trial(
            experiment_id,
            "t-0",
            [Assignment("lr", "1e-3", 0.001), Assignment("layers", "3", 3.0), Assignment("opt", "sgd")],
            labels={"team": "a"},
            run_spec={"command": ["python", "train.py", "--lr=1e-3"]},
        )
        assert trial.number == 0 and trial.state == TrialState.CREATED and trial.attempt == 0
        assert trial.assignment_values() == {"lr": "1e-3", "layers": "3", "opt": "sgd"}
        assert [a.numeric for a in trial.assignments] == [0.001, 3.0, None]
        assert trial.labels == {"team": "a"}
        assert trial.run_spec["command"][-1] == "--lr=1e-3"
        assert store.get_trial(trial.id) == trial
        assert store.get_trial_by_name(experiment_id, "t-0") == trial
        assert store.create_trial(experiment_id, "t-1", []).number == 1

    def test_typed_categorical_choices_round_trip(self, store: Store) -> None:
        """`tuner.search.categorical` keeps Python types in the spec (JSON) and their texts in assignments."""
        choices = [16, 0.5, 1.0, True, False, None, "adam", "16"]
        spec = {"spec": {"parameters": [{"name": "c", "feasibleSpace": {"list": choices}}]}}
        record = store.create_experiment("typed", spec, "sha256:abc")
        stored = store.get_experiment("typed").spec["spec"]["parameters"][0]["feasibleSpace"]["list"]
        assert stored == choices and [type(v) for v in stored] == [type(v) for v in choices]
        assert record.spec == store.get_experiment("typed").spec
        texts = ["16", "0.5", "1.0", "True", "False", "None", "adam"]
        trial = store.create_trial(record.id, "t-0", [Assignment(f"p{i}", t) for i, t in enumerate(texts)])
        assert list(store.get_trial(trial.id).assignment_values().values()) == texts

    def test_number_and_name_are_unique_per_experiment(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        store.create_trial(experiment_id, "t-5", [], number=5)
        with pytest.raises(AlreadyExistsError, match="numbered 5"):
            store.create_trial(experiment_id, "other", [], number=5)
        with pytest.raises(AlreadyExistsError, match="named 't-5'"):
            store.create_trial(experiment_id, "t-5", [], number=6)
        assert store.create_trial(experiment_id, "next", []).number == 6
        assert store.create_trial(new_experiment(store, "b"), "t-5", [], number=5).number == 5

    def test_failed_create_stores_nothing(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        with pytest.raises(StoreValueError, match="'lr' is assigned twice"):
            store.create_trial(experiment_id, "t", [Assignment("lr", "1"), Assignment("lr", "2")])
        assert store.list_trials(experiment_id) == []

    def test_transitions_stamp_times_and_refuse_leaving_a_finished_state(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        store = make_store(clock)
        trial_id = new_trial(store, new_experiment(store), 0)
        clock.advance(1)
        running = store.transition_trial(trial_id, TrialState.RUNNING, "Started", "pid 7")
        assert running.started_at == clock.now and running.reason == "Started" and running.message == "pid 7"
        clock.advance(1)
        done = store.transition_trial(trial_id, TrialState.SUCCEEDED, "Completed")
        assert done.completed_at == clock.now
        with pytest.raises(InvalidTransitionError, match="is Succeeded and cannot become Running"):
            store.transition_trial(trial_id, TrialState.RUNNING)
        assert store.get_trial(trial_id).state == TrialState.SUCCEEDED
        again = store.transition_trial(trial_id, TrialState.SUCCEEDED, "Completed", "same state is fine")
        assert again.message == "same state is fine" and again.completed_at == done.completed_at

    def test_spec_can_be_replaced(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        updated = store.update_experiment_spec(experiment_id, {"spec": {"maxTrialCount": 9}}, "sha256:new")
        assert updated.spec == {"spec": {"maxTrialCount": 9}} and updated.spec_digest == "sha256:new"
        assert store.get_experiment_by_id(experiment_id).spec["spec"]["maxTrialCount"] == 9
        with pytest.raises(NotFoundError):
            store.update_experiment_spec(404, {}, "sha256:x")

    def test_launch_is_one_transition_with_runtime_and_attempt(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        runtime = RuntimeInfo(
            pid=42, host="h", log_path="/logs/t.log", extra={"run": {"launcher": "process"}}
        )
        running = store.transition_trial(trial_id, TrialState.RUNNING, runtime=runtime, new_attempt=True)
        assert running.state == TrialState.RUNNING and running.attempt == 1 and running.runtime == runtime
        with pytest.raises(InvalidTransitionError):
            store.transition_trial(trial_id, TrialState.CREATED, runtime=RuntimeInfo(pid=1), new_attempt=True)
        unchanged = store.get_trial(trial_id)
        assert unchanged.runtime == runtime and unchanged.attempt == 1  # nothing of the refused write stayed

    def test_unknown_trial_is_not_found(self, store: Store) -> None:
        for call in (
            lambda: store.get_trial(404),
            lambda: store.transition_trial(404, TrialState.RUNNING),
            lambda: store.set_trial_runtime(404, RuntimeInfo()),
            lambda: store.log_metric(404, "loss", 1.0),
            lambda: store.metric_series(404, "loss"),
            lambda: store.release_trial_claim(404),
        ):
            with pytest.raises(NotFoundError, match="trial 404 does not exist"):
                call()
        with pytest.raises(NotFoundError):
            store.get_trial_by_name(new_experiment(store), "nope")

    def test_runtime_and_attempts(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        first = store.set_trial_runtime(
            trial_id, RuntimeInfo(pid=1, host="h", work_dir="/w"), new_attempt=True
        )
        assert first.attempt == 1 and first.runtime == RuntimeInfo(pid=1, host="h", work_dir="/w")
        second = store.set_trial_runtime(trial_id, RuntimeInfo(pid=2, log_path="/l"), new_attempt=True)
        assert second.attempt == 2 and second.runtime is not None and second.runtime.pid == 2
        assert store.set_trial_runtime(trial_id, RuntimeInfo(pid=3)).attempt == 2

    def test_list_and_count_by_state(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        ids = [new_trial(store, experiment_id, n) for n in range(4)]
        store.transition_trial(ids[1], TrialState.RUNNING)
        store.transition_trial(ids[2], TrialState.FAILED)
        assert [t.number for t in store.list_trials(experiment_id)] == [0, 1, 2, 3]
        active = store.list_trials(experiment_id, states=[TrialState.CREATED, TrialState.RUNNING])
        assert [t.number for t in active] == [0, 1, 3]
        assert store.count_trials(experiment_id) == {
            TrialState.CREATED: 2,
            TrialState.RUNNING: 1,
            TrialState.FAILED: 1,
        }

    def test_claims_hand_each_created_trial_once(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        ids = [new_trial(store, experiment_id, n) for n in range(3)]
        store.transition_trial(ids[0], TrialState.RUNNING)
        first = store.claim_trial(experiment_id, "w1")
        second = store.claim_trial(experiment_id, "w2")
        assert first is not None and second is not None
        assert (first.id, first.claimed_by, second.id, second.claimed_by) == (ids[1], "w1", ids[2], "w2")
        assert store.claim_trial(experiment_id, "w3") is None
        assert store.release_trial_claim(ids[1]).claimed_by is None
        again = store.claim_trial(experiment_id, "w3")
        assert again is not None and again.id == ids[1]


class MetricConformance(StoreTest):
    def test_summary_tracks_count_min_max_and_latest(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        store.log_metric(trial_id, "loss", 0.9, step=0, timestamp=100.0)
        store.log_metric(trial_id, "loss", 0.2, step=2, timestamp=102.0)
        store.log_metric(trial_id, "loss", 0.5, step=1, timestamp=101.0)  # late arrival, older
        store.log_metric(trial_id, "loss", float("nan"), step=3, timestamp=99.0)  # NaN, oldest timestamp
        summary = store.metric_summaries(trial_id)["loss"]
        assert (summary.count, summary.min, summary.max) == (4, 0.2, 0.9)
        assert (summary.latest, summary.latest_step, summary.latest_timestamp) == (0.2, 2, 102.0)
        series = store.metric_series(trial_id, "loss")
        assert [p.step for p in series] == [0, 1, 2, 3]
        assert math.isnan(series[-1].value)

    def test_latest_breaks_timestamp_ties_by_step(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        store.log_metrics(
            [Observation(trial_id, "acc", 0.7, 5, 50.0), Observation(trial_id, "acc", 0.6, 4, 50.0)]
        )
        store.log_metric(trial_id, "acc", 0.1, 3, 50.0)
        assert store.metric_summaries(trial_id)["acc"].latest == 0.7

    def test_batch_spans_trials_and_metrics(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        a, b = new_trial(store, experiment_id, 0), new_trial(store, experiment_id, 1)
        store.log_metrics(
            [Observation(t, m, float(s), s) for t in (a, b) for m in ("loss", "acc") for s in range(10)]
        )
        assert store.metric_summaries(a)["acc"].count == 10
        assert store.metric_summaries(b)["loss"].max == 9.0
        series = store.experiment_metric_series(experiment_id, "loss")
        assert sorted(series) == [a, b] and [p.value for p in series[b]] == [float(s) for s in range(10)]

    def test_a_failing_batch_stores_nothing(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        good = [Observation(trial_id, "loss", 1.0, i) for i in range(50)]
        with pytest.raises(NotFoundError, match="trial 999 does not exist"):
            store.log_metrics([*good, Observation(999, "loss", 1.0), *good])
        with pytest.raises(StoreValueError, match="metric name must be non-empty"):
            store.log_metrics([*good, Observation(trial_id, "", 1.0)])
        assert store.metric_series(trial_id, "loss") == []
        assert store.metric_summaries(trial_id) == {}

    def test_best_trial_by_strategy_and_goal(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        ids = [new_trial(store, experiment_id, n) for n in range(3)]
        curves = {ids[0]: [0.5, 0.1, 0.4], ids[1]: [0.3, 0.3, 0.2], ids[2]: [0.9, 0.8, 0.95]}
        store.log_metrics(
            [
                Observation(t, "loss", v, step, 1000.0 + step)
                for t, values in curves.items()
                for step, v in enumerate(values)
            ]
        )
        best = store.best_trial(experiment_id, "loss", Goal.MINIMIZE, MetricStrategy.LATEST)
        assert best is not None and (best.trial.id, best.value) == (ids[1], 0.2)
        assert best.trial.assignment_values()["optimizer"] == "adam"
        best_min = store.best_trial(experiment_id, "loss", Goal.MINIMIZE, MetricStrategy.MIN)
        assert best_min is not None and (best_min.trial.id, best_min.value) == (ids[0], 0.1)
        best_max = store.best_trial(experiment_id, "loss", Goal.MAXIMIZE, MetricStrategy.MAX)
        assert best_max is not None and (best_max.trial.id, best_max.value) == (ids[2], 0.95)
        store.transition_trial(ids[0], TrialState.SUCCEEDED)
        only_done = store.best_trial(
            experiment_id, "loss", Goal.MAXIMIZE, MetricStrategy.MAX, [TrialState.SUCCEEDED]
        )
        assert only_done is not None and only_done.trial.id == ids[0]
        assert store.best_trial(experiment_id, "accuracy", Goal.MAXIMIZE) is None

    def test_compare_table(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        a, b = new_trial(store, experiment_id, 0), new_trial(store, experiment_id, 1)
        store.log_metrics(
            [Observation(a, "loss", 0.3), Observation(a, "acc", 0.8), Observation(b, "loss", 0.2)]
        )
        rows = store.compare_trials(experiment_id)
        assert [r.trial.id for r in rows] == [a, b]
        assert sorted(rows[0].metrics) == ["acc", "loss"] and rows[1].metrics["loss"].latest == 0.2
        assert rows[0].trial.assignment_values() == {"lr": "0.01", "optimizer": "adam"}
        only_loss = store.compare_trials(experiment_id, metrics=["loss"])
        assert [sorted(r.metrics) for r in only_loss] == [["loss"], ["loss"]]
        store.transition_trial(b, TrialState.RUNNING)
        assert [r.trial.id for r in store.compare_trials(experiment_id, states=[TrialState.RUNNING])] == [b]

    def test_compare_sorts_and_pages_in_the_database(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        ids = [new_trial(store, experiment_id, n) for n in range(5)]
        curves = {ids[0]: [0.1, 0.5], ids[1]: [0.3, 0.2], ids[2]: [0.9, 0.8], ids[4]: [0.4, 0.4]}
        store.log_metrics(
            [
                Observation(t, "loss", v, step, 1000.0 + step)
                for t, values in curves.items()
                for step, v in enumerate(values)
            ]
        )
        store.log_metric(ids[3], "acc", 0.5)  # no loss at all: sorts last whatever the direction
        by_latest = TrialOrder("loss", Goal.MINIMIZE, MetricStrategy.LATEST)
        order = [r.trial.id for r in store.compare_trials(experiment_id, sort_by=by_latest)]
        assert order == [ids[1], ids[4], ids[0], ids[2], ids[3]]
        by_min = TrialOrder("loss", Goal.MINIMIZE, MetricStrategy.MIN)
        top = store.compare_trials(experiment_id, sort_by=by_min, limit=2)
        assert [r.trial.id for r in top] == [ids[0], ids[1]]
        assert top[0].metrics["loss"].min == 0.1 and top[0].trial.assignment_values()["optimizer"] == "adam"
        by_max = TrialOrder("loss", Goal.MAXIMIZE, MetricStrategy.MAX)
        pages = [
            [r.trial.id for r in store.compare_trials(experiment_id, sort_by=by_max, limit=2, offset=o)]
            for o in (0, 2, 4, 6)
        ]
        assert pages == [[ids[2], ids[0]], [ids[4], ids[1]], [ids[3]], []]
        assert [r.trial.id for r in store.compare_trials(experiment_id, limit=2, offset=1)] == ids[1:3]
        store.transition_trial(ids[1], TrialState.RUNNING)
        store.transition_trial(ids[2], TrialState.RUNNING)
        running = store.compare_trials(
            experiment_id, metrics=["loss"], states=[TrialState.RUNNING], sort_by=by_latest, limit=1
        )
        assert [r.trial.id for r in running] == [ids[1]] and sorted(running[0].metrics) == ["loss"]
        with pytest.raises(StoreValueError, match="limit"):
            store.compare_trials(experiment_id, limit=-1)

    def test_trial_outlines_match_the_comparison_table(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        other = new_experiment(store, "other")
        ids = [new_trial(store, experiment_id, n) for n in (1, 0, 2)]
        new_trial(store, other, 0)
        store.transition_trial(ids[1], TrialState.RUNNING)
        store.log_metrics([Observation(ids[0], "loss", 0.3, 0), Observation(ids[0], "acc", 0.8, 0)])
        outlines = store.trial_outlines(experiment_id)
        rows = store.compare_trials(experiment_id)
        assert [o.id for o in outlines] == [r.trial.id for r in rows] == [ids[1], ids[0], ids[2]]
        for outline, row in zip(outlines, rows, strict=True):
            trial = row.trial
            assert (outline.number, outline.name, outline.state) == (trial.number, trial.name, trial.state)
            assert (outline.started_at, outline.completed_at) == (trial.started_at, trial.completed_at)
            assert outline.assignments == trial.assignments and outline.metrics == row.metrics
        assert outlines[0].state == TrialState.RUNNING and outlines[0].started_at is not None
        assert sorted(outlines[1].metrics) == ["acc", "loss"]
        with pytest.raises(NotFoundError, match="experiment 999"):
            store.trial_outlines(999)

    def test_series_points_read_and_thin_in_one_query(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        a, b, c = (new_trial(store, experiment_id, n) for n in range(3))
        store.log_metrics([Observation(a, "loss", float(s), s) for s in range(10)])
        store.log_metrics([Observation(b, "loss", 1.0, 1), Observation(b, "loss", float("nan"), 0)])
        store.log_metric(c, "acc", 0.5)
        whole = store.series_points(experiment_id, "loss")
        assert sorted(whole) == [a, b] and whole[a] == [(s, float(s)) for s in range(10)]
        assert [p[0] for p in whole[b]] == [0, 1] and math.isnan(whole[b][0][1])
        assert [(p.step, p.value) for p in store.metric_series(a, "loss")] == whole[a]
        assert list(store.series_points(experiment_id, "loss", [b, c])) == [b]
        thinned = store.series_points(experiment_id, "loss", max_points=4)
        assert [p[0] for p in thinned[a]] == [0, 3, 6, 9]  # first and last kept, evenly spread
        assert [p[0] for p in store.series_points(experiment_id, "loss", [a], max_points=3)[a]] == [0, 5, 9]
        assert thinned[b][1] == (1, 1.0)  # shorter than the cap: whole
        with pytest.raises(StoreValueError, match="max_points"):
            store.series_points(experiment_id, "loss", max_points=1)
        with pytest.raises(NotFoundError, match="experiment 999"):
            store.series_points(999, "loss")

    def test_find_trials_by_name_prefix_or_short_suffix(self, store: Store) -> None:
        first = new_experiment(store, "mnist")
        other = new_experiment(store, "median-stop", "kubeflow")
        new_trial(store, first, 0, "mnist-abc12345")
        new_trial(store, first, 1, "mnist-abd99999")
        new_trial(store, other, 0, "median-stop-x7y8z9w0")
        assert [t.name for t in store.find_trials("mnist-abc12345")] == ["mnist-abc12345"]
        assert [t.name for t in store.find_trials("mnist-ab")] == ["mnist-abc12345", "mnist-abd99999"]
        assert [t.name for t in store.find_trials("abd9")] == ["mnist-abd99999"]
        assert [t.name for t in store.find_trials("x7y8", namespace="kubeflow")] == ["median-stop-x7y8z9w0"]
        assert store.find_trials("x7y8", namespace="default") == []
        assert store.find_trials("%") == [] and store.find_trials("") == []
        assert len(store.find_trials("m", limit=2)) == 2

    def test_threads_share_one_store(self, store: Store) -> None:
        experiment_id = new_experiment(store)
        trials = [new_trial(store, experiment_id, n) for n in range(4)]

        def report(trial_id: int) -> None:
            for step in range(50):
                store.log_metric(trial_id, "loss", 1.0 / (step + 1), step)
            store.log_metrics([Observation(trial_id, "acc", 0.5, step) for step in range(50)])

        threads = [threading.Thread(target=report, args=(t,)) for t in trials]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for trial_id in trials:
            summaries = store.metric_summaries(trial_id)
            assert (summaries["loss"].count, summaries["acc"].count, summaries["loss"].min) == (50, 50, 0.02)

    def test_early_stopping_decisions(self, store: Store) -> None:
        trial_id = new_trial(store, new_experiment(store), 0)
        store.record_early_stopping_decision(
            trial_id, "medianstop", "loss", stop=False, step=1, value=0.5, threshold=0.6
        )
        stop = store.record_early_stopping_decision(
            trial_id,
            "medianstop",
            "loss",
            stop=True,
            step=2,
            value=0.7,
            threshold=0.4,
            reason="worse than median",
        )
        assert stop.stop and stop.reason == "worse than median"
        decisions = store.list_early_stopping_decisions(trial_id)
        assert [(d.step, d.stop, d.threshold) for d in decisions] == [(1, False, 0.6), (2, True, 0.4)]


class PipelineConformance(StoreTest):
    def test_task_process(self, store: Store) -> None:
        run_id = store.create_run("with-process").id
        task = store.create_task(run_id, "step")
        assert task.process is None
        process = {"pid": 4242, "started": 1700000000.25, "host": "h1"}
        assert store.set_task_process(task.id, process).process == process
        assert store.list_tasks(run_id)[0].process == process
        assert store.set_task_process(task.id, None).process is None
        with pytest.raises(NotFoundError):
            store.set_task_process(999, process)

    def test_run_leases(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        first, second = make_store(clock), make_store(clock)
        run_id = first.create_run("leased").id
        assert first.get_run_lease(run_id) is None
        assert first.acquire_run_lease(run_id, "a", ttl=30).holder == "a"
        with pytest.raises(LeaseHeldError, match="driven by 'a'"):
            second.acquire_run_lease(run_id, "b", ttl=30)
        assert second.acquire_run_lease(run_id, "b", ttl=30, replacing="a").holder == "b"  # a is dead
        with pytest.raises(LeaseHeldError, match="taken by 'b'"):
            first.renew_run_lease(run_id, "a", ttl=30)
        clock.advance(31)
        assert first.get_run_lease(run_id) is None  # expired
        assert first.acquire_run_lease(run_id, "c", ttl=30).holder == "c"
        first.release_run_lease(run_id, "someone-else")
        assert first.get_run_lease(run_id) is not None
        first.release_run_lease(run_id, "c")
        assert first.get_run_lease(run_id) is None
        with pytest.raises(NotFoundError):
            first.acquire_run_lease(999, "a", ttl=30)

    def test_pipelines_and_versions(self, store: Store) -> None:
        pipeline = store.create_pipeline("train", description="trains")
        with pytest.raises(AlreadyExistsError, match="pipeline default/train"):
            store.create_pipeline("train")
        v1 = store.create_pipeline_version(pipeline.id, "v1", {"dag": ["a"]}, "sha256:1")
        with pytest.raises(AlreadyExistsError):
            store.create_pipeline_version(pipeline.id, "v1", {"dag": ["b"]}, "sha256:2")
        with pytest.raises(AlreadyExistsError):
            store.create_pipeline_version(pipeline.id, "v2", {"dag": ["a"]}, "sha256:1")
        v2 = store.create_pipeline_version(pipeline.id, "v2", {"dag": ["b"]}, "sha256:2")
        assert store.get_pipeline("train") == pipeline and store.list_pipelines() == [pipeline]
        assert store.get_pipeline_version(pipeline.id, name="v1") == v1
        assert store.get_pipeline_version(pipeline.id, spec_digest="sha256:2") == v2
        assert store.list_pipeline_versions(pipeline.id) == [v1, v2]
        with pytest.raises(StoreValueError):
            store.get_pipeline_version(pipeline.id)
        with pytest.raises(NotFoundError):
            store.get_pipeline_version(pipeline.id, name="v9")
        with pytest.raises(NotFoundError, match="pipeline 999 does not exist"):
            store.create_pipeline_version(999, "v1", {}, "sha256:x")

    def test_runs_and_tasks(self, store: Store) -> None:
        pipeline = store.create_pipeline("p")
        version = store.create_pipeline_version(pipeline.id, "v1", {}, "sha256:1")
        trial_id = new_trial(store, new_experiment(store), 0)
        run = store.create_run(
            "run-1", pipeline_version_id=version.id, arguments={"lr": 0.1}, trial_id=trial_id
        )
        assert run.state == RunState.PENDING and run.arguments == {"lr": 0.1}
        assert store.list_runs(trial_id=trial_id) == [run]
        assert store.update_run(run.id, RunState.RUNNING).started_at is not None
        task = store.create_task(run.id, "prepare", component="prep", inputs={"n": 3}, cache_key="k1")
        with pytest.raises(AlreadyExistsError, match="task 'prepare'"):
            store.create_task(run.id, "prepare")
        running = store.update_task(task.id, state=TaskState.RUNNING, new_attempt=True, logs_uri="file:///l")
        assert running.attempts == 1 and running.started_at is not None and running.logs_uri == "file:///l"
        done = store.update_task(task.id, state=TaskState.SUCCEEDED, outputs={"rows": 10})
        assert done.outputs == {"rows": 10} and done.completed_at is not None
        with pytest.raises(InvalidTransitionError, match="is Succeeded and cannot become Running"):
            store.update_task(task.id, state=TaskState.RUNNING)
        cached = store.create_task(run.id, "prepare-again")
        cached = store.update_task(cached.id, state=TaskState.CACHED, cached_from_task_id=task.id)
        assert cached.cached_from_task_id == task.id
        assert [t.name for t in store.list_tasks(run.id)] == ["prepare", "prepare-again"]
        finished = store.update_run(run.id, RunState.SUCCEEDED)
        assert finished.completed_at is not None
        with pytest.raises(InvalidTransitionError):
            store.update_run(run.id, RunState.RUNNING)
        assert store.list_runs(states=[RunState.SUCCEEDED]) == [finished]
        with pytest.raises(NotFoundError, match="pipeline version 999"):
            store.create_run("x", pipeline_version_id=999)

    def test_artifacts_events_and_cache(self, store: Store) -> None:
        run = store.create_run("r")
        task = store.create_task(run.id, "t")
        data = store.register_artifact(
            "file:///d", type="dataset", digest="sha256:d", size=10, name="data", metadata={"rows": 5}
        )
        assert store.register_artifact("file:///d", type="dataset", digest="sha256:d", size=10) == data
        with pytest.raises(AlreadyExistsError, match="immutable"):
            store.register_artifact("file:///d", type="dataset", digest="sha256:other", size=10)
        assert store.get_artifact_by_uri("file:///d").metadata == {"rows": 5}
        assert store.get_artifact(data.id) == data
        event = store.record_event(data.id, Direction.INPUT, task_id=task.id, port="data")
        assert store.list_events(task_id=task.id) == [event]
        assert store.list_events(artifact_id=data.id) == [event]
        with pytest.raises(StoreValueError):
            store.record_event(data.id, Direction.INPUT)
        with pytest.raises(NotFoundError, match="task 999"):
            store.record_event(data.id, Direction.OUTPUT, task_id=999)
        assert store.lookup_cache("key") is None
        store.put_cache_entry("key", {"out": "file:///a"}, task_id=task.id)
        replaced = store.put_cache_entry("key", {"out": "file:///b"})
        assert replaced.outputs == {"out": "file:///b"} and replaced.task_id is None
        entry = store.lookup_cache("key")
        assert entry is not None and entry.outputs == {"out": "file:///b"}


class RegistryConformance(StoreTest):
    def test_versions_aliases_and_history(self, store: Store) -> None:
        model = store.create_registered_model("clf", description="classifier")
        with pytest.raises(AlreadyExistsError, match="registered model default/clf"):
            store.create_registered_model("clf")
        versions = [store.create_model_version(model.id, metrics={"acc": 0.9}, actor="ci") for _ in range(3)]
        assert [v.version for v in versions] == [1, 2, 3]
        assert store.get_model_version(model.id, 2) == versions[1]
        store.set_alias(model.id, "champion", 1, actor="alice")
        moved = store.set_alias(model.id, "champion", 3, actor="bob", reason="better")
        assert (moved.previous_version, moved.version) == (1, 3)
        assert store.get_alias(model.id, "champion") == versions[2]
        assert store.list_aliases(model.id) == {"champion": 3}
        for bad in ("latest", "v2", "has space"):
            with pytest.raises(StoreValueError):
                store.set_alias(model.id, bad, 1)
        with pytest.raises(NotFoundError, match="no version 9"):
            store.set_alias(model.id, "x", 9)
        store.delete_alias(model.id, "champion", actor="carol")
        with pytest.raises(NotFoundError):
            store.get_alias(model.id, "champion")
        history = store.registry_history(model.id)
        assert [(h.kind, h.alias, h.version, h.previous_version) for h in history] == [
            ("version_created", None, 1, None),
            ("version_created", None, 2, None),
            ("version_created", None, 3, None),
            ("alias_set", "champion", 1, None),
            ("alias_set", "champion", 3, 1),
            ("alias_deleted", "champion", None, 3),
        ]
        assert store.list_model_versions(model.id) == versions
        with pytest.raises(NotFoundError, match="artifact 999"):
            store.create_model_version(model.id, artifact_id=999)
        assert store.create_model_version(model.id).version == 4  # the failed attempt used no number

    def test_deployments_revisions_and_traffic(self, make_store: MakeStore) -> None:
        clock = FakeClock()
        store = make_store(clock)
        model = store.create_registered_model("m")
        v1, v2 = (store.create_model_version(model.id) for _ in range(2))
        deployment = store.create_deployment("web", model_id=model.id)
        with pytest.raises(AlreadyExistsError):
            store.create_deployment("web")
        r1 = store.create_revision(deployment.id, v1.id, {"replicas": 1})
        r2 = store.create_revision(deployment.id, v2.id, {"replicas": 1})
        assert (r1.number, r2.number) == (1, 2) and r1.config_digest != r2.config_digest
        assert store.list_revisions(deployment.id) == [r1, r2] and store.get_revision(r2.id) == r2
        store.set_traffic(deployment.id, {r1.id: 100}, tags={r1.id: "stable"})
        clock.advance(60)
        canary = store.set_traffic(
            deployment.id, {r1.id: 90, r2.id: 10}, tags={r2.id: "canary"}, reason="canary"
        )
        assert [(t.revision_id, t.percent, t.tag) for t in canary] == [
            (r1.id, 90, None),
            (r2.id, 10, "canary"),
        ]
        for bad in ({r1.id: 50}, {r1.id: 101, r2.id: -1}):
            with pytest.raises(StoreValueError):
                store.set_traffic(deployment.id, bad)
        other = store.create_deployment("other")
        foreign = store.create_revision(other.id, v1.id)
        with pytest.raises(NotFoundError, match=f"revision {foreign.id}"):
            store.set_traffic(deployment.id, {foreign.id: 100})
        assert store.current_traffic(deployment.id) == canary
        history = store.traffic_history(deployment.id)
        assert [(t.percent, t.valid_to is None) for t in history] == [(100, False), (90, True), (10, True)]
        assert history[0].valid_to == clock.now
        assert store.set_last_good_revision(deployment.id, r1.id).last_good_revision_id == r1.id
        with pytest.raises(NotFoundError):
            store.set_last_good_revision(deployment.id, foreign.id)
        assert store.get_deployment("web") == store.get_deployment_by_id(deployment.id)
        assert [d.name for d in store.list_deployments()] == ["web", "other"]


class LineageConformance(StoreTest):
    def _build(self, store: Store) -> dict[str, int]:
        """dataset -> task (of a run of a trial of an experiment) -> model file -> version -> revision -> deployment."""
        experiment_id = new_experiment(store)
        trial_id = new_trial(store, experiment_id, 0)
        run = store.create_run("trial-0-run", trial_id=trial_id)
        task = store.create_task(run.id, "train")
        raw = store.register_artifact(
            "file:///raw.csv", type="dataset", digest="sha256:r", size=1, name="raw"
        )
        prep = store.create_task(run.id, "prepare")
        store.record_event(raw.id, Direction.INPUT, task_id=prep.id)
        data = store.register_artifact(
            "file:///data.parquet", type="dataset", digest="sha256:d", size=1, name="data"
        )
        store.record_event(data.id, Direction.OUTPUT, task_id=prep.id)
        store.record_event(data.id, Direction.INPUT, task_id=task.id)
        model_file = store.register_artifact("file:///model.pkl", type="model", digest="sha256:m", size=1)
        store.record_event(model_file.id, Direction.OUTPUT, task_id=task.id, port="model")
        model = store.create_registered_model("clf")
        version = store.create_model_version(model.id, artifact_id=model_file.id, source_trial_id=trial_id)
        deployment = store.create_deployment("web", model_id=model.id)
        revision = store.create_revision(deployment.id, version.id)
        return {
            "experiment": experiment_id, "trial": trial_id, "run": run.id, "task": task.id, "prep": prep.id,
            "raw": raw.id, "data": data.id, "model_file": model_file.id, "version": version.id,
            "revision": revision.id, "deployment": deployment.id,
        }  # fmt: skip

    def test_upstream_of_a_deployment_reaches_experiment_run_and_data(self, store: Store) -> None:
        ids = self._build(store)
        graph = store.lineage(NodeRef(NodeKind.DEPLOYMENT, ids["deployment"]), LineageDirection.UPSTREAM)
        reached = {(n.kind, n.id) for n in graph.nodes}
        for kind, key in [
            (NodeKind.EXPERIMENT, "experiment"),
            (NodeKind.TRIAL, "trial"),
            (NodeKind.PIPELINE_RUN, "run"),
            (NodeKind.TASK, "task"),
            (NodeKind.TASK, "prep"),
            (NodeKind.ARTIFACT, "data"),
            (NodeKind.ARTIFACT, "raw"),
            (NodeKind.MODEL_VERSION, "version"),
            (NodeKind.REVISION, "revision"),
        ]:
            assert (kind, ids[key]) in reached, (kind, key)
        assert [n.label for n in graph.of_kind(NodeKind.EXPERIMENT)] == ["default/exp"]
        assert [n.label for n in graph.of_kind(NodeKind.MODEL_VERSION)] == ["clf v1"]
        assert graph.nodes[0].depth == 0 and graph.nodes[0].kind == NodeKind.DEPLOYMENT
        edge_kinds = {(e.source.kind, e.target.kind, e.relation) for e in graph.edges}
        assert (NodeKind.ARTIFACT, NodeKind.TASK, "input") in edge_kinds
        assert (NodeKind.TASK, NodeKind.ARTIFACT, "output") in edge_kinds

    def test_downstream_of_raw_data_reaches_the_deployment(self, store: Store) -> None:
        ids = self._build(store)
        graph = store.lineage(NodeRef(NodeKind.ARTIFACT, ids["raw"]), LineageDirection.DOWNSTREAM)
        deployments = graph.of_kind(NodeKind.DEPLOYMENT)
        assert [d.id for d in deployments] == [ids["deployment"]]
        assert deployments[0].depth == 7  # raw > prep > data > train > model.pkl > v1 > r1 > web
        assert not graph.of_kind(NodeKind.EXPERIMENT)  # the experiment is upstream, not downstream
        near = store.lineage(NodeRef(NodeKind.ARTIFACT, ids["raw"]), LineageDirection.DOWNSTREAM, max_depth=2)
        assert {n.kind for n in near.nodes} == {NodeKind.ARTIFACT, NodeKind.TASK}

    def test_unknown_start_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="model version 5 does not exist"):
            store.lineage(NodeRef(NodeKind.MODEL_VERSION, 5), LineageDirection.UPSTREAM)


class StoreConformance(
    ExperimentConformance,
    LeaseConformance,
    TrialConformance,
    MetricConformance,
    PipelineConformance,
    RegistryConformance,
    LineageConformance,
):
    """Every conformance test; subclass it once per backend."""


# --- helpers for tests that need more than the contract ----------------------------------------------


def reset_database(url: str) -> None:
    """Delete every row of every store table (faster than a new database); the schema stays."""
    from sqlalchemy import text

    from tuner.store._engine import make_engine, write_transaction
    from tuner.store.models import Base

    engine = make_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    try:
        with write_transaction(engine) as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            else:
                for name in names:
                    connection.execute(text(f"DELETE FROM {name}"))
    finally:
        engine.dispose()


def schema_differences(url: str) -> list[Any]:
    """What differs between the migrated database and `tuner.store.models` (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tuner.store._engine import make_engine
    from tuner.store.models import Base

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def migrate_to(url: str, revision: str) -> tuple[str | None, str | None]:
    """Migrate the database at `url` to `revision` (e.g. the previous one, to test upgrades from it)."""
    from tuner.store.migrate import upgrade_database

    return upgrade_database(url, revision)


def database_revision(url: str) -> str | None:
    from tuner.store import migrate

    return migrate.database_revision(url)


def set_database_revision(url: str, revision: str) -> None:
    """Overwrite the recorded revision (to simulate a database written by a newer tuner)."""
    from sqlalchemy import text

    from tuner.store._engine import make_engine, write_transaction

    engine = make_engine(url)
    try:
        with write_transaction(engine) as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def metric_point_keys(url: str) -> list[tuple[int, str, int | None]]:
    """Every stored (trial id, metric name, step), duplicates included, for the concurrency tests."""
    from sqlalchemy import select

    from tuner.store._engine import make_engine, read_transaction
    from tuner.store._sql_metrics import P

    engine = make_engine(url)
    try:
        with read_transaction(engine) as connection:
            rows = connection.execute(select(P.c.trial_id, P.c.name, P.c.step))
            return [(r.trial_id, r.name, r.step) for r in rows]
    finally:
        engine.dispose()


# --- workers for multi-process tests (module-level so spawned processes can import them) --------------


def create_and_report_worker(
    url: str, experiment_id: int, worker: int, trials: int, singles: int, batches: int, batch_size: int,
    start: Any, results: Any,
) -> None:  # fmt: skip
    """Race the other workers to create trials 0..trials-1, then write metrics to every trial.

    Steps are unique per worker (worker * 1_000_000 + i), so the stored series must hold exactly
    workers * (singles + batches * batch_size) distinct points. Reports (worker, numbers created,
    duplicates refused) on `results`.
    """
    from tuner.store import open_store

    store = open_store(url)
    start.wait()
    created: list[int] = []
    refused = 0
    for number in range(trials):
        try:
            store.create_trial(experiment_id, f"trial-{number}", [Assignment("x", str(number), float(number))],
                               number=number)  # fmt: skip
            created.append(number)
        except AlreadyExistsError:
            refused += 1
    trial_ids: list[int] = []
    while len(trial_ids) < trials:
        trial_ids = [t.id for t in store.list_trials(experiment_id)]
    base = worker * 1_000_000
    for i in range(singles):
        store.log_metric(trial_ids[i % trials], "loss", float(i), step=base + i)
    for b in range(batches):
        first = base + singles + b * batch_size
        store.log_metrics(
            [
                Observation(trial_ids[(first + j) % trials], "loss", float(j), first + j)
                for j in range(batch_size)
            ]
        )
    store.close()
    results.put((worker, created, refused))


def claim_worker(url: str, experiment_id: int, worker: int, start: Any, results: Any) -> None:
    """Claim trials until none is left; report (worker, claimed trial ids)."""
    from tuner.store import open_store

    store = open_store(url)
    start.wait()
    claimed: list[int] = []
    while (trial := store.claim_trial(experiment_id, f"worker-{worker}")) is not None:
        claimed.append(trial.id)
    store.close()
    results.put((worker, claimed))


def open_worker(url: str, start: Any, results: Any) -> None:
    """Open (and so create and migrate) the store at the same moment as other workers."""
    from tuner.store import open_store

    start.wait()
    store = open_store(url)
    experiment = store.create_experiment(f"from-{id(store)}", {}, "d")
    store.close()
    results.put(experiment.id)
