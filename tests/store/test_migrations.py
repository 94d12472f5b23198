"""The Alembic migrations on both backends: from an empty database, from the previous revision with data
in it, agreement with the models, and refusal of a database written by a newer tuner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tuner.errors import StoreError
from tuner.states import TrialState
from tuner.store import open_store
from tuner.store.migrate import HEAD_REVISION, head_revision, known_revisions
from tuner.store.records import Assignment, Goal, LineageDirection, NodeKind, NodeRef, Observation
from tuner.store.sql import SqlStore
from tuner.store.testing import database_revision, migrate_to, schema_differences, set_database_revision

PREVIOUS = "0003"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tuner.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_head_constant_matches_the_scripts() -> None:
    assert head_revision() == HEAD_REVISION
    assert known_revisions() == ("0001", "0002", PREVIOUS, HEAD_REVISION)


def test_upgrade_from_empty_matches_the_models(empty_url: str) -> None:
    assert database_revision(empty_url) is None
    assert migrate_to(empty_url, "head") == (None, HEAD_REVISION)
    assert schema_differences(empty_url) == []
    assert migrate_to(empty_url, "head") == (HEAD_REVISION, HEAD_REVISION)  # idempotent


def test_upgrade_from_the_previous_revision_keeps_its_data(empty_url: str) -> None:
    migrate_to(empty_url, PREVIOUS)
    old = SqlStore(
        empty_url
    )  # the previous revision has the tuning tables; write real data through the store
    experiment = old.create_experiment("before-upgrade", {"k": 1}, "sha256:e")
    trial = old.create_trial(experiment.id, "t0", [Assignment("lr", "0.1", 0.1)])
    old.log_metrics([Observation(trial.id, "loss", 1.0 / (s + 1), s) for s in range(5)])
    old.transition_trial(trial.id, TrialState.RUNNING)
    old.close()

    store = open_store(empty_url)  # migrates the previous revision -> head
    assert database_revision(empty_url) == HEAD_REVISION
    assert schema_differences(empty_url) == []
    assert store.get_experiment("before-upgrade").spec == {"k": 1}
    assert store.get_trial(trial.id).state == TrialState.RUNNING
    best = store.best_trial(experiment.id, "loss", Goal.MINIMIZE)
    assert best is not None and best.value == 0.2
    store.acquire_lease(experiment.id, "driver", ttl=60)
    assert store.request_stop(experiment.id) is not None  # the table added by the new revision
    assert store.get_lease(experiment.id).stop_requested_at is not None  # type: ignore[union-attr]
    model = store.create_registered_model("m")
    version = store.create_model_version(model.id, source_trial_id=trial.id)
    graph = store.lineage(NodeRef(NodeKind.MODEL_VERSION, version.id), LineageDirection.UPSTREAM)
    assert [n.label for n in graph.of_kind(NodeKind.EXPERIMENT)] == ["default/before-upgrade"]
    store.close()


def test_open_store_creates_the_folder_and_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'tuner.db'}"
    open_store(url).close()
    assert (tmp_path / "a" / "b" / "tuner.db").exists()
    assert database_revision(url) == HEAD_REVISION


def test_default_store_lives_in_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUNER_HOME", str(tmp_path / "home"))
    store = open_store()
    store.create_experiment("x", {}, "d")
    store.close()
    assert (tmp_path / "home" / "tuner.db").exists()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    open_store(url).close()
    set_database_revision(url, "9999")
    with pytest.raises(StoreError, match="revision '9999', which this tuner does not know"):
        open_store(url)


def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "tuner.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
