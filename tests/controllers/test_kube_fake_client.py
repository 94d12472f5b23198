"""The in-process KubeClient fake keeps the API server's resourceVersion rules, and the operator's writes
retry on conflicts (the same rules are checked against the real server in tests/k8s)."""

from __future__ import annotations

import threading

import pytest

from controllers.kubernetes.client import (
    JOBS,
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    Resource,
    owner_reference,
    retry_on_conflict,
)
from controllers.kubernetes.fake import FakeKubeClient
from controllers.kubernetes.mirror import write_status

THINGS = Resource("example.dev", "v1", "Thing", "things")


def test_stale_resource_version_is_a_conflict_and_status_is_a_subresource() -> None:
    kube = FakeKubeClient([THINGS])
    created = kube.create(THINGS, {"metadata": {"name": "a"}, "spec": {"n": 1}}, "ns")
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    with pytest.raises(AlreadyExistsError):
        kube.create(THINGS, {"metadata": {"name": "a"}}, "ns")
    version = created["metadata"]["resourceVersion"]
    updated = kube.patch(
        THINGS, "a", {"metadata": {"resourceVersion": version}, "spec": {"n": 2}, "status": {"x": 1}}, "ns"
    )
    assert updated["spec"] == {"n": 2} and "status" not in updated and updated["metadata"]["generation"] == 2
    with pytest.raises(ConflictError):
        kube.patch_status(THINGS, "a", {"metadata": {"resourceVersion": version}, "status": {"x": 1}}, "ns")
    done = kube.patch_status(THINGS, "a", {"status": {"x": 1}, "spec": {"n": 9}}, "ns")
    assert done["status"] == {"x": 1} and done["spec"] == {"n": 2} and done["metadata"]["generation"] == 2


def test_write_status_retries_conflicts_until_it_lands() -> None:
    kube = FakeKubeClient([THINGS])
    kube.create(THINGS, {"metadata": {"name": "a"}, "status": {"old": True, "keep": 1}}, "ns")
    kube.conflicts_to_inject = 3
    written = write_status(kube, THINGS, "a", "ns", {"keep": 2, "new": "yes"})
    assert written is not None and written["status"] == {"keep": 2, "new": "yes"}  # `old` removed
    assert sum(1 for verb, _, _ in kube.calls if verb == "patch_status") == 4  # 3 conflicts, then success
    kube.conflicts_to_inject = 100
    with pytest.raises(ConflictError):
        retry_on_conflict(
            lambda: write_status(kube, THINGS, "a", "ns", {"keep": 3}), attempts=3, backoff=0.001
        )


def test_concurrent_writers_lose_no_update() -> None:
    """Ten threads add one key each to the same object's status, each by read-modify-conditional-write."""
    kube = FakeKubeClient([THINGS])
    kube.create(THINGS, {"metadata": {"name": "a"}, "status": {}}, "ns")

    def add(key: str) -> None:
        def attempt() -> object:
            current = kube.get(THINGS, "a", "ns")
            status = {**current.get("status", {}), key: True}
            return kube.patch_status(
                THINGS,
                "a",
                {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}, "status": status},
                "ns",
            )

        retry_on_conflict(attempt, attempts=50, backoff=0.001)

    threads = [threading.Thread(target=add, args=(f"k{i}",)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kube.get(THINGS, "a", "ns")["status"]) == sorted(f"k{i}" for i in range(10))


def test_delete_cascades_through_owner_references_and_watch_sees_it() -> None:
    kube = FakeKubeClient([THINGS])
    owner = kube.create(THINGS, {"metadata": {"name": "owner"}}, "ns")
    kube.create(JOBS, {"metadata": {"name": "job", "ownerReferences": [owner_reference(owner)]}}, "ns")
    _, version = kube.list(THINGS, "ns")
    kube.delete(THINGS, "owner", "ns")
    with pytest.raises(NotFoundError):
        kube.get(JOBS, "job", "ns")
    events = list(kube.watch(THINGS, "ns", version, timeout_seconds=1))
    assert [e.type for e in events] == ["DELETED"]
