"""Leader election on a Lease (controllers.kubernetes.leader) with the in-process fake client and a fake
clock: one leader among candidates, takeover only after the lease expired, hand-over on release."""

from __future__ import annotations

import threading

from controllers.kubernetes.client import LEASES
from controllers.kubernetes.fake import FakeKubeClient
from controllers.kubernetes.leader import LeaderElector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_leader_and_takeover_after_expiry() -> None:
    kube, clock = FakeKubeClient(), Clock()
    a = LeaderElector(kube, "ns", "lock", "a", lease_seconds=15, clock=clock)
    b = LeaderElector(kube, "ns", "lock", "b", lease_seconds=15, clock=clock)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()  # held and fresh
    clock.now += 10
    assert a.try_acquire_or_renew()  # renewed: the record changed
    clock.now += 10
    assert not b.try_acquire_or_renew()  # b saw the renewal 10 s ago (its own clock), not expired yet
    clock.now += 16  # a stopped renewing (crashed)
    assert b.try_acquire_or_renew()
    lease = kube.get(LEASES, "lock", "ns")
    assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew()  # a is back, but b holds a fresh lease now


def test_only_one_of_two_racing_candidates_wins() -> None:
    kube = FakeKubeClient()
    kube.create(LEASES, {"metadata": {"name": "lock"}, "spec": {"holderIdentity": ""}}, "ns")
    electors = [LeaderElector(kube, "ns", "lock", f"c{i}") for i in range(6)]
    results: list[bool] = []
    barrier = threading.Barrier(len(electors))

    def race(e: LeaderElector) -> None:
        barrier.wait()
        results.append(e.try_acquire_or_renew())

    threads = [threading.Thread(target=race, args=(e,)) for e in electors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_release_hands_over_at_once() -> None:
    kube = FakeKubeClient()
    stop = threading.Event()
    a = LeaderElector(kube, "ns", "lock", "a", renew_seconds=0.05)
    b = LeaderElector(kube, "ns", "lock", "b")
    assert a.acquire(stop) and a.leading.is_set()
    assert not b.try_acquire_or_renew()
    a.release()
    assert not a.leading.is_set()
    assert b.try_acquire_or_renew()
    assert kube.get(LEASES, "lock", "ns")["spec"]["holderIdentity"] == "b"
