"""The experiment lease (`controllers.lease`) on real stores and real processes: who counts as provably dead,
takeover rules across hosts, the heartbeat that renews while the driver is blocked, losing it, stop requests.

Another host is stood for by a holder id with another host name: a second machine cannot run here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest

from controllers.lease import LeaseKeeper, LeaseLostError, new_holder_id, provably_dead
from tuner.errors import LeaseHeldError
from tuner.store import Store, open_store
from tuner.store.sql import SqlStore

HOST = socket.gethostname()


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tuner.db'}"
    value: str = request.getfixturevalue("postgres_url")
    return value


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    db = open_store(url)
    yield db
    db.close()


def experiment(store: Store, name: str = "leased") -> int:
    return store.create_experiment(name, {}, "sha256:x").id


def holder_of(pid: int, start: float | str, host: str = HOST) -> str:
    start_text = start if isinstance(start, str) else f"{start:.2f}"
    return f"{host}:{pid}:{start_text}:cafe"


def wait_until(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.kill()
    process.wait()


def test_only_a_process_of_this_host_that_is_gone_or_reused_is_provably_dead(
    sleeper: subprocess.Popen[bytes],
) -> None:
    started = psutil.Process(sleeper.pid).create_time()
    assert not provably_dead(holder_of(sleeper.pid, started))  # alive, with the start time in its id
    assert not provably_dead(new_holder_id())  # this very process
    assert provably_dead(holder_of(sleeper.pid, started - 5))  # the pid was reused by another process
    assert not provably_dead(holder_of(sleeper.pid, started, host="another-host"))  # never judged from here
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert provably_dead(holder_of(gone.pid, started))
    assert not provably_dead(holder_of(gone.pid, started, host="another-host"))
    assert not provably_dead("not a holder id")
    assert not provably_dead(f"{HOST}:{os.getpid()}:old-style-token")  # an older id without start time


def test_a_killed_process_not_yet_reaped_is_dead(sleeper: subprocess.Popen[bytes]) -> None:
    holder = holder_of(sleeper.pid, psutil.Process(sleeper.pid).create_time())
    sleeper.kill()
    wait_until(lambda: psutil.Process(sleeper.pid).status() == psutil.STATUS_ZOMBIE, "a zombie")
    assert provably_dead(holder)


def test_a_live_holder_is_refused_a_dead_one_taken_over_at_once(
    store: Store, sleeper: subprocess.Popen[bytes]
) -> None:
    experiment_id = experiment(store)
    live = holder_of(sleeper.pid, psutil.Process(sleeper.pid).create_time())
    store.acquire_lease(experiment_id, live, ttl=600)
    keeper = LeaseKeeper(store, experiment_id, "default/leased")
    with pytest.raises(LeaseHeldError, match=rf"already being run by process {sleeper.pid} on {HOST}"):
        keeper.acquire()
    sleeper.kill()
    sleeper.wait()
    keeper.acquire()  # the lease had 600 s left: taken over because its holder is provably dead
    try:
        lease = store.get_lease(experiment_id)
        assert lease is not None and lease.holder == keeper.holder
    finally:
        keeper.close()
    assert store.get_lease(experiment_id) is None


def test_another_hosts_holder_is_taken_over_only_after_expiry(url: str) -> None:
    clock = FakeClock()
    store = SqlStore(url, clock=clock)  # migrated by open_store below
    open_store(url).close()
    try:
        experiment_id = experiment(store)
        remote = holder_of(1, 0.0, host="another-host")  # pid 1 here is init; there it is the driver
        store.acquire_lease(experiment_id, remote, ttl=30)
        keeper = LeaseKeeper(store, experiment_id, "default/leased", ttl=30)
        with pytest.raises(LeaseHeldError, match="process 1 on another-host"):
            keeper.acquire()
        clock.now += timedelta(seconds=31)
        keeper.acquire()
        keeper.close()
    finally:
        store.close()


def test_the_heartbeat_renews_while_the_driver_is_blocked(store: Store) -> None:
    experiment_id = experiment(store)
    keeper = LeaseKeeper(store, experiment_id, "default/leased", ttl=3.0, watch_interval=0.05)
    keeper.acquire()
    try:
        first = store.get_lease(experiment_id)
        assert first is not None
        # this thread does nothing for the keeper (as a driver blocked in a long call): the lease moves on
        wait_until(
            lambda: (
                (lease := store.get_lease(experiment_id)) is not None and lease.expires_at > first.expires_at
            ),
            "a renewal",
        )
        assert not keeper.lost.is_set()
    finally:
        keeper.close()


def test_a_holder_that_lost_its_lease_knows_it(store: Store) -> None:
    experiment_id = experiment(store)
    keeper = LeaseKeeper(store, experiment_id, "default/leased", ttl=600, watch_interval=0.05)
    keeper.acquire()
    try:
        keeper.check()
        store.acquire_lease(experiment_id, "someone-else", ttl=600, replacing=keeper.holder)
        assert keeper.lost.wait(60)
        with pytest.raises(LeaseLostError, match="lost its lease"):
            keeper.check()
    finally:
        keeper.close()
    lease = store.get_lease(experiment_id)
    assert lease is not None and lease.holder == "someone-else"  # not released by the loser


def test_a_stop_request_reaches_the_keeper(store: Store, url: str) -> None:
    experiment_id = experiment(store)
    keeper = LeaseKeeper(store, experiment_id, "default/leased", ttl=600, watch_interval=0.05)
    keeper.acquire()
    try:
        assert not keeper.stop_requested.is_set()
        other = open_store(url)  # another connection, as `tuner experiments stop` on another host
        try:
            request = other.request_stop(experiment_id)
        finally:
            other.close()
        assert request is not None and request.holder == keeper.holder
        assert keeper.stop_requested.wait(60)
    finally:
        keeper.close()
    again = LeaseKeeper(store, experiment_id, "default/leased", ttl=600, watch_interval=0.05)
    again.acquire()  # the request went with the old lease: the next run is not stopped by it
    try:
        lease = store.get_lease(experiment_id)
        assert lease is not None and lease.holder == again.holder and lease.stop_requested_at is None
    finally:
        again.close()
