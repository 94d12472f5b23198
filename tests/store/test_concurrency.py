"""Several real processes writing one store at once, on SQLite and PostgreSQL.

The claims tested: creating the N-th trial twice is impossible, concurrent metric writers lose and
duplicate nothing, a claim never hands one trial to two workers, and a new database opened by several
processes at the same moment is migrated once and works for all of them.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tuner.store import open_store
from tuner.store.migrate import HEAD_REVISION
from tuner.store.records import Assignment
from tuner.store.testing import (
    claim_worker,
    create_and_report_worker,
    database_revision,
    metric_point_keys,
    open_worker,
)

WORKERS = 4
TRIALS = 20
SINGLES = 500  # single-point transactions per worker
BATCHES = 20  # batches per worker
BATCH = 100  # points per batch  -> 4 * (500 + 20 * 100) = 10,000 points in all

pytestmark = pytest.mark.slow


def _run(target: Any, args_for: Any, count: int = WORKERS) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(count)
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args_for(i), start, results)) for i in range(count)]
    for process in processes:
        process.start()
    collected = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return collected


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tuner.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_racing_trial_creation_and_10k_metric_writes(fresh_url: str) -> None:
    store = open_store(fresh_url)
    experiment_id = store.create_experiment("race", {}, "d").id
    results = _run(
        create_and_report_worker,
        lambda i: (fresh_url, experiment_id, i, TRIALS, SINGLES, BATCHES, BATCH),
    )

    created = [n for _, numbers, _ in results for n in numbers]
    assert sorted(created) == list(range(TRIALS)), "every trial number created exactly once"
    assert sum(refused for _, _, refused in results) == (WORKERS - 1) * TRIALS
    trials = store.list_trials(experiment_id)
    assert [t.number for t in trials] == list(range(TRIALS))

    keys = metric_point_keys(fresh_url)
    expected = WORKERS * (SINGLES + BATCHES * BATCH)
    assert len(keys) == expected == 10_000
    assert len(set(keys)) == expected, "no point stored twice"
    per_trial = Counter(trial_id for trial_id, _, _ in keys)
    for trial in trials:
        summary = store.metric_summaries(trial.id)["loss"]
        assert summary.count == per_trial[trial.id], "the summary counted every point of its trial"
    store.close()


def test_claims_never_hand_a_trial_to_two_workers(fresh_url: str) -> None:
    store = open_store(fresh_url)
    experiment_id = store.create_experiment("claims", {}, "d").id
    ids = [store.create_trial(experiment_id, f"t{n}", [Assignment("x", str(n))]).id for n in range(120)]
    results = _run(claim_worker, lambda i: (fresh_url, experiment_id, i))

    claimed = [trial_id for _, trial_ids in results for trial_id in trial_ids]
    assert len(claimed) == len(set(claimed)), "a trial was handed to two workers"
    assert sorted(claimed) == ids
    owners = {t.id: t.claimed_by for t in store.list_trials(experiment_id)}
    for worker, trial_ids in results:
        assert all(owners[t] == f"worker-{worker}" for t in trial_ids)
    store.close()


def test_processes_opening_a_new_database_together_migrate_it_once(fresh_url: str, tmp_path: Path) -> None:
    url = fresh_url.replace(str(tmp_path), str(tmp_path / "new" / "folder"))  # SQLite: folder made too
    ids = _run(open_worker, lambda i: (url,), count=3)
    assert sorted(ids) == [1, 2, 3]
    assert database_revision(url) == HEAD_REVISION


def _write_from_child(store: Any, experiment_id: int, results: Any) -> None:
    results.put(store.create_trial(experiment_id, "from-child", []).id)
    store.close()


def test_a_forked_child_opens_its_own_connections(fresh_url: str) -> None:
    """A controller that forks keeps a working store in parent and child (no shared sockets)."""
    store = open_store(fresh_url)
    experiment_id = store.create_experiment("fork", {}, "d").id  # the pool now holds a connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_write_from_child, args=(store, experiment_id, results))
    child.start()
    trial_id = results.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert store.get_trial(trial_id).name == "from-child"
    assert store.create_trial(experiment_id, "from-parent", []).number == 1
    store.close()
