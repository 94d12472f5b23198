"""Leader election on a coordination.k8s.io/v1 Lease, so that only one of several operator replicas acts.

client-go's rules, in short: the lease names its holder and a duration. A candidate takes a lease that is
free, or whose record has not changed for `lease_seconds` as seen by the candidate's own clock (so clocks
need not agree across nodes), by a conditional update carrying the resourceVersion it read: of two
candidates only one write succeeds (409 for the other). The holder renews every `renew_seconds`; if it
cannot renew for `lease_seconds` it counts itself as no longer leader (`lost` is set) and must stop acting
before another replica may take over. On a clean shutdown the holder releases the lease (empty holder).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from controllers.kubernetes.client import (
    LEASES,
    AlreadyExistsError,
    ConflictError,
    KubeClient,
    KubeError,
    NotFoundError,
)

log = logging.getLogger("tuner.operator")


def micro_time() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """See the module docstring. `run` blocks until leader (True) or until `stop` is set (False)."""

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_seconds: float = 15.0,
        renew_seconds: float = 5.0,
        retry_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.leading = threading.Event()
        self.lost = threading.Event()
        self._observed: tuple[str, float] | None = None  # (resourceVersion, when we first saw it)
        self._last_renewal = 0.0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def try_acquire_or_renew(self) -> bool:
        """One attempt; True when this candidate holds the lease afterwards."""
        now = self.clock()
        try:
            lease = self.client.get(LEASES, self.name, self.namespace)
        except NotFoundError:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name},
                "spec": self._spec(acquire=True, transitions=0),
            }
            try:
                self.client.create(LEASES, body, self.namespace)
            except (AlreadyExistsError, ConflictError):
                return False
            self._last_renewal = now
            return True
        spec = lease.get("spec") or {}
        version = lease["metadata"]["resourceVersion"]
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, now)
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.lease_seconds)
        mine = holder == self.identity
        expired = not holder or now - self._observed[1] >= duration
        if not mine and not expired:
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        new_spec = self._spec(acquire=not mine, transitions=transitions)
        if mine:
            new_spec["acquireTime"] = spec.get("acquireTime") or new_spec["acquireTime"]
        try:
            updated = self.client.patch(
                LEASES,
                self.name,
                {"metadata": {"resourceVersion": version}, "spec": new_spec},
                self.namespace,
            )
        except (ConflictError, NotFoundError):
            return False
        self._observed = (updated["metadata"]["resourceVersion"], now)
        self._last_renewal = now
        return True

    def _spec(self, acquire: bool, transitions: int) -> dict[str, object]:
        now = micro_time()
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_seconds),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    def acquire(self, stop: threading.Event) -> bool:
        """Block until this candidate leads (True), or `stop` is set (False); then keep renewing in a thread."""
        while not stop.is_set():
            try:
                if self.try_acquire_or_renew():
                    self.leading.set()
                    log.info(
                        "became the leader",
                        extra={"lease": f"{self.namespace}/{self.name}", "identity": self.identity},
                    )
                    self._thread = threading.Thread(
                        target=self._renew_loop, name="lease-renewal", daemon=True
                    )
                    self._thread.start()
                    return True
            except KubeError as exc:
                log.warning("leader election failed; trying again", extra={"error": str(exc)})
            stop.wait(self.retry_seconds)
        return False

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_seconds):
            try:
                renewed = self.try_acquire_or_renew()
            except KubeError as exc:
                log.warning("renewing the lease failed", extra={"error": str(exc)})
                renewed = False
            if not renewed and self.clock() - self._last_renewal >= self.lease_seconds * 2 / 3:
                self.leading.clear()
                self.lost.set()
                log.error("lost the leadership lease", extra={"lease": f"{self.namespace}/{self.name}"})
                return

    def release(self) -> None:
        """Stop renewing and hand the lease back (an empty holder), if this candidate holds it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if not self.leading.is_set():
            return
        self.leading.clear()
        try:
            lease = self.client.get(LEASES, self.name, self.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                self.client.patch(
                    LEASES,
                    self.name,
                    {
                        "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
                        "spec": {"holderIdentity": "", "leaseDurationSeconds": 1},
                    },
                    self.namespace,
                )
        except KubeError as exc:
            log.warning("releasing the lease failed", extra={"error": str(exc)})
